//! Part of step 5, **generate**: a vendor's `vendor.toml` compiled into typed Rust, the
//! `balance` module of its client crate.
//!
//! The description's pointers (rows, currency field, amounts, availability, success
//! envelope) become field accesses on the progenitor types of the balance operation's
//! response, named as typify names them, so rustc checks the description against the typed
//! client: an amount that is not `balances_runtime::ExactDecimal` does not compile. What a
//! row is counted in (a region's currency, a unit, a key's denomination), exact scaling and
//! errors stay in the facade, generic over every vendor.

use std::fmt::Write as _;

use balances_registry::spend::{PeriodParameter, SpendReport, TimeFormat};
use balances_registry::{AmountSource, BalanceMapping, Denomination, Rows, VendorEntry};
use heck::{ToPascalCase, ToSnakeCase};
use openapiv3::{OpenAPI, ReferenceOr};
use typify::{Type, TypeDetails, TypeSpace};

use super::error::{JsonPath, SpecProblem};

/// The `balance` module for `entry`'s balance operation, as Rust source.
pub fn balance_module(
    space: &TypeSpace,
    spec: &OpenAPI,
    entry: &VendorEntry,
) -> Result<String, SpecProblem> {
    let mapping = &entry.description.balance;
    let problem = |message: String| SpecProblem::new(operation_path(entry), message);
    let operation = find_operation(spec, &mapping.operation)
        .ok_or_else(|| problem(format!("no operation `{}`", mapping.operation)))?;
    let response_name = success_type_name(operation, &mapping.operation)
        .ok_or_else(|| problem("the balance operation has no JSON success response".into()))?;
    find_type(space, &response_name)
        .ok_or_else(|| problem(format!("progenitor generated no type `{response_name}`")))?;
    let body_name = request_body_type_name(operation, &mapping.operation);
    if let Some(body) = &body_name {
        find_type(space, body)
            .ok_or_else(|| problem(format!("progenitor generated no type `{body}`")))?;
    }
    // The request's constants (describe.rs refuses any other required parameter): each
    // goes through the builder method progenitor names after it.
    let fixed: Vec<&balances_registry::FixedParameter> = entry
        .request
        .headers
        .iter()
        .chain(&entry.request.query)
        .collect();
    // What the description gives besides constants: a spend report's period and cursor,
    // the account's path parameters.
    let mut provided = super::spend::provided_parameters(mapping);
    provided.extend(
        entry
            .description
            .account_parameters
            .iter()
            .map(String::as_str),
    );
    if let Some(parameter) = operation.parameters.iter().find_map(|p| match p {
        ReferenceOr::Item(parameter)
            if parameter.parameter_data_ref().required
                && !provided.contains(&parameter.parameter_data_ref().name.as_str())
                && !fixed
                    .iter()
                    .any(|f| f.name == parameter.parameter_data_ref().name) =>
        {
            Some(parameter.parameter_data_ref().name.clone())
        }
        _ => None,
    }) {
        return Err(problem(format!(
            "the balance operation requires the parameter `{parameter}`, which no description \
             key provides"
        )));
    }
    let constants: String = fixed
        .iter()
        .map(|f| format!(".{}({:?})", sanitize(&f.name, Case::Snake), f.value))
        .collect();
    let account_parameters = account_parameter_setters(&entry.description.account_parameters);

    let walker = Walker { space };
    let project = walker
        .project_fn(&response_name, mapping)
        .map_err(|message| problem(format!("vendor.toml `balance`: {message}")))?;
    let method = sanitize(&mapping.operation, Case::Snake);
    let further = further_calls(&walker, spec, entry).map_err(problem)?;
    // A body the auth scheme signed goes in as the operation's body type; without one,
    // progenitor sends the body builder's default (every member left out: `{}`).
    let with_body = match &body_name {
        Some(body) => format!(
            "if call.body.is_some() {{\n\
                 request = match call.body::<super::types::{body}>() {{\n\
                     Ok(body) => request.body(body),\n\
                     Err(reason) => return balances_runtime::Sent::NotSent(reason),\n\
                 }};\n\
             }}\n"
        ),
        None => String::new(),
    };
    let binding = if with_body.is_empty() {
        "let"
    } else {
        "let mut"
    };
    let fetch = match &mapping.spend {
        Some(spend)
            if with_body.is_empty()
                && account_parameters.is_empty()
                && entry.operations.is_empty() =>
        {
            spend_fetch(&method, &constants, spend)
        }
        Some(_) => {
            return Err(problem(
                "a spend report's operation is sent with no request body, no account \
                 parameters and no further operations"
                    .into(),
            ));
        }
        None => format!(
            "let client = super::Client::new_with_client(
                call.base_url,
                call.http.clone(),
                call.context.clone(),
            );
            {binding} request = client.{method}(){constants}{account_parameters};
            {with_body}let result = request.send().await;
            {send_further}",
            send_further = further.send,
        ),
    };
    Ok(format!(
        r#"
/// The balance operation of `specs/{id}/vendor.toml`, compiled by `{command}`: the typed call
/// and the projection of its response into rows of exact amounts, which the `balances`
/// facade normalizes.
pub mod balance {{
    use balances_runtime::projection as p;

    /// The vendor's binding, listed by the `balances-vendors` crate.
    pub const BINDING: balances_runtime::Binding = balances_runtime::Binding {{
        vendor: "{id}",
        operation: "{operation}",
        fetch,
        decode,
        further: &[{further_bindings}],
    }};

    /// Sends `{operation}` through this crate's [`Client`](super::Client) with the call's
    /// context (auth headers, a request signer) and the parameters its spec fixes, and
    /// projects the response.
    pub fn fetch(call: balances_runtime::Call<'_>) -> balances_runtime::Pending<'_> {{
        Box::pin(async move {{
            {fetch}
        }})
    }}

    /// Decodes a success body of `{operation}` into [`super::types::{response_name}`] and
    /// projects it.
    pub fn decode(body: &[u8]) -> Result<p::Projection, p::Failure> {{
        p::decode(body, project)
    }}

{project}
{further_functions}}}
"#,
        further_bindings = further.bindings,
        further_functions = further.functions,
        id = entry.id,
        command = super::generate::COMMAND,
        operation = mapping.operation,
    ))
}

