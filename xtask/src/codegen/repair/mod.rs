//! Step 2, **repair**: generic, vendor-neutral passes over what real-world exporters emit and
//! progenitor rejects or mis-generates.
//!
//! Each pass is one function named for the quirk it repairs, never for a vendor; it returns how
//! many places it changed, so the pipeline can report which passes a spec needed. A construct
//! that cannot be expressed for progenitor is a [`SpecProblem`] naming its JSON path.
//! What only a person can decide for one vendor belongs in that vendor's `overlay.yaml`.

mod component_references;
mod conditionals;
mod enum_subsets;
mod exporter;
mod openapi31;
mod operations;
mod parameter_schemas;
mod raw_bodies;
mod request_methods;
mod responses;
mod schemas;
mod type_names;
mod upgrade_responses;
pub mod walk;

pub use operations::OMITTED_OPERATIONS;

use serde_json::Value;

use super::error::SpecProblem;

/// What distinguishes two names once progenitor and typify make Rust identifiers of them:
/// their letters and digits, ignoring case (`user_info`, `UserInfo` and `User-Info` collide).
pub fn identifier_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One repair pass.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    pub name: &'static str,
    pub run: fn(&mut Value) -> Result<usize, SpecProblem>,
}

/// All passes, in the order they run. Order matters where one pass produces what another
/// consumes: 3.1 constructs are lowered before schemas are compared, operationIds exist
/// before response bodies are hoisted into components named after them, and responses are
/// opened last, once every body they reach is in place.
pub const PASSES: &[Pass] = &[
    Pass {
        name: "strip_exporter_extensions",
        run: exporter::strip_exporter_extensions,
    },
    Pass {
        name: "bearer_security_scheme_type",
        run: exporter::bearer_security_scheme_type,
    },
    Pass {
        name: "downgrade_openapi_31_document",
        run: openapi31::downgrade_openapi_31_document,
    },
    Pass {
        name: "references_into_schemas",
        run: schemas::references_into_schemas,
    },
    Pass {
        name: "references_to_another_kind_of_component",
        run: component_references::references_to_another_kind_of_component,
    },
    Pass {
        name: "hoisted_defs",
        run: openapi31::hoisted_defs,
    },
    Pass {
        name: "conditional_schemas",
        run: conditionals::conditional_schemas,
    },
    Pass {
        name: "unsupported_schema_keywords",
        run: openapi31::unsupported_schema_keywords,
    },
    Pass {
        name: "type_arrays",
        run: openapi31::type_arrays,
    },
    Pass {
        name: "null_members_of_unions",
        run: openapi31::null_members_of_unions,
    },
    Pass {
        name: "lone_null_type",
        run: schemas::lone_null_type,
    },
    Pass {
        name: "null_in_enums",
        run: schemas::null_in_enums,
    },
    Pass {
        name: "nullable_component_unions",
        run: schemas::nullable_component_unions,
    },
    Pass {
        name: "numeric_exclusive_bounds",
        run: openapi31::numeric_exclusive_bounds,
    },
    Pass {
        name: "const_to_enum",
        run: openapi31::const_to_enum,
    },
    Pass {
        name: "schema_examples_array",
        run: openapi31::schema_examples_array,
    },
    Pass {
        name: "ref_siblings",
        run: openapi31::ref_siblings,
    },
    Pass {
        name: "enums_narrowing_a_referenced_enum",
        run: enum_subsets::enums_narrowing_a_referenced_enum,
    },
    Pass {
        name: "all_of_inheritance",
        run: schemas::all_of_inheritance,
    },
    Pass {
        name: "format_on_structured_types",
        run: schemas::format_on_structured_types,
    },
    Pass {
        name: "defaults_and_examples_of_the_wrong_type",
        run: schemas::defaults_and_examples_of_the_wrong_type,
    },
    Pass {
        name: "integer_bounds_beyond_64_bits",
        run: schemas::integer_bounds_beyond_64_bits,
    },
    Pass {
        name: "schema_names_that_collide",
        run: schemas::schema_names_that_collide,
    },
    Pass {
        name: "titles_that_collide",
        run: schemas::titles_that_collide,
    },
    Pass {
        name: "enums_with_colliding_variant_names",
        run: schemas::enums_with_colliding_variant_names,
    },
    Pass {
        name: "empty_titles",
        run: exporter::empty_titles,
    },
    Pass {
        name: "placeholder_defaults",
        run: exporter::placeholder_defaults,
    },
    Pass {
        name: "methods_reqwest_cannot_send",
        run: request_methods::methods_reqwest_cannot_send,
    },
    Pass {
        name: "path_parameters_not_in_template",
        run: operations::path_parameters_not_in_template,
    },
    Pass {
        name: "missing_or_duplicate_operation_ids",
        run: operations::missing_or_duplicate_operation_ids,
    },
    Pass {
        name: "undeclared_path_parameters",
        run: operations::undeclared_path_parameters,
    },
    Pass {
        name: "switching_protocols_responses",
        run: upgrade_responses::switching_protocols_responses,
    },
    Pass {
        name: "default_response_beside_success",
        run: operations::default_response_beside_success,
    },
    Pass {
        name: "request_body_media_types",
        run: operations::request_body_media_types,
    },
    Pass {
        name: "response_media_types",
        run: operations::response_media_types,
    },
    Pass {
        name: "request_bodies_progenitor_cannot_send",
        run: operations::request_bodies_progenitor_cannot_send,
    },
    Pass {
        name: "raw_request_body_schemas",
        run: raw_bodies::raw_request_body_schemas,
    },
    Pass {
        name: "nullable_headers",
        run: operations::nullable_headers,
    },
    Pass {
        name: "parameters_given_by_content",
        run: operations::parameters_given_by_content,
    },
    Pass {
        name: "parameter_unions_of_scalars",
        run: parameter_schemas::parameter_unions_of_scalars,
    },
    Pass {
        name: "cookie_parameters",
        run: parameter_schemas::cookie_parameters,
    },
    Pass {
        name: "parameters_progenitor_cannot_send",
        run: operations::parameters_progenitor_cannot_send,
    },
    Pass {
        name: "parameters_that_collide_as_identifiers",
        run: operations::parameters_that_collide_as_identifiers,
    },
    Pass {
        name: "differing_response_bodies",
        run: operations::differing_response_bodies,
    },
    Pass {
        name: "closed_response_objects",
        run: responses::closed_response_objects,
    },
    Pass {
        name: "closed_response_enums",
        run: responses::closed_response_enums,
    },
    // Last: every schema and operationId that names a type exists by now.
    Pass {
        name: "inline_types_named_like_components",
        run: type_names::inline_types_named_like_components,
    },
];

/// Which passes changed the document, and how many places each changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RepairReport {
    pub applied: Vec<(&'static str, usize)>,
}

impl RepairReport {
    pub fn pass_names(&self) -> Vec<&'static str> {
        self.applied.iter().map(|(name, _)| *name).collect()
    }
}

/// Runs every pass in order.
pub fn repair(doc: &mut Value) -> Result<RepairReport, SpecProblem> {
    let mut report = RepairReport::default();
    for pass in PASSES {
        let changes = (pass.run)(doc)?;
        if changes > 0 {
            report.applied.push((pass.name, changes));
        }
    }
    Ok(report)
}
