//! Schema shapes that real specs carry and typify rejects or mis-generates: `allOf`
//! "inheritance", lone `null` types, formats on objects, defaults and examples that do not
//! match their schema, integer bounds beyond 64 bits, and names that collide once they are
//! Rust identifiers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Number, Value, json};

use super::identifier_key;
use super::operations::components;
use super::walk::for_each_schema;
use crate::codegen::error::{JsonPath, SpecProblem};

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// Flattens `allOf` whose members are all plain objects (directly or through `$ref`) into
/// one object: the exporters' way of writing inheritance (`allOf: [{$ref: Base}, {properties:
/// ...}]`). typify merges such members itself, and panics (`a.reference.is_none()`) when a
/// property is defined by both sides, as when an extension narrows an inherited property.
/// Here a later member's definition of a property replaces an earlier one (what the author
/// of an extension means); `required` lists are joined. `allOf` with a union member is left
/// to typify.
pub fn all_of_inheritance(doc: &mut Value) -> Result<usize, SpecProblem> {
    let components = components(doc, "schemas");
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        // A single member (`allOf: [{$ref}]` beside `nullable`, as a null union is lowered)
        // is how 3.0 annotates a reference; typify keeps the referenced type for it.
        let Some(Value::Array(members)) = schema
            .get("allOf")
            .filter(|m| m.as_array().is_some_and(|m| m.len() > 1))
        else {
            return Ok(());
        };
        let mut seen = BTreeSet::new();
        let Some(flat) = flatten_members(members, &components, &mut seen) else {
            return Ok(());
        };
        schema.remove("allOf");
        let own = std::mem::take(schema);
        *schema = merge_objects(flat.into_iter().chain([own]));
        changed += 1;
        Ok(())
    })?;
    Ok(changed)
}

/// The names of the component schemas.
fn component_names(doc: &Value) -> Vec<String> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| schemas.keys().cloned().collect())
        .unwrap_or_default()
}

/// The members of an `allOf`, `$ref`s resolved and nested `allOf`s spliced in; `None` when
/// one of them is not a plain object (a union, a primitive, an unresolvable or cyclic ref).
fn flatten_members(
    members: &[Value],
    components: &Value,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<Map<String, Value>>> {
    let mut flat = Vec::new();
    for member in members {
        let mut member = member.as_object()?.clone();
        if let Some(reference) = member.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix(SCHEMA_REF_PREFIX)?.to_owned();
            if !seen.insert(name.clone()) {
                return None;
            }
            member = components.get(name.as_str())?.as_object()?.clone();
        }
        if let Some(Value::Array(nested)) = member.remove("allOf") {
            flat.extend(flatten_members(&nested, components, seen)?);
        }
        if !is_plain_object(&member) {
            return None;
        }
        flat.push(member);
    }
    Some(flat)
}

fn is_plain_object(schema: &Map<String, Value>) -> bool {
    let typed_object = match schema.get("type") {
        None => true,
        Some(kind) => kind == "object",
    };
    typed_object
        && ![
            "anyOf",
            "oneOf",
            "not",
            "discriminator",
            "$ref",
            "items",
            "enum",
        ]
        .iter()
        .any(|k| schema.contains_key(*k))
}

fn merge_objects(members: impl Iterator<Item = Map<String, Value>>) -> Map<String, Value> {
    let mut merged = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for mut member in members {
        if let Some(Value::Object(own)) = member.remove("properties") {
            properties.extend(own);
        }
        if let Some(Value::Array(names)) = member.remove("required") {
            for name in names {
                if !required.contains(&name) {
                    required.push(name);
                }
            }
        }
        // `additionalProperties: false` on a base forbids its extension's own properties:
        // the merged object takes the last member's setting that is a schema, if any.
        match member.remove("additionalProperties") {
            Some(Value::Bool(false)) | None => {}
            Some(other) => {
                merged.insert("additionalProperties".into(), other);
            }
        }
        member.remove("type");
        // Annotations of later members (the outer schema last) win.
        merged.extend(member);
    }
    merged.insert("type".into(), "object".into());
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    merged
}