/// The builder calls that put the account's path parameters (`account_parameters`) into
/// the request; a missing one ends the call before anything is sent.
fn account_parameter_setters(names: &[String]) -> String {
    names
        .iter()
        .map(|name| {
            format!(
                "\n.{}(match call.parameter({name:?}) {{\n\
                     Ok(value) => value,\n\
                     Err(reason) => return balances_runtime::Sent::NotSent(reason),\n\
                 }})",
                sanitize(name, Case::Snake)
            )
        })
        .collect()
}

/// The body of a spend report's `fetch`: every page of the report over the call's period,
/// each request with the period's parameters, the constants and (after the first) the
/// cursor the previous page named, combined by `balances_runtime::pages::paginate`.
fn spend_fetch(method: &str, constants: &str, spend: &SpendReport) -> String {
    let instant = |parameter: &PeriodParameter, end: &str| {
        let value = match parameter.format {
            TimeFormat::Rfc3339 => format!("period.{end}_rfc3339()"),
            _ => format!("period.{end}_unix_seconds()"),
        };
        format!(".{}({value})", sanitize(&parameter.name, Case::Snake))
    };
    let mut parameters = instant(&spend.start, "start");
    if let Some(end) = &spend.end {
        parameters.push_str(&instant(end, "end"));
    }
    for (name, value) in &spend.query {
        parameters.push_str(&format!(".{}({value:?})", sanitize(name, Case::Snake)));
    }
    format!(
        "let Some(period) = call.period else {{
                return balances_runtime::Sent::NotSent(
                    \"a spend report is asked for a period, and the call has none\".into(),
                );
            }};
            let client = super::Client::new_with_client(
                call.base_url,
                call.http.clone(),
                call.context.clone(),
            );
            let (client, context) = (&client, &call.context);
            balances_runtime::pages::paginate(period, {max}, move |cursor: Option<String>| {{
                let mut request = client.{method}(){constants}{parameters};
                if let Some(cursor) = cursor {{
                    request = request.{page}(cursor);
                }}
                async move {{ balances_runtime::Sent::of(context, request.send().await, project) }}
            }})
            .await",
        max = spend.pages.max_pages,
        page = sanitize(&spend.pages.parameter, Case::Snake),
    )
}

fn operation_path(entry: &VendorEntry) -> String {
    JsonPath::root()
        .key("paths")
        .key(&entry.path)
        .key(&entry.method.to_ascii_lowercase())
        .to_string()
}

fn find_operation<'s>(spec: &'s OpenAPI, operation_id: &str) -> Option<&'s openapiv3::Operation> {
    spec.paths.paths.values().find_map(|item| {
        item.as_item()?
            .iter()
            .map(|(_, operation)| operation)
            .find(|operation| operation.operation_id.as_deref() == Some(operation_id))
    })
}

/// The name progenitor gives the success response's type: the component's, or
/// `<OperationId>Response` for an inline schema.
fn success_type_name(operation: &openapiv3::Operation, operation_id: &str) -> Option<String> {
    let schema = operation
        .responses
        .responses
        .iter()
        .find_map(|(status, response)| {
            let success = match status {
                openapiv3::StatusCode::Code(code) => (200..300).contains(code),
                openapiv3::StatusCode::Range(range) => *range == 2,
            };
            let response = response.as_item().filter(|_| success)?;
            response
                .content
                .iter()
                .find(|(media, _)| media.starts_with("application/json"))
                .and_then(|(_, media)| media.schema.clone())
        })?;
    Some(type_name_of(&schema, &format!("{operation_id}-response")))
}

/// The request body's type name, when the operation has a JSON body.
fn request_body_type_name(operation: &openapiv3::Operation, operation_id: &str) -> Option<String> {
    let body = operation.request_body.as_ref()?.as_item()?;
    let schema = body
        .content
        .iter()
        .find(|(media, _)| media.starts_with("application/json"))
        .and_then(|(_, media)| media.schema.clone())?;
    Some(type_name_of(&schema, &format!("{operation_id}-body")))
}

fn type_name_of(schema: &ReferenceOr<openapiv3::Schema>, inline_name: &str) -> String {
    match schema {
        ReferenceOr::Reference { reference } => sanitize(
            reference.rsplit('/').next().unwrap_or(reference),
            Case::Pascal,
        ),
        ReferenceOr::Item(_) => sanitize(inline_name, Case::Pascal),
    }
}

fn find_type<'s>(space: &'s TypeSpace, name: &str) -> Option<Type<'s>> {
    space.iter_types().find(|t| t.name() == name)
}

#[derive(Clone, Copy)]
enum Case {
    Pascal,
    Snake,
}

/// typify's and progenitor's rule for turning a name from the document into a Rust
/// identifier (`typify_impl::util::sanitize`, which is not public): the name's case changed
/// by `heck`, characters that cannot continue an identifier as `-` first, an `x` before a
/// leading character that cannot start one, `_` after a keyword. Every name it gives is
/// then looked up in the type space, so a divergence is a codegen error, not a wrong field.
fn sanitize(input: &str, case: Case) -> String {
    let to_case = |text: &str| match case {
        Case::Pascal => text.to_pascal_case(),
        Case::Snake => text.to_snake_case(),
    };
    let out = match input {
        "+1" => "plus1".to_owned(),
        "-1" => "minus1".to_owned(),
        _ => to_case(
            &input
                .replace('\'', "")
                .replace(|c: char| !unicode_ident::is_xid_continue(c), "-"),
        ),
    };
    let out = match out.chars().next() {
        None => to_case("x"),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("{}{out}", to_case("x")),
    };
    if typify::accept_as_ident(&out) {
        out
    } else {
        format!("{out}_")
    }
}

/// Where a walk through the type space is: the response type (named: typify's `Type` has
/// no id to keep) or a type reached from it.
#[derive(Clone)]
enum Pos {
    Named(String),
    Id(typify::TypeId),
}

/// How an expression reaches its value: a variable holding a `&T`, a place of type `T`
/// (only required fields so far), or an `Option<&T>` (after the first optional step).
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Reference,
    Place,
    Optional,
}

/// An expression reaching a value of the type at `target`.
struct Reached {
    expression: String,
    form: Form,
    target: Pos,
}

/// One step's code for each form of the expression it applies to (`{}` is the expression).
struct Step<'a> {
    reference: &'a str,
    place: &'a str,
    optional: &'a str,
    /// Whether the step can find nothing (an optional field, a map member).
    may_be_absent: bool,
}

impl Reached {
    /// The variable `variable`, a reference to a value of the type at `target`.
    fn from(variable: &str, target: Pos) -> Self {
        Self {
            expression: variable.to_owned(),
            form: Form::Reference,
            target,
        }
    }

    /// The expression as an `Option<&T>`.
    fn optional(&self) -> String {
        match self.form {
            Form::Reference => format!("Some({})", self.expression),
            Form::Place => format!("Some(&{})", self.expression),
            Form::Optional => self.expression.clone(),
        }
    }