/// Moves `nullable` from a component union or enum (`X: {anyOf: [..], nullable: true}`, as a
/// null member of a union is lowered) to every reference to it: typify names the non-null
/// inner type of such a component after the component itself, and defines it twice (E0428).
/// A component that admits null makes every use of it admit null, so the references say it.
pub fn nullable_component_unions(doc: &mut Value) -> Result<usize, SpecProblem> {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(0);
    };
    let mut targets = BTreeSet::new();
    for (name, schema) in schemas.iter_mut() {
        let Some(schema) = schema.as_object_mut() else {
            continue;
        };
        let named_inner_type = ["anyOf", "oneOf", "enum"]
            .iter()
            .any(|k| schema.contains_key(*k));
        if named_inner_type && schema.get("nullable") == Some(&Value::Bool(true)) {
            schema.remove("nullable");
            targets.insert(format!("{SCHEMA_REF_PREFIX}{name}"));
        }
    }
    if targets.is_empty() {
        return Ok(0);
    }
    nullable_refs(doc, &targets);
    Ok(targets.len())
}

/// Rewrites each `{$ref: X}` with X in `targets` as `{allOf: [{$ref: X}], nullable: true}`.
fn nullable_refs(value: &mut Value, targets: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            let points_at_target = map
                .get("$ref")
                .and_then(Value::as_str)
                .is_some_and(|r| targets.contains(r));
            if points_at_target {
                if let Some(reference) = map.remove("$ref") {
                    map.insert("allOf".into(), json!([{ "$ref": reference }]));
                    map.insert("nullable".into(), true.into());
                }
                return;
            }
            map.values_mut().for_each(|v| nullable_refs(v, targets));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| nullable_refs(v, targets)),
        _ => {}
    }
}