    /// The expression as a `&T`, or a `p::Failure::Invalid(missing)` when it finds nothing.
    fn required(&self, missing: &str) -> String {
        match self.form {
            Form::Reference => self.expression.clone(),
            Form::Place => format!("&{}", self.expression),
            Form::Optional => format!(
                "{}.ok_or_else(|| p::Failure::Invalid({missing:?}.to_owned()))?",
                self.expression
            ),
        }
    }

    /// Whether the expression is always a value (so binding it needs no `let ... else`).
    fn always_present(&self) -> bool {
        self.form != Form::Optional
    }

    fn step(self, step: &Step<'_>, target: Pos) -> Self {
        let (template, form) = match self.form {
            Form::Optional => (step.optional, Form::Optional),
            Form::Reference => (step.reference, Form::Place),
            Form::Place => (step.place, Form::Place),
        };
        let form = if step.may_be_absent {
            Form::Optional
        } else {
            form
        };
        Reached {
            expression: template.replace("{}", &self.expression),
            form,
            target,
        }
    }
}

struct Walker<'s> {
    space: &'s TypeSpace,
}

impl<'s> Walker<'s> {
    fn ty(&self, pos: &Pos) -> Result<Type<'s>, String> {
        match pos {
            Pos::Named(name) => {
                find_type(self.space, name).ok_or_else(|| format!("no type `{name}`"))
            }
            Pos::Id(id) => self
                .space
                .get_type(id)
                .map_err(|e| format!("typify has no type for an id it gave: {e}")),
        }
    }

    /// Unwraps `Option`, `Box` and newtypes around `reached`.
    fn settle(&self, mut reached: Reached) -> Result<Reached, String> {
        loop {
            let target = self.ty(&reached.target)?;
            let (step, inner) = match target.details() {
                TypeDetails::Option(inner) => (
                    Step {
                        reference: "{}.as_ref()",
                        place: "{}.as_ref()",
                        optional: "{}.and_then(|v| v.as_ref())",
                        may_be_absent: true,
                    },
                    inner,
                ),
                TypeDetails::Box(inner) => (
                    Step {
                        reference: "(**{})",
                        place: "(*{})",
                        optional: "{}.map(|v| &**v)",
                        may_be_absent: false,
                    },
                    inner,
                ),
                TypeDetails::Newtype(newtype) => (
                    Step {
                        reference: "{}.0",
                        place: "{}.0",
                        optional: "{}.map(|v| &v.0)",
                        may_be_absent: false,
                    },
                    newtype.inner(),
                ),
                _ => return Ok(reached),
            };
            reached = reached.step(&step, Pos::Id(inner));
        }
    }

    /// Follows a JSON pointer from `start` (an `Option<&T>` expression).
    fn follow(&self, start: Reached, pointer: &str) -> Result<Reached, String> {
        let mut reached = self.settle(start)?;
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        for (index, segment) in segments.iter().enumerate() {
            let target = self.ty(&reached.target)?;
            let name = target.name();
            reached = match target.details() {
                TypeDetails::Struct(fields) => {
                    let field = sanitize(segment, Case::Snake);
                    let (_, id) = fields
                        .properties()
                        .find(|(name, _)| *name == field)
                        .ok_or_else(|| {
                            format!("`{pointer}`: `{name}` has no field for `{segment}`")
                        })?;
                    let (direct, optional) =
                        (format!("{{}}.{field}"), format!("{{}}.map(|v| &v.{field})"));
                    let step = Step {
                        reference: &direct,
                        place: &direct,
                        optional: &optional,
                        may_be_absent: false,
                    };
                    reached.step(&step, Pos::Id(id))
                }
                TypeDetails::Map(_, value) => {
                    let (direct, optional) = (
                        format!("{{}}.get({segment:?})"),
                        format!("{{}}.and_then(|v| v.get({segment:?}))"),
                    );
                    let step = Step {
                        reference: &direct,
                        place: &direct,
                        optional: &optional,
                        may_be_absent: true,
                    };
                    reached.step(&step, Pos::Id(value))
                }
                // An untyped part of the body: the rest of the pointer is read from the value.
                TypeDetails::Builtin("::serde_json::Value") => {
                    let rest: String = segments[index..]
                        .iter()
                        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
                        .collect();
                    let (direct, optional) = (
                        format!("{{}}.pointer({rest:?})"),
                        format!("{{}}.and_then(|v| v.pointer({rest:?}))"),
                    );
                    let step = Step {
                        reference: &direct,
                        place: &direct,
                        optional: &optional,
                        may_be_absent: true,
                    };
                    let target = reached.target.clone();
                    return Ok(reached.step(&step, target));
                }
                _ => {
                    return Err(format!(
                        "`{pointer}`: cannot go into `{segment}` of `{name}`, which is not an object"
                    ));
                }
            };
            reached = self.settle(reached)?;
        }
        Ok(reached)
    }

    fn project_fn(&self, response_name: &str, mapping: &BalanceMapping) -> Result<String, String> {
        let root = || Reached::from("body", Pos::Named(response_name.to_owned()));
        let mut code = String::new();
        for condition in &mapping.success {
            let reached = self.follow(root(), &condition.pointer)?;
            let literals = condition
                .equals
                .iter()
                .map(literal)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ");
            writeln!(
                code,
                "if !p::holds({}, &[{literals}]) {{ return Err(p::Failure::Envelope); }}",
                reached.optional()
            )
            .ok();
        }
        let available = match &mapping.available {
            Some(pointer) => format!("{}.copied()", self.follow(root(), pointer)?.optional()),
            None => "None".to_owned(),
        };
        writeln!(code, "let available = {available};").ok();
        writeln!(code, "let mut rows = Vec::new();").ok();
        match &mapping.rows {
            Rows::Object(pointer) => {
                let reached = self.follow(root(), pointer)?;
                let at = shown(pointer);
                writeln!(
                    code,
                    "let row = {};",
                    reached.required(&format!("the body has no `{at}`"))
                )
                .ok();
                let row = self.row(
                    &reached.target,
                    mapping,
                    &format!("{at:?}.to_owned()"),
                    None,
                )?;
                writeln!(code, "rows.push({row});").ok();
            }
            Rows::Array(pointer) => {
                let reached = self.follow(root(), pointer)?;
                let TypeDetails::Vec(item) = self.ty(&reached.target)?.details() else {
                    return Err(format!("rows: `{pointer}` is not an array"));
                };
                let item = self.settle(Reached::from("row", Pos::Id(item)))?;
                let at = shown(pointer);
                writeln!(
                    code,
                    "let items = {};\n\
                     for (index, row) in items.iter().enumerate() {{\n{}",
                    reached.required(&format!("`{pointer}` is not an array")),
                    bind_row(&item)
                )
                .ok();
                let row = self.row(
                    &item.target,
                    mapping,
                    &format!("format!(\"{at}[{{index}}]\")"),
                    None,
                )?;
                writeln!(code, "rows.push({row});\n}}").ok();
            }
            Rows::Nested(pointers) => {
                let mut current = root();
                let (mut at, mut levels) = (Vec::new(), 0);
                for (level, pointer) in pointers.iter().enumerate() {
                    let reached = self.follow(current, pointer)?;
                    let TypeDetails::Vec(item) = self.ty(&reached.target)?.details() else {
                        return Err(format!("rows: `{pointer}` is not an array"));
                    };
                    let item = self.settle(Reached::from("row", Pos::Id(item)))?;
                    writeln!(
                        code,
                        "let items{level} = {};\n\
                         for (index{level}, row) in items{level}.iter().enumerate() {{\n{}",
                        reached.required(&format!("`{pointer}` is not an array")),
                        bind_row(&item)
                    )
                    .ok();
                    at.push(format!("{}[{{index{level}}}]", shown(pointer)));
                    levels += 1;
                    current = Reached::from("row", item.target.clone());
                }
                let row = self.row(
                    &current.target,
                    mapping,
                    &format!("format!(\"{}\")", at.join(".")),
                    None,
                )?;
                writeln!(code, "rows.push({row});\n{}", "}".repeat(levels)).ok();
            }
            Rows::Map(pointer) => {
                let reached = self.follow(root(), pointer)?;
                let at = shown(pointer);
                let missing = format!("`{pointer}` is not an object");
                match self.ty(&reached.target)?.details() {
                    // A map of named members: one row per key the description names; a
                    // null or absent member is a balance the vendor does not report.
                    TypeDetails::Struct(_) => {
                        let Denomination::ByKey(keys) = &mapping.denomination else {
                            return Err("rows: a map of named members needs `denomination = { by_key = ... }`".into());
                        };
                        writeln!(code, "let members = {};", reached.required(&missing)).ok();
                        for key in keys.keys() {
                            let member = self.follow(
                                Reached::from("members", reached.target.clone()),
                                &format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                            )?;
                            let row = self.row(
                                &member.target,
                                mapping,
                                &format!("{:?}.to_owned()", format!("{at}.{key}")),
                                Some(&format!("{key:?}.to_owned()")),
                            )?;
                            writeln!(
                                code,
                                "if let Some(row) = {} {{ rows.push({row}); }}",
                                member.optional()
                            )
                            .ok();
                        }
                    }
                    TypeDetails::Map(_, value) => {
                        let value = self.settle(Reached::from("row", Pos::Id(value)))?;
                        writeln!(
                            code,
                            "let members = {};\n\
                             for (key, row) in members.iter() {{\n{}",
                            reached.required(&missing),
                            bind_row(&value)
                        )
                        .ok();
                        let row = self.row(
                            &value.target,
                            mapping,
                            &format!("format!(\"{at}.{{key}}\")"),
                            Some("key.to_string()"),
                        )?;
                        writeln!(code, "rows.push({row});\n}}").ok();
                    }
                    _ => return Err(format!("rows: `{pointer}` is not an object")),
                }
            }
            other => {
                return Err(format!(
                    "rows: {other:?} is not supported by this generator"
                ));
            }
        }
        let next_page = match &mapping.spend {
            Some(spend) => {
                let more = self.follow(root(), &spend.pages.more)?.optional();
                let cursor = self.follow(root(), &spend.pages.cursor)?.optional();
                format!(
                    "let next_page = if {more}.copied() == Some(true) {{\n\
                         Some({cursor}.cloned().ok_or_else(|| p::Failure::Invalid(\n\
                             {message:?}.to_owned()))?)\n\
                     }} else {{ None }};\n",
                    message = format!(
                        "`{}` says another page follows and `{}` names none",
                        shown(&spend.pages.more),
                        shown(&spend.pages.cursor)
                    ),
                )
            }
            None => String::new(),
        };
        let projection = if mapping.spend.is_some() {
            "p::Projection::new(available, rows).with_next_page(next_page)"
        } else {
            "p::Projection::new(available, rows)"
        };
        Ok(format!(
            "    /// The rows, amounts, availability and success envelope of a response, as\n    \
             /// `vendor.toml` reads them.\n    \
             pub fn project(body: &super::types::{response_name}) -> Result<p::Projection, p::Failure> {{\n\
             {code}{next_page}Ok({projection})\n    }}"
        ))
    }

    /// An amount of the row at `row` (bound to the variable `row`; `projected.at` names it)
    /// as an `Option<Decimal>` expression.
    fn amount(&self, row: &Pos, source: &AmountSource) -> Result<String, String> {
        let exact = |pointer: &str| -> Result<String, String> {
            Ok(format!(
                "{}.map(p::exact)",
                self.follow(Reached::from("row", row.clone()), pointer)?
                    .optional()
            ))
        };
        let named = |pointer: &str| -> Result<String, String> {
            Ok(format!("({:?}, {})", shown(pointer), exact(pointer)?))
        };
        let named_all = |pointers: &[String]| -> Result<String, String> {
            Ok(pointers
                .iter()
                .map(|pointer| named(pointer))
                .collect::<Result<Vec<_>, String>>()?
                .join(", "))
        };
        Ok(match source {
            AmountSource::At(pointer) => exact(pointer)?,
            AmountSource::FirstOf(pointers) => format!("p::first_of(&[{}])?", named_all(pointers)?),
            AmountSource::Difference {
                minus: [from, less],
            } => format!(
                "p::difference(&projected.at, {}, {})?",
                named(from)?,
                named(less)?
            ),
            AmountSource::Sum { sum } => {
                format!("p::sum(&projected.at, &[{}])?", named_all(sum)?)
            }
            AmountSource::Negated { negate } => format!("p::negate({})", self.amount(row, negate)?),
            // The further operation's amount is subtracted by the facade, which divides it.
            AmountSource::Less { from, .. } => {
                format!("p::present(&projected.at, {})?", named(from)?)
            }
            other => return Err(format!("{other:?} is not supported by this generator")),
        })
    }

    /// A `p::Row` expression for a row at `row`, bound to the variable `row`.
    fn row(
        &self,
        row: &Pos,
        mapping: &BalanceMapping,
        at: &str,
        key: Option<&str>,
    ) -> Result<String, String> {
        let start = || Reached::from("row", row.clone());
        let currency = match &mapping.denomination {
            Denomination::CurrencyField(pointer) => format!(
                "{}.map(ToString::to_string)",
                self.follow(start(), pointer)?.optional()
            ),
            _ => "None".to_owned(),
        };
        let amount = |source: &AmountSource| self.amount(row, source);
        let optional = |source: &Option<AmountSource>| match source {
            Some(source) => amount(source),
            None => Ok("None".to_owned()),
        };
        let unlimited = match &mapping.unlimited {
            Some(sentinel) => format!(
                "projected.unlimited = p::is_sentinel({}.map(p::exact), {:?});\n",
                self.follow(start(), &sentinel.pointer)?.optional(),
                sentinel.equals
            ),
            None => String::new(),
        };
        Ok(format!(
            "{{\n let mut projected = p::Row::at({at});\n\
             projected.key = {key};\n\
             projected.currency = {currency};\n\
             {unlimited}\
             projected.total = {total};\n\
             projected.granted = {granted};\n\
             projected.topped_up = {topped_up};\n\
             projected\n}}",
            key = key.map_or("None".to_owned(), |k| format!("Some({k})")),
            total = amount(&mapping.total)?,
            granted = optional(&mapping.granted)?,
            topped_up = optional(&mapping.topped_up)?,
        ))
    }
}

/// The code for the calls after the balance operation: what `fetch` does with the first
/// call's outcome, the `Further` entries of the binding, and each further operation's
/// `project_*` and `decode_*`.
struct FurtherCalls {
    send: String,
    bindings: String,
    functions: String,
}

fn further_calls(
    walker: &Walker<'_>,
    spec: &OpenAPI,
    entry: &VendorEntry,
) -> Result<FurtherCalls, String> {
    let first = "balances_runtime::Sent::of(&call.context, result, project)";
    if entry.operations.is_empty() {
        return Ok(FurtherCalls {
            send: first.to_owned(),
            bindings: String::new(),
            functions: String::new(),
        });
    }
    let mut send = format!(
        "// Each call in turn; the first that gives no projection is the result.\n\
         let (projection, exchange) = match {first}.projected() {{\n\
             Ok(projected) => projected,\n\
             Err(sent) => return sent,\n\
         }};\n"
    );
    let (mut bindings, mut functions, mut projected) = (String::new(), String::new(), Vec::new());
    for operation in &entry.operations {
        let name = &operation.operation;
        let pointer = entry
            .description
            .further_amounts()
            .find(|amount| &amount.operation == name)
            .map(|amount| &amount.pointer)
            .ok_or_else(|| format!("no amount names `{name}`"))?;
        let found = find_operation(spec, name).ok_or_else(|| format!("no operation `{name}`"))?;
        let response = success_type_name(found, name)
            .ok_or_else(|| format!("`{name}` has no JSON success response"))?;
        find_type(walker.space, &response)
            .ok_or_else(|| format!("progenitor generated no type `{response}`"))?;
        let snake = sanitize(name, Case::Snake);
        let reached =
            walker.follow(Reached::from("body", Pos::Named(response.clone())), pointer)?;
        let at = format!("{} of {name}", shown(pointer));
        write!(
            functions,
            "\n    /// The amount the balance takes from `{name}`'s response, as one row.\n    \
             pub fn project_{snake}(body: &super::types::{response}) -> Result<p::Projection, p::Failure> {{\n\
                 let mut row = p::Row::at({at:?});\n\
                 row.total = p::present(\"the body of {name}\", ({shown:?}, {value}.map(p::exact)))?;\n\
                 Ok(p::Projection::new(None, vec![row]))\n\
             }}\n\n    \
             /// Decodes a success body of `{name}` and projects it.\n    \
             pub fn decode_{snake}(body: &[u8]) -> Result<p::Projection, p::Failure> {{\n\
                 p::decode(body, project_{snake})\n\
             }}\n",
            shown = shown(pointer),
            value = reached.optional(),
        )
        .ok();
        write!(
            bindings,
            "balances_runtime::Further {{ operation: {name:?}, decode: decode_{snake} }},"
        )
        .ok();
        write!(
            send,
            "let result = client.{snake}().send().await;\n\
             let ({snake}, _) = match balances_runtime::Sent::of(&call.context, result, project_{snake}).projected() {{\n\
                 Ok(projected) => projected,\n\
                 Err(sent) => return sent,\n\
             }};\n"
        )
        .ok();
        projected.push(snake);
    }
    write!(
        send,
        "balances_runtime::Sent::Projected {{\n\
             projection: balances_runtime::further::subtract_from_totals(projection, &[{}]),\n\
             exchange,\n\
         }}",
        projected.join(", ")
    )
    .ok();
    Ok(FurtherCalls {
        send,
        bindings,
        functions,
    })
}