/// `enum: [null, "a", "b"]` becomes `enum: ["a", "b"]` with `nullable: true`: 3.0 says "or
/// null" with `nullable`, and typify cannot name a variant for null.
pub fn null_in_enums(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        let Some(Value::Array(values)) = schema.get_mut("enum") else {
            return Ok(());
        };
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() != before && !values.is_empty() {
            schema.insert("nullable".into(), true.into());
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// An enum whose values differ only in case or punctuation (`ASC`, `asc`) cannot get one
/// Rust variant per value, and typify panics ("Failed to make unique variant names"); it
/// becomes a plain string of its type, which accepts every value it listed.
pub fn enums_with_colliding_variant_names(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        let Some(Value::Array(values)) = schema.get("enum") else {
            return Ok(());
        };
        let mut keys = BTreeSet::new();
        let collides = values
            .iter()
            .filter_map(Value::as_str)
            .any(|value| !keys.insert(identifier_key(value)));
        if collides {
            schema.remove("enum");
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Removes `title`s that would name two types alike: typify names an inline schema after its
/// title, so an inline title equal to a component's name (`title: InterpreterOutput` inside
/// another schema), or one title on inline schemas that differ (`title: Object` on two
/// properties), defines a type twice or makes a default fail to match "its" type. Without
/// the title typify names the inline type after where it is. A component's title that only
/// repeats its own name is removed too: typify copies it when it merges the component.
pub fn titles_that_collide(doc: &mut Value) -> Result<usize, SpecProblem> {
    let names = component_names(doc);
    let components: BTreeSet<String> = names.iter().map(|name| identifier_key(name)).collect();
    let roots: BTreeSet<String> = names
        .iter()
        .map(|name| {
            JsonPath::root()
                .key("components")
                .key("schemas")
                .key(name)
                .to_string()
        })
        .collect();
    let is_component_root = |path: &JsonPath| roots.contains(path.as_str());
    let mut inline_titles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for_each_schema(doc, &mut |path, schema| {
        if let (false, Some(title)) = (
            is_component_root(path),
            schema.get("title").and_then(Value::as_str),
        ) {
            let mut content = schema.clone();
            content.remove("title");
            inline_titles
                .entry(identifier_key(title))
                .or_default()
                .insert(Value::Object(content).to_string());
        }
        Ok(())
    })?;
    let mut changed = 0;
    for_each_schema(doc, &mut |path, schema| {
        let Some(key) = schema
            .get("title")
            .and_then(Value::as_str)
            .map(identifier_key)
        else {
            return Ok(());
        };
        let collides = if is_component_root(path) {
            components.contains(&key)
        } else {
            components.contains(&key) || inline_titles.get(&key).is_some_and(|c| c.len() > 1)
        };
        if collides {
            schema.remove("title");
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Inlines `$ref`s that point inside a component (`#/components/schemas/Tag/allOf/0`,
/// `#/components/parameters/p/schema`): typify resolves references to whole component
/// schemas only ("unresolved reference", "$ref ... is missing"). The
/// target is copied in place; a target that is missing is left for validation to report.
pub fn references_into_schemas(doc: &mut Value) -> Result<usize, SpecProblem> {
    let snapshot = doc.clone();
    let mut changed = 0;
    inline_deep_refs(doc, &snapshot, &mut changed, 0);
    Ok(changed)
}

/// A local reference to something inside a component (`#/components/schemas/Tag/allOf/0`,
/// `#/components/parameters/p/schema`) rather than to a whole one.
fn is_deep_reference(reference: &str) -> bool {
    reference
        .strip_prefix("#/components/")
        .is_some_and(|rest| rest.split('/').count() > 2)
}

/// Deep refs inside an inlined target are inlined too, up to a depth that only a cycle
/// reaches.
fn inline_deep_refs(value: &mut Value, doc: &Value, changed: &mut usize, depth: usize) {
    const MAX_DEPTH: usize = 32;
    match value {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .filter(|r| is_deep_reference(r))
                .and_then(|r| doc.pointer(r.trim_start_matches('#')))
                .cloned();
            if let (Some(mut target), true) = (target, depth < MAX_DEPTH) {
                inline_deep_refs(&mut target, doc, changed, depth + 1);
                map.remove("$ref");
                if let Value::Object(target) = target {
                    for (key, value) in target {
                        map.entry(key).or_insert(value);
                    }
                }
                *changed += 1;
                return;
            }
            map.values_mut()
                .for_each(|v| inline_deep_refs(v, doc, changed, depth));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| inline_deep_refs(v, doc, changed, depth)),
        _ => {}
    }
}

/// Replaces a lone `type: null` (a property that is always null, outside any union) with a
/// nullable schema of any value: typify has no type for "only null".
pub fn lone_null_type(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        if schema.get("type").and_then(Value::as_str) == Some("null") {
            schema.remove("type");
            schema.remove("enum");
            schema.insert("nullable".into(), true.into());
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Removes `format` from objects, arrays and booleans (`type: object, format: json`): a
/// format only means something for strings and numbers, and typify rejects the schema.
pub fn format_on_structured_types(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        let structured = matches!(
            schema.get("type").and_then(Value::as_str),
            Some("object" | "array" | "boolean")
        );
        if structured && schema.remove("format").is_some() {
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Makes `default` and `example` match their schema's type: `"1024"` on an integer becomes
/// 1024, `"false"` on a boolean becomes `false`; a value that cannot be read as the type
/// (`default: null` on a non-nullable schema, `"auto"` on a number, a value outside the
/// `enum`) is dropped, and so is a default on a union or reference, which cannot be checked
/// here. utoipa and other exporters write defaults as strings; typify would refuse the schema.
pub fn defaults_and_examples_of_the_wrong_type(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        // typify checks a default against the type it generates; for a union, a reference
        // or a combination that is not something this pass can check, so it goes (only a
        // request builder's default value is lost).
        let unchecked = ["anyOf", "oneOf", "allOf", "$ref"]
            .iter()
            .any(|k| schema.contains_key(*k));
        if unchecked && schema.remove("default").is_some() {
            changed += 1;
        }
        let Some(kind) = schema
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Ok(());
        };
        if let (Some(Value::Array(allowed)), Some(default)) =
            (schema.get("enum"), schema.get("default"))
            && !allowed.contains(default)
        {
            schema.remove("default");
            changed += 1;
        }
        let nullable = schema.get("nullable") == Some(&Value::Bool(true));
        for key in ["default", "example"] {
            let Some(value) = schema.get(key) else {
                continue;
            };
            match coerce(value, &kind, nullable) {
                Coerced::Fits => {}
                Coerced::Into(fixed) => {
                    schema.insert(key.into(), fixed);
                    changed += 1;
                }
                Coerced::Drop => {
                    schema.remove(key);
                    changed += 1;
                }
            }
        }
        Ok(())
    })?;
    Ok(changed)
}

enum Coerced {
    Fits,
    Into(Value),
    Drop,
}

fn coerce(value: &Value, kind: &str, nullable: bool) -> Coerced {
    let fits = match (kind, value) {
        (_, Value::Null) => nullable,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_)) => true,
        _ => false,
    };
    if fits {
        return Coerced::Fits;
    }
    let converted = match (kind, value) {
        ("integer", Value::String(text)) => text.trim().parse::<i64>().ok().map(Value::from),
        ("integer", Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| Value::from(f as i64)),
        ("number", Value::String(text)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
        ("boolean", Value::String(text)) => match text.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        ("string", Value::Number(n)) => Some(Value::String(n.to_string())),
        ("string", Value::Bool(b)) => Some(Value::String(b.to_string())),
        _ => None,
    };
    converted.map_or(Coerced::Drop, Coerced::Into)
}

/// Integer bounds beyond 64 bits (`minimum: -9223372036854776000`, the float JavaScript
/// exporters print for `i64::MIN`) are dropped: an `i64` cannot go past them anyway, and
/// the OpenAPI model reads integer bounds as 64-bit integers. A fractional bound on an
/// integer is rounded inwards.
pub fn integer_bounds_beyond_64_bits(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        if schema.get("type").and_then(Value::as_str) != Some("integer") {
            return Ok(());
        }
        for (key, round_up) in [
            ("minimum", true),
            ("maximum", false),
            ("exclusiveMinimum", true),
            ("exclusiveMaximum", false),
            ("multipleOf", true),
        ] {
            let Some(Value::Number(bound)) = schema.get(key) else {
                continue;
            };
            if bound.is_i64()
                || bound.is_u64() && bound.as_u64().is_some_and(|u| u <= i64::MAX as u64)
            {
                continue;
            }
            let as_float = bound.as_f64().unwrap_or(f64::INFINITY);
            let rounded = if round_up {
                as_float.ceil()
            } else {
                as_float.floor()
            };
            // 2^63 as a float: anything at or past it is outside i64.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if rounded.is_finite() && rounded > -LIMIT && rounded < LIMIT {
                schema.insert(key.into(), json!(rounded as i64));
            } else {
                schema.remove(key);
            }
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Renames component schemas whose names become the same Rust type name (`user_info` and
/// `UserInfo`, `Foo-Bar` and `FooBar`), which would define one type twice (E0428). Names
/// are compared as typify turns them into identifiers, ignoring case and separators; the
/// second and later get a numeric suffix (`UserInfo2`), and every `$ref` follows.
pub fn schema_names_that_collide(doc: &mut Value) -> Result<usize, SpecProblem> {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(0);
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    let names: Vec<String> = schemas.keys().cloned().collect();
    let all_keys: BTreeSet<String> = names.iter().map(|n| identifier_key(n)).collect();
    for name in &names {
        let key = identifier_key(name);
        if taken.insert(key.clone()) {
            continue;
        }
        let renamed = (2..)
            .map(|n| format!("{name}{n}"))
            .find(|candidate| {
                let candidate_key = identifier_key(candidate);
                !taken.contains(&candidate_key) && !all_keys.contains(&candidate_key)
            })
            .unwrap_or_else(|| format!("{name}_"));
        taken.insert(identifier_key(&renamed));
        renames.insert(name.clone(), renamed);
    }
    if renames.is_empty() {
        return Ok(0);
    }
    for (old, new) in &renames {
        if let Some(schema) = schemas.remove(old) {
            schemas.insert(new.clone(), schema);
        }
    }
    let targets: BTreeMap<String, String> = renames
        .iter()
        .map(|(old, new)| {
            (
                format!("{SCHEMA_REF_PREFIX}{old}"),
                format!("{SCHEMA_REF_PREFIX}{new}"),
            )
        })
        .collect();
    super::openapi31::rewrite_refs(doc, &targets);
    Ok(renames.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> Value {
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
               "components": {"schemas": schemas}})
    }

    #[test]
    fn all_of_inheritance_merges_and_lets_the_extension_override() {
        let mut d = doc(json!({
            "Base": {"type": "object", "required": ["id"], "additionalProperties": false,
                     "properties": {"id": {"type": "string"}, "item": {"oneOf": [{"type": "string"}]}}},
            "Child": {"description": "kept", "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["item"], "properties": {"item": {"$ref": "#/components/schemas/Other"}}}
            ]},
            "Other": {"type": "string"}
        }));
        assert_eq!(all_of_inheritance(&mut d).unwrap(), 1);
        assert_eq!(
            d["components"]["schemas"]["Child"],
            json!({"description": "kept", "type": "object", "required": ["id", "item"],
                   "properties": {"id": {"type": "string"}, "item": {"$ref": "#/components/schemas/Other"}}})
        );
    }

    #[test]
    fn a_single_reference_keeps_its_type() {
        let mut d = doc(json!({
            "Owner": {"type": "object"},
            "X": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Owner"}]}
        }));
        assert_eq!(all_of_inheritance(&mut d).unwrap(), 0);
    }

    #[test]
    fn all_of_with_a_union_member_is_left_alone() {
        let mut d = doc(json!({
            "U": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "X": {"allOf": [{"$ref": "#/components/schemas/U"}, {"type": "object"}]}
        }));
        let before = d.clone();
        assert_eq!(all_of_inheritance(&mut d).unwrap(), 0);
        assert_eq!(d, before);
    }

    #[test]
    fn a_cyclic_all_of_is_left_alone() {
        let mut d = doc(json!({
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}]},
            "B": {"allOf": [{"$ref": "#/components/schemas/A"}]}
        }));
        assert_eq!(all_of_inheritance(&mut d).unwrap(), 0);
    }

    #[test]
    fn a_nullable_component_union_makes_its_references_nullable() {
        let mut d = doc(json!({
            "Cutoff": {"anyOf": [{"type": "number"}, {"type": "string"}], "nullable": true},
            "Plain": {"type": "string", "nullable": true},
            "Uses": {"type": "object", "properties": {
                "a": {"$ref": "#/components/schemas/Cutoff"},
                "b": {"$ref": "#/components/schemas/Plain"}}}
        }));
        assert_eq!(nullable_component_unions(&mut d).unwrap(), 1);
        let s = &d["components"]["schemas"];
        assert!(s["Cutoff"].get("nullable").is_none());
        assert_eq!(
            s["Uses"]["properties"]["a"],
            json!({"allOf": [{"$ref": "#/components/schemas/Cutoff"}], "nullable": true})
        );
        assert_eq!(
            s["Uses"]["properties"]["b"],
            json!({"$ref": "#/components/schemas/Plain"})
        );
    }

    #[test]
    fn null_leaves_an_enum_for_nullable() {
        let mut d = doc(json!({"Level": {"type": "string", "enum": [null, "info", "error"]}}));
        assert_eq!(null_in_enums(&mut d).unwrap(), 1);
        assert_eq!(
            d["components"]["schemas"]["Level"],
            json!({"type": "string", "enum": ["info", "error"], "nullable": true})
        );
    }

    #[test]
    fn an_enum_whose_values_collide_as_names_becomes_a_string() {
        let mut d = doc(json!({
            "Order": {"type": "string", "enum": ["ASC", "DESC", "asc", "desc"]},
            "Fine": {"type": "string", "enum": ["a", "b"]}
        }));
        assert_eq!(enums_with_colliding_variant_names(&mut d).unwrap(), 1);
        assert_eq!(
            d["components"]["schemas"]["Order"],
            json!({"type": "string"})
        );
        assert_eq!(
            d["components"]["schemas"]["Fine"]["enum"],
            json!(["a", "b"])
        );
    }

    #[test]
    fn titles_that_would_name_two_types_alike_are_removed() {
        let mut d = doc(json!({
            "InterpreterOutput": {"type": "object", "title": "InterpreterOutput"},
            "User--Mini": {"type": "object", "title": "User (Mini)"},
            "Kept": {"type": "object", "title": "A nice name"},
            "Batch": {"type": "object", "properties": {
                "object": {"type": "string", "enum": ["batch"], "title": "Object"},
                "output": {"type": "object", "title": "InterpreterOutput"},
                "unique": {"type": "string", "title": "Unique"}}},
            "List": {"type": "object", "properties": {
                "object": {"type": "string", "enum": ["list"], "title": "Object"}}}
        }));
        assert_eq!(titles_that_collide(&mut d).unwrap(), 5);
        let s = &d["components"]["schemas"];
        assert!(s["InterpreterOutput"].get("title").is_none());
        assert!(s["User--Mini"].get("title").is_none());
        assert_eq!(s["Kept"]["title"], "A nice name");
        assert!(s["Batch"]["properties"]["object"].get("title").is_none());
        assert!(s["Batch"]["properties"]["output"].get("title").is_none());
        assert_eq!(s["Batch"]["properties"]["unique"]["title"], "Unique");
        assert!(s["List"]["properties"]["object"].get("title").is_none());
    }

    #[test]
    fn a_lone_null_becomes_a_nullable_any() {
        let mut d = doc(json!({"T": {"type": "object", "properties": {
            "gone": {"type": "null", "description": "always null"}}}}));
        assert_eq!(lone_null_type(&mut d).unwrap(), 1);
        assert_eq!(
            d["components"]["schemas"]["T"]["properties"]["gone"],
            json!({"nullable": true, "description": "always null"})
        );
    }

    #[test]
    fn format_is_removed_from_objects_only() {
        let mut d = doc(json!({
            "O": {"type": "object", "format": "json"},
            "S": {"type": "string", "format": "date-time"}
        }));
        assert_eq!(format_on_structured_types(&mut d).unwrap(), 1);
        assert_eq!(d["components"]["schemas"]["O"], json!({"type": "object"}));
        assert_eq!(d["components"]["schemas"]["S"]["format"], "date-time");
    }

    #[test]
    fn defaults_are_converted_or_dropped() {
        let mut d = doc(json!({
            "I": {"type": "integer", "default": "1024", "example": "many"},
            "B": {"type": "boolean", "default": "false"},
            "N": {"type": "string", "default": null},
            "M": {"type": "string", "nullable": true, "default": null},
            "F": {"type": "number", "default": "0.5"},
            "OK": {"type": "integer", "default": 3}
        }));
        assert_eq!(defaults_and_examples_of_the_wrong_type(&mut d).unwrap(), 5);
        let s = &d["components"]["schemas"];
        assert_eq!(s["I"], json!({"type": "integer", "default": 1024}));
        assert_eq!(s["B"]["default"], json!(false));
        assert_eq!(s["N"], json!({"type": "string"}));
        assert_eq!(s["M"]["default"], Value::Null);
        assert_eq!(s["F"]["default"], json!(0.5));
        assert_eq!(s["OK"]["default"], json!(3));
    }

    #[test]
    fn defaults_of_unions_and_outside_the_enum_are_dropped() {
        let mut d = doc(json!({
            "U": {"anyOf": [{"type": "string"}, {"type": "string", "enum": ["x"]}], "default": "x"},
            "E": {"type": "string", "enum": ["a"], "default": "b"},
            "K": {"type": "string", "enum": ["a"], "default": "a"}
        }));
        assert_eq!(defaults_and_examples_of_the_wrong_type(&mut d).unwrap(), 2);
        let s = &d["components"]["schemas"];
        assert!(s["U"].get("default").is_none());
        assert!(s["E"].get("default").is_none());
        assert_eq!(s["K"]["default"], "a");
    }

    #[test]
    fn references_into_a_schema_are_inlined() {
        let mut d = doc(json!({
            "Tag": {"allOf": [{"type": "object", "properties": {"id": {"type": "string"}}}]},
            "Uses": {"type": "object", "properties": {
                "tag": {"$ref": "#/components/schemas/Tag/allOf/0"},
                "whole": {"$ref": "#/components/schemas/Tag"}}}
        }));
        assert_eq!(references_into_schemas(&mut d).unwrap(), 1);
        let uses = &d["components"]["schemas"]["Uses"]["properties"];
        assert_eq!(
            uses["tag"],
            json!({"type": "object", "properties": {"id": {"type": "string"}}})
        );
        assert_eq!(uses["whole"]["$ref"], "#/components/schemas/Tag");
    }

    #[test]
    fn integer_bounds_past_i64_are_dropped_and_fractions_rounded_inwards() {
        let mut d = doc(json!({
            "Wide": {"type": "integer", "minimum": -9223372036854776000.0_f64, "maximum": 1.0e19},
            "Frac": {"type": "integer", "minimum": 0.5, "maximum": 9.5},
            "Fine": {"type": "integer", "minimum": -5}
        }));
        assert_eq!(integer_bounds_beyond_64_bits(&mut d).unwrap(), 4);
        let s = &d["components"]["schemas"];
        assert_eq!(s["Wide"], json!({"type": "integer"}));
        assert_eq!(
            s["Frac"],
            json!({"type": "integer", "minimum": 1, "maximum": 9})
        );
        assert_eq!(s["Fine"]["minimum"], json!(-5));
    }

    #[test]
    fn colliding_names_get_a_suffix_and_refs_follow() {
        let mut d = doc(json!({
            "UserInfo": {"type": "string"},
            "user_info": {"type": "integer"},
            "UserInfo2": {"type": "boolean"},
            "Holder": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/user_info"}}}
        }));
        assert_eq!(schema_names_that_collide(&mut d).unwrap(), 1);
        let s = &d["components"]["schemas"];
        assert!(s.get("user_info").is_none());
        assert_eq!(s["user_info3"], json!({"type": "integer"}));
        assert_eq!(
            s["Holder"]["properties"]["a"]["$ref"],
            "#/components/schemas/user_info3"
        );
    }
}