/// Rebinds `row` (an item or member) to the row itself, skipping a null one.
fn bind_row(row: &Reached) -> String {
    if row.always_present() && row.expression == "row" {
        String::new()
    } else if row.always_present() {
        format!("let row = &{};\n", row.expression)
    } else {
        format!("let Some(row) = {} else {{ continue }};\n", row.expression)
    }
}

/// A success condition's value as a `p::Literal`.
fn literal(value: &serde_json::Value) -> Result<String, String> {
    match value {
        serde_json::Value::String(text) => Ok(format!("p::Literal::Text({text:?})")),
        serde_json::Value::Bool(flag) => Ok(format!("p::Literal::Bool({flag})")),
        serde_json::Value::Number(number) => number
            .as_i64()
            .map(|n| format!("p::Literal::Integer({n})"))
            .ok_or_else(|| format!("success value {number} is not an integer")),
        other => Err(format!(
            "success value {other} is not a string, an integer or a boolean"
        )),
    }
}

/// `/balance_infos` as `balance_infos`, the body itself as `the body`.
fn shown(pointer: &str) -> String {
    match pointer.trim_start_matches('/') {
        "" => "the body".to_owned(),
        path => path.replace('/', "."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checklist-like operation under a team's path, compiled from a description that
    /// negates a sum and takes the team from the account.
    #[test]
    fn sums_negations_and_account_parameters_compile_to_runtime_calls() {
        let spec: OpenAPI = serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/teams/{team_id}/checklist": {"get": {
                "operationId": "getChecklist",
                "parameters": [{"name": "team_id", "in": "path", "required": true,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Checklist"}}}}}}}},
            "components": {"schemas": {"Checklist": {
                "type": "object",
                "required": ["stripe_balance"],
                "properties": {
                    "stripe_balance": {"type": "number", "format": "decimal"},
                    "recent": {"type": "number", "format": "decimal"},
                    "total": {"type": "object", "properties": {
                        "val": {"type": "string", "format": "decimal"}}}}}}}
        }))
        .expect("an OpenAPI document");
        let mut generator = progenitor::Generator::new(&super::super::generate::settings());
        generator
            .generate_tokens(&spec)
            .expect("progenitor generates");
        let description: balances_registry::Description = toml::from_str(
            r#"
            name = "T"
            base_url = "https://t.example"
            auth = { scheme = "prefixed", prefix = "Token" }
            account_parameters = ["team_id"]
            [balance]
            operation = "getChecklist"
            denomination = { currency = "USD" }
            total = { negate = { sum = ["/stripe_balance", "/recent"] } }
            granted = { negate = "/total/val" }
            "#,
        )
        .expect("a description");
        let entry = VendorEntry::compiled(
            "t",
            description,
            "GET",
            "/teams/{team_id}/checklist",
            Vec::new(),
        );
        let module =
            balance_module(generator.get_type_space(), &spec, &entry).expect("a balance module");
        let compact: String = module.split_whitespace().collect();
        for expected in [
            r#"projected.total=p::negate(p::sum(&projected.at,&[("stripe_balance",Some(&row.stripe_balance).map(p::exact)),("recent",row.recent.as_ref().map(p::exact))])?);"#,
            "projected.granted=p::negate(row.total.as_ref().map(|v|&v.val).and_then(|v|v.as_ref()).map(p::exact));",
        ] {
            assert!(compact.contains(expected), "{expected}\nin\n{module}");
        }
        assert!(
            compact.contains(r#".team_id(matchcall.parameter("team_id"){Ok(value)=>value,Err(reason)=>returnbalances_runtime::Sent::NotSent(reason),})"#),
            "{module}"
        );

        // Without `account_parameters` the path parameter is one no description key gives.
        let mut entry = entry;
        entry.description.account_parameters.clear();
        let refused = balance_module(generator.get_type_space(), &spec, &entry)
            .expect_err("team_id unprovided");
        assert!(refused.message.contains("`team_id`"), "{}", refused.message);
    }

    #[test]
    fn names_follow_typify() {
        for (input, case, expected) in [
            ("availableBalance", Case::Snake, "available_balance"),
            ("type", Case::Snake, "type_"),
            ("getUserBalance", Case::Snake, "get_user_balance"),
            (
                "getUserBalance-response",
                Case::Pascal,
                "GetUserBalanceResponse",
            ),
            ("user_info", Case::Pascal, "UserInfo"),
            ("1st", Case::Snake, "x1st"),
            ("-1", Case::Snake, "minus1"),
        ] {
            assert_eq!(sanitize(input, case), expected, "{input}");
        }
    }
}
