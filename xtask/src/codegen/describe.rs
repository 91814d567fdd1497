//! Step 6, **describe**: a vendor folder's `vendor.toml` (how the facade talks to the
//! vendor) and `examples/*.toml` (documented responses and the results a person wrote down),
//! checked against the vendor's repaired spec and compiled into a registry entry. Every
//! entry together is `crates/balances-registry/registry.json`.
//!
//! A mistake is an error naming the file and the key: an operation the spec does not have, a
//! pointer that is not in the operation's success response, a money field that is not a
//! string or a number or is not marked `format: decimal`, a divisor that cannot divide
//! exactly, a region that does not exist, a key an example may not have.
//!
//! The entry also records the sha256 of every file of the folder ([`folder_sha256`]), so the
//! conformance suite can tell a registry compiled from an older folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use balances_registry::{
    AmountSource, Auth, BalanceMapping, Denomination, Description, Example, Expected,
    FixedParameter, RequestShape, Rows, VendorEntry,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::{CodegenError, JsonPath};
use super::load::OVERLAY_FILE;
use super::repair::walk::HTTP_METHODS;
use super::write::PlannedFile;

#[path = "further.rs"]
mod further;
pub use further::is_currency_code;

/// The description's file name in a vendor folder.
pub const DESCRIPTION_FILE: &str = "vendor.toml";
/// The folder of a vendor's examples.
pub const EXAMPLES_DIR: &str = "examples";
/// Where the compiled registry is written, relative to the workspace root.
pub const REGISTRY_FILE: &str = "crates/balances-registry/registry.json";

/// The vendor's registry entry, or `None` for a folder without a `vendor.toml` (a client
/// crate only).
pub fn describe(
    root: &Path,
    vendor: &str,
    document: &Value,
) -> Result<Option<VendorEntry>, CodegenError> {
    let folder = Path::new("specs").join(vendor);
    let file = folder.join(DESCRIPTION_FILE);
    let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
        return Ok(None);
    };
    let at = |key: &str, message: String| {
        CodegenError::file(vendor, file.clone(), format!("{key}: {message}"))
    };
    let description: Description =
        from_toml(&text).map_err(|message| CodegenError::file(vendor, file.clone(), message))?;

    let (method, path, operation) = find_operation(document, &description.balance.operation)
        .ok_or_else(|| {
            at(
                "balance.operation",
                format!(
                    "the spec has no operation `{}`",
                    description.balance.operation
                ),
            )
        })?;
    let body = success_schema(method, &path, operation).ok_or_else(|| {
        at(
            "balance.operation",
            format!(
                "`{}` has no JSON success response to read a balance from",
                description.balance.operation
            ),
        )
    })?;
    let checker = Checker {
        document,
        operation: &description.balance.operation,
        overlay: &folder.join(OVERLAY_FILE),
    };
    checker
        .check_balance(&description.balance, &body)
        .map_err(|(key, message)| at(&key, message))?;
    check_regions(&description).map_err(|(key, message)| at(key, message))?;
    check_consistent(&description).map_err(|(key, message)| at(key, message))?;
    further::check_account_base_url(&description).map_err(|(key, message)| at(key, message))?;
    further::check_account_currency(&description).map_err(|(key, message)| at(key, message))?;
    further::check_less_placement(&description.balance)
        .map_err(|(key, message)| at(&key, message))?;
    let operations = further::further_operations(document, &description)
        .map_err(|(key, message)| at(&key, message))?;
    if let Some(spend) = &description.balance.spend {
        super::spend::check(&checker, &description.balance, spend, operation, &body)
            .map_err(|(key, message)| at(&key, message))?;
    }
    // What the description gives besides constants: a spend report's period and cursor,
    // the account's path parameters.
    let mut provided = super::spend::provided_parameters(&description.balance);
    provided.extend(description.account_parameters.iter().map(String::as_str));
    let request = request_shape(document, operation, &provided).map_err(|message| {
        at(
            "balance.operation",
            format!("`{}`: {message}", description.balance.operation),
        )
    })?;

    super::account_parameters::check(document, operation, &path, &description)
        .map_err(|(key, message)| at(key, message))?;
    let examples = load_examples(root, vendor, &folder, &description, &operations)?;
    let mut entry = VendorEntry::compiled(
        vendor,
        description,
        &method.to_ascii_uppercase(),
        &path,
        examples,
    )
    .with_request(request);
    entry.operations = operations;
    Ok(Some(entry))
}

/// What the balance operation's spec requires of every request besides credentials: each
/// `required` header or query parameter must allow exactly one value (a one-value `enum`,
/// as a cloud API's action and version are written), since no description key could give
/// it another; and whether the operation takes a JSON body.
fn request_shape(
    document: &Value,
    operation: &Value,
    provided: &[&str],
) -> Result<RequestShape, String> {
    let resolve = |value| dereferenced(document, value);
    let mut shape = RequestShape::default();
    for parameter in operation_parameters(document, operation) {
        if parameter.get("required").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // A spend report's period parameters, an account's path parameters: the
        // description gives them.
        if provided.contains(&name) {
            continue;
        }
        let location = parameter
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let schema = parameter.get("schema").map_or(&Value::Null, resolve);
        let only = match schema
            .get("enum")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([Value::String(only)]) => only.clone(),
            _ => {
                return Err(format!(
                    "requires the {location} parameter `{name}`, which no description key \
                     provides: a required parameter of the balance operation must allow one \
                     value (`enum: [value]`)"
                ));
            }
        };
        let fixed = FixedParameter::new(name, only);
        match location {
            "header" => shape.headers.push(fixed),
            "query" => shape.query.push(fixed),
            other => {
                return Err(format!(
                    "requires the {other} parameter `{name}`; only header and query \
                     parameters can be fixed"
                ));
            }
        }
    }
    shape.json_body = operation
        .get("requestBody")
        .map(resolve)
        .and_then(|body| {
            body.get("content")?
                .as_object()
                .map(|content| content.keys().any(|media| media.contains("json")))
        })
        .unwrap_or(false);
    Ok(shape)
}

/// `value`, or what its `$ref` (local, `#/...`) points to, followed up to 16 deep.
pub(super) fn dereferenced<'d>(document: &'d Value, value: &'d Value) -> &'d Value {
    let mut value = value;
    for _ in 0..16 {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| document.pointer(pointer))
        {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

/// An operation's parameters, each [`dereferenced`].
pub(super) fn operation_parameters<'d>(
    document: &'d Value,
    operation: &'d Value,
) -> impl Iterator<Item = &'d Value> {
    operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(move |parameter| dereferenced(document, parameter))
}

/// The checked-in JSON Schemas that list every vendor's id (`$defs.Vendor.enum`): the
/// facade's `Balance` and the command's output. Codegen keeps their vendor lists equal to
/// the registry, so a new folder changes them without a hand edit; the schemas' tests keep
/// the rest equal to what the code generates.
pub const SCHEMA_FILES: [&str; 2] = [
    "crates/balances/balance.schema.json",
    "crates/balances-cli/output.schema.json",
];

/// `schema` (a pretty-printed JSON Schema) with the array of `$defs.Vendor.enum` replaced
/// by `ids`, every other byte kept: the file's key order is schemars', which a parse and
/// re-print here (with sorted maps) would not keep.
pub fn schema_with_vendors(schema: &str, ids: &[&str]) -> Result<String, String> {
    let missing = || "has no `$defs.Vendor.enum` to list the vendors in".to_owned();
    let vendor = schema.find("\"Vendor\": {").ok_or_else(missing)?;
    let key = vendor + schema[vendor..].find("\"enum\": [").ok_or_else(missing)?;
    let open = key + "\"enum\": [".len();
    let close = open + schema[open..].find(']').ok_or_else(missing)?;
    let line_start = schema[..key].rfind('\n').map_or(0, |at| at + 1);
    let indent = &schema[line_start..key];
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!("{indent}  {}", serde_json::Value::from(*id)))
        .collect();
    let text = format!(
        "{}\n{}\n{indent}{}",
        &schema[..open],
        items.join(",\n"),
        &schema[close..]
    );
    // The result must still be the schema, with exactly these vendors.
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    if value.pointer("/$defs/Vendor/enum") != Some(&Value::from(ids.to_vec())) {
        return Err(missing());
    }
    Ok(text)
}

/// The registry file: every entry, sorted by id, pretty JSON.
pub fn registry_json(mut entries: Vec<VendorEntry>) -> String {
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    let mut text = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".to_owned());
    text.push('\n');
    text
}

fn find_operation<'d>(
    document: &'d Value,
    operation_id: &str,
) -> Option<(&'static str, String, &'d Value)> {
    document
        .get("paths")?
        .as_object()?
        .iter()
        .find_map(|(path, item)| {
            HTTP_METHODS.iter().find_map(|method| {
                let operation = item.get(*method)?;
                (operation.get("operationId")?.as_str()? == operation_id)
                    .then(|| (*method, path.clone(), operation))
            })
        })
}

/// The JSON schema of the operation's first 2xx response.
fn success_schema(method: &str, path: &str, operation: &Value) -> Option<Located> {
    let responses = operation.get("responses")?.as_object()?;
    responses
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .find_map(|(status, response)| {
            let content = response.get("content")?.as_object()?;
            let (media, schema) = content
                .iter()
                .find(|(media, _)| media.contains("json"))
                .and_then(|(media, object)| Some((media, object.get("schema")?.clone())))?;
            Some(Located {
                schema,
                at: JsonPath::root()
                    .key("paths")
                    .key(path)
                    .key(method)
                    .key("responses")
                    .key(status)
                    .key("content")
                    .key(media)
                    .key("schema"),
            })
        })
}

/// A schema and where it is in the document: the target an overlay action needs to change it.
#[derive(Debug, Clone)]
pub(super) struct Located {
    pub(super) schema: Value,
    pub(super) at: JsonPath,
}

impl Located {
    pub(super) fn child(&self, keys: &[&str]) -> Option<Located> {
        let mut located = self.clone();
        for key in keys {
            located = Located {
                schema: located.schema.get(*key)?.clone(),
                at: located.at.key(key),
            };
        }
        Some(located)
    }
}

#[derive(Clone, Copy)]
pub(super) struct Checker<'a> {
    pub(super) document: &'a Value,
    operation: &'a str,
    /// The vendor's overlay (`specs/<vendor>/overlay.yaml`), where a money field is marked.
    overlay: &'a Path,
}

/// What a checked pointer may hold.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Money,
    Text,
    Flag,
    Any,
}

impl Kind {
    fn fits(self, schema_type: Option<&str>) -> bool {
        match (self, schema_type) {
            (Kind::Any, _) | (_, None) => true,
            (Kind::Money, Some(t)) => matches!(t, "string" | "number" | "integer"),
            (Kind::Text, Some(t)) => t == "string",
            (Kind::Flag, Some(t)) => t == "boolean",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Money => "a decimal string or a number",
            Kind::Text => "a string",
            Kind::Flag => "a boolean",
            Kind::Any => "a value",
        }
    }
}

pub(super) type KeyedError = (String, String);

impl Checker<'_> {
    fn check_balance(&self, balance: &BalanceMapping, body: &Located) -> Result<(), KeyedError> {
        for (index, condition) in balance.success.iter().enumerate() {
            self.expect(
                body,
                &condition.pointer,
                Kind::Any,
                &format!("balance.success[{index}].pointer"),
            )?;
        }
        let rows = match &balance.rows {
            Rows::Object(pointer) => vec![self.expect(body, pointer, Kind::Any, "balance.rows")?],
            Rows::Array(pointer) => {
                let array = self.expect(body, pointer, Kind::Any, "balance.rows")?;
                let items = array.child(&["items"]).unwrap_or(Located {
                    schema: Value::Null,
                    at: array.at.key("items"),
                });
                vec![self.resolve(items)]
            }
            Rows::Nested(pointers) => vec![super::spend::nested_rows(self, body, pointers)?],
            // Each key the description names is a property of the map's schema, or the
            // map's `additionalProperties` describes every member.
            Rows::Map(pointer) => {
                let map = self.expect(body, pointer, Kind::Any, "balance.rows")?;
                let keys: Vec<&String> = match &balance.denomination {
                    Denomination::ByKey(keys) => keys.keys().collect(),
                    _ => Vec::new(),
                };
                let mut rows = Vec::with_capacity(keys.len());
                for key in keys {
                    let member = map
                        .child(&["properties", key.as_str()])
                        .or_else(|| map.child(&["additionalProperties"]))
                        .ok_or_else(|| {
                            (
                                "balance.denomination.by_key".to_owned(),
                                format!(
                                    "`{key}` is not a member of `{pointer}` in the success response of `{}`",
                                    self.operation
                                ),
                            )
                        })?;
                    rows.push(self.resolve(member));
                }
                rows
            }
            _ => return Ok(()),
        };
        for row in &rows {
            self.check_row(balance, row)?;
            self.check_unlimited(balance, row)?;
        }
        if let Some(available) = &balance.available {
            // From the body's root, as the facade reads it.
            self.expect(body, available, Kind::Flag, "balance.available")?;
        }
        if let Some(scale) = &balance.scale {
            exact_divisor(&scale.divisor)
                .map_err(|message| ("balance.scale.divisor".to_owned(), message))?;
        }
        Ok(())
    }

    fn check_row(&self, balance: &BalanceMapping, row: &Located) -> Result<(), KeyedError> {
        if let Denomination::CurrencyField(pointer) = &balance.denomination {
            self.expect(
                row,
                pointer,
                Kind::Text,
                "balance.denomination.currency_field",
            )?;
        }
        self.check_amount(row, &balance.total, "balance.total")?;
        if let Some(granted) = &balance.granted {
            self.check_amount(row, granted, "balance.granted")?;
        }
        if let Some(topped_up) = &balance.topped_up {
            self.check_amount(row, topped_up, "balance.topped_up")?;
        }
        Ok(())
    }

    fn check_amount(
        &self,
        row: &Located,
        source: &AmountSource,
        key: &str,
    ) -> Result<(), KeyedError> {
        match source {
            AmountSource::At(pointer) => self.expect_money(row, pointer, key),
            // Alternative shapes: the spec documents at least one of them, and each one it
            // documents is exact.
            AmountSource::FirstOf(pointers) => {
                let mut found = false;
                let mut first_error = None;
                for pointer in pointers {
                    match self.expect(row, pointer, Kind::Money, key) {
                        Ok(amount) => {
                            self.decimal(&amount, pointer, key)?;
                            found = true;
                        }
                        Err(error) => {
                            first_error.get_or_insert(error);
                        }
                    }
                }
                match (found, first_error) {
                    (true, _) => Ok(()),
                    (false, Some(error)) => Err(error),
                    (false, None) => Err((key.to_owned(), "no pointer given".to_owned())),
                }
            }
            AmountSource::Difference { minus } => {
                for pointer in minus {
                    self.expect_money(row, pointer, key)?;
                }
                Ok(())
            }
            AmountSource::Less { from, less } => self.check_less(row, from, less, key),
            AmountSource::Sum { sum } => {
                if sum.len() < 2 {
                    return Err((
                        key.to_owned(),
                        "a `sum` adds two amounts or more".to_owned(),
                    ));
                }
                for pointer in sum {
                    self.expect_money(row, pointer, key)?;
                }
                Ok(())
            }
            AmountSource::Negated { negate } => self.check_amount(row, negate, key),
            _ => Ok(()),
        }
    }

    fn expect_money(&self, row: &Located, pointer: &str, key: &str) -> Result<(), KeyedError> {
        let amount = self.expect(row, pointer, Kind::Money, key)?;
        self.decimal(&amount, pointer, key)
    }

    /// A money field must be `format: decimal`: progenitor would otherwise generate a
    /// `String`, an `f64` or an `i64`, and the typed client would not hold the amount exactly.
    fn decimal(&self, amount: &Located, pointer: &str, key: &str) -> Result<(), KeyedError> {
        if amount.schema.get("format").and_then(Value::as_str) == Some("decimal") {
            return Ok(());
        }
        let schema_type = amount.schema.get("type").and_then(Value::as_str);
        let generated = match schema_type {
            Some("string") => "`String`",
            Some("number") => "`f64`",
            Some("integer") => "`i64`",
            _ => "`serde_json::Value`",
        };
        let field = if pointer.is_empty() {
            "the row itself (`\"\"`)".to_owned()
        } else {
            format!("`{pointer}`")
        };
        Err((
            key.to_owned(),
            format!(
                "{field} is {} in the spec without `format: decimal`, so the generated \
                 client would hold it as {generated}, not an exact decimal; mark it in {} \
                 with the Overlay 1.0 action `{{target: \"{}\", update: {{format: decimal}}}}`",
                schema_type.unwrap_or("untyped"),
                self.overlay.display(),
                amount.at,
            ),
        ))
    }

    /// The schema at `pointer` inside `schema`, which must fit `kind`.
    pub(super) fn expect(
        &self,
        schema: &Located,
        pointer: &str,
        kind: Kind,
        key: &str,
    ) -> Result<Located, KeyedError> {
        let not_there = || {
            (
                key.to_owned(),
                format!(
                    "`{pointer}` is not in the success response of `{}`",
                    self.operation
                ),
            )
        };
        let mut current = self.resolve(schema.clone());
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            let next = current
                .child(&["properties", &segment])
                .or_else(|| {
                    segment
                        .parse::<usize>()
                        .ok()
                        .and_then(|_| current.child(&["items"]))
                })
                .ok_or_else(not_there)?;
            current = self.resolve(next);
        }
        let schema_type = current.schema.get("type").and_then(Value::as_str);
        if !kind.fits(schema_type) {
            return Err((
                key.to_owned(),
                format!(
                    "`{pointer}` is {} in the spec, not {}",
                    schema_type.unwrap_or("untyped"),
                    kind.name()
                ),
            ));
        }
        Ok(current)
    }

    /// Follows `$ref`s and the one-member `allOf` that annotates a reference.
    pub(super) fn resolve(&self, mut located: Located) -> Located {
        for _ in 0..16 {
            if let Some((pointer, target)) = located
                .schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| Some((pointer, self.document.pointer(pointer)?)))
            {
                located = Located {
                    schema: target.clone(),
                    at: json_path_of_pointer(pointer),
                };
                continue;
            }
            if let Some([only]) = located
                .schema
                .get("allOf")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                located = Located {
                    schema: only.clone(),
                    at: located.at.key("allOf").index(0),
                };
                continue;
            }
            break;
        }
        located
    }
}

/// The JSONPath of a JSON Pointer into the document (`/components/schemas/A` is
/// `$.components.schemas.A`).
fn json_path_of_pointer(pointer: &str) -> JsonPath {
    pointer
        .split('/')
        .skip(1)
        .fold(JsonPath::root(), |at, token| {
            at.key(&token.replace("~1", "/").replace("~0", "~"))
        })
}

/// A divisor must be a positive whole number whose only prime factors are 2 and 5: then
/// every decimal divided by it is an exact decimal.
fn exact_divisor(text: &str) -> Result<(), String> {
    let mut n: u128 = text
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a positive whole number"))?;
    for factor in [2, 5] {
        while n.is_multiple_of(factor) {
            n /= factor;
        }
    }
    if n == 1 {
        Ok(())
    } else {
        Err(format!(
            "`{text}` has a prime factor other than 2 and 5, so amounts divided by it are not exact decimals"
        ))
    }
}

/// Parts of a description that only make sense together, checked here rather than at a
/// user's first fetch: a map of rows and a denomination by key; a currency per region and
/// regions that each have one; a header scheme and a valid header name; status overrides
/// that are statuses.
fn check_consistent(description: &Description) -> Result<(), (&'static str, String)> {
    let balance = &description.balance;
    match (&balance.rows, &balance.denomination) {
        (Rows::Map(_), Denomination::ByKey(keys)) if keys.is_empty() => {
            return Err(("balance.denomination", "`by_key` lists no key".to_owned()));
        }
        (Rows::Map(_), Denomination::ByKey(_)) => {}
        (Rows::Map(_), _) => {
            return Err((
                "balance.denomination",
                "rows in a map take their denomination from the key: use `by_key`".to_owned(),
            ));
        }
        (_, Denomination::ByKey(_)) => {
            return Err((
                "balance.rows",
                "`by_key` needs rows in a map (`rows = { map = \"/...\" }`)".to_owned(),
            ));
        }
        _ => {}
    }
    if matches!(balance.denomination, Denomination::RegionCurrency) {
        if description.regions.is_empty() {
            return Err((
                "balance.denomination",
                "`region_currency` needs `regions`".to_owned(),
            ));
        }
        if let Some(region) = description.regions.iter().find(|r| r.currency.is_none()) {
            return Err((
                "regions",
                format!(
                    "region `{}` has no `currency`, which `region_currency` needs",
                    region.name
                ),
            ));
        }
    }
    let scope_part = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match &description.auth {
        Auth::Tc3HmacSha256 { service } if !scope_part(service) => {
            return Err((
                "auth.service",
                format!("`{service}` is not a credential-scope part ([A-Za-z0-9_-])"),
            ));
        }
        Auth::VolcengineHmacSha256 { region, service } => {
            for (key, part) in [("auth.region", region), ("auth.service", service)] {
                if !scope_part(part) {
                    return Err((
                        key,
                        format!("`{part}` is not a credential-scope part ([A-Za-z0-9_-])"),
                    ));
                }
            }
        }
        Auth::BceAuthV1 {
            expiration_seconds: Some(0),
        } => {
            return Err((
                "auth.expiration_seconds",
                "a signature valid for 0 seconds is never valid".to_owned(),
            ));
        }
        _ => {}
    }
    // An authorization scheme's name is an HTTP token (RFC 9110, section 11.1).
    if let Auth::Prefixed { prefix } = &description.auth
        && (prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)))
    {
        return Err((
            "auth.prefix",
            format!("`{prefix}` is not an authorization scheme name"),
        ));
    }
    if let Auth::Header { header } = &description.auth {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if header.is_empty() || !header.chars().all(token) {
            return Err((
                "auth.header",
                format!("`{header}` is not an HTTP header name"),
            ));
        }
    }
    if let Some(status) = description
        .errors
        .status
        .keys()
        .find(|status| !matches!(status.parse::<u16>(), Ok(100..=599)))
    {
        return Err((
            "errors.status",
            format!("`{status}` is not an HTTP status (100 to 599)"),
        ));
    }
    Ok(())
}

fn check_regions(description: &Description) -> Result<(), (&'static str, String)> {
    let names: Vec<&str> = description
        .regions
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    match (
        &description.base_url,
        names.is_empty(),
        &description.default_region,
    ) {
        (None, true, _) if description.account_base_url.is_none() => Err((
            "base_url",
            "give a `base_url`, `regions` or `account_base_url`".to_owned(),
        )),
        (_, false, None) => Err((
            "default_region",
            "name the default of the `regions`".to_owned(),
        )),
        (_, _, Some(default)) if !names.contains(&default.as_str()) => Err((
            "default_region",
            format!(
                "`{default}` is not one of the regions ({})",
                names.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

fn load_examples(
    root: &Path,
    vendor: &str,
    folder: &Path,
    description: &Description,
    operations: &[balances_registry::FurtherOperation],
) -> Result<Vec<Example>, CodegenError> {
    let dir = folder.join(EXAMPLES_DIR);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(root.join(&dir)) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    let mut examples = Vec::with_capacity(files.len());
    for path in files {
        let relative = path.strip_prefix(root).unwrap_or(&path).to_owned();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            CodegenError::file(vendor, relative.clone(), format!("cannot read: {e}"))
        })?;
        let mut example: Example = from_toml(&text)
            .and_then(|example| check_example(&example).map(|()| example))
            .and_then(|example| {
                further::check_example(description, operations, &example)
                    .and_then(|()| super::spend::check_example(&description.balance, &example))
                    .map(|()| example)
            })
            .map_err(|message| CodegenError::file(vendor, relative.clone(), message))?;
        example.name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(region) = &example.region
            && !description.regions.iter().any(|r| &r.name == region)
        {
            return Err(CodegenError::file(
                vendor,
                relative,
                format!("region: `{region}` is not one of the vendor's regions"),
            ));
        }
        examples.push(example);
    }
    Ok(examples)
}

/// `text` read as a `T`, a mistake naming the key's path (`expected.error.message: unknown
/// field ...`): the TOML parser's own message names the field but not the table it is in.
fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let deserializer =
        toml::de::Deserializer::parse(text).map_err(|e| e.message().trim().to_owned())?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let message = e.inner().message().trim().to_owned();
        match e.path().to_string().as_str() {
            "" | "." => message,
            path => format!("{path}: {message}"),
        }
    })
}

/// The error kind whose vendor code the facade keeps (`Error::Vendor`'s `code`). Every other
/// kind is decided from the status or the code and keeps the status and message only.
const KIND_WITH_A_CODE: &str = "vendor";

/// What an example says that its keys alone cannot: a `code` only where the facade's error
/// keeps one.
fn check_example(example: &Example) -> Result<(), String> {
    if !example.name.is_empty() {
        return Err(
            "name: an example's name is its file's name (`<name>.toml`): remove `name`".to_owned(),
        );
    }
    if let Expected::Error(error) = &example.expected
        && error.code.is_some()
        && error.kind != KIND_WITH_A_CODE
    {
        return Err(format!(
            "expected.error.code: only an error of kind `{KIND_WITH_A_CODE}` keeps the vendor's \
             code; kind `{}` keeps the status and the message, so this code could never be \
             checked: remove `code`, or check the text with `message_contains`",
            error.kind
        ));
    }
    Ok(())
}

/// The sha256 of every file of `specs/<vendor>/` as codegen leaves it, by path relative to
/// the folder with `/` separators (a file codegen writes, `source.toml`, with the contents it
/// writes); hidden files (a name starting with `.`, such as an editor's swap file) are left
/// out. Recorded in the vendor's registry entry for the conformance suite, which recomputes
/// them from the files with the same rule.
pub fn folder_sha256(
    root: &Path,
    vendor: &str,
    planned: &[PlannedFile],
) -> Result<BTreeMap<String, String>, CodegenError> {
    let folder = Path::new("specs").join(vendor);
    let mut files = Vec::new();
    list_files(root, &folder, &mut files)
        .map_err(|e| CodegenError::file(vendor, folder.clone(), format!("cannot list: {e}")))?;
    let mut digests = BTreeMap::new();
    for relative in files {
        let bytes = match planned.iter().find(|file| file.relative == relative) {
            Some(file) => file.contents.clone().into_bytes(),
            None => std::fs::read(root.join(&relative)).map_err(|e| {
                CodegenError::file(vendor, relative.clone(), format!("cannot read: {e}"))
            })?,
        };
        let name = relative
            .strip_prefix(&folder)
            .unwrap_or(&relative)
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        digests.insert(name, hex::encode(Sha256::digest(&bytes)));
    }
    Ok(digests)
}

/// Every file under `dir` (relative to `root`), hidden ones left out.
fn list_files(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(dir))? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let relative = dir.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            list_files(root, &relative, files)?;
        } else {
            files.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example(expected: &str) -> Result<Example, String> {
        from_toml::<Example>(&format!(
            "description = \"d\"\nstatus = 401\nbody = \"{{}}\"\n\n{expected}"
        ))
        .and_then(|example| check_example(&example).map(|()| example))
    }

    #[test]
    fn an_example_key_that_is_not_read_is_refused_naming_its_table() {
        assert!(
            example("[expected.error]\nkind = \"authentication\"\nmessage_contains = \"no\"")
                .is_ok()
        );
        assert_eq!(
            example("[expected.error]\nkind = \"authentication\"\nmessage = \"no\"").unwrap_err(),
            "expected.error.message: unknown field `message`, expected one of `kind`, `code`, `message_contains`"
        );
        assert_eq!(
            example("[expected.balance]\namounts = [{ currency = \"USD\", totl = \"1\" }]")
                .unwrap_err(),
            "expected.balance.amounts[0].totl: unknown field `totl`, expected one of \
             `currency`, `unit`, `total`, `granted`, `topped_up`, `native`"
        );
        assert_eq!(
            example("[expected.refusal]\nkind = \"x\"").unwrap_err(),
            "expected: unknown variant `refusal`, expected one of `balance`, `spend`, `error`"
        );
        assert_eq!(
            from_toml::<Example>("descripton = \"d\"").unwrap_err(),
            "descripton: unknown field `descripton`, expected one of `name`, `description`, \
             `source`, `region`, `currency`, `status`, `headers`, `body`, `now`, `query`, \
             `responses`, `expected`"
        );
        // `name` is the registry's (the file's stem), not the file's: codegen would not read it.
        assert_eq!(
            example("name = \"other\"\n[expected.error]\nkind = \"vendor\"").unwrap_err(),
            "name: an example's name is its file's name (`<name>.toml`): remove `name`"
        );
        assert_eq!(
            from_toml::<Example>("status = 200\nbody = \"{}\"\n[expected.balance]\namounts = []")
                .unwrap_err(),
            "missing field `description`"
        );
    }

    #[test]
    fn a_code_is_refused_where_the_kind_keeps_none() {
        assert!(example("[expected.error]\nkind = \"vendor\"\ncode = \"5\"").is_ok());
        for kind in [
            "authentication",
            "rate_limited",
            "insufficient_balance",
            "transient",
        ] {
            let message = example(&format!(
                "[expected.error]\nkind = \"{kind}\"\ncode = \"authentication_error\""
            ))
            .unwrap_err();
            assert_eq!(
                message,
                format!(
                    "expected.error.code: only an error of kind `vendor` keeps the vendor's \
                     code; kind `{kind}` keeps the status and the message, so this code could \
                     never be checked: remove `code`, or check the text with `message_contains`"
                )
            );
        }
    }

    #[test]
    fn sums_and_negations_check_every_term_against_the_spec() {
        let document = json!({});
        let checker = Checker {
            document: &document,
            operation: "getChecklist",
            overlay: Path::new("specs/acme/overlay.yaml"),
        };
        let money = json!({"type": "number", "format": "decimal"});
        let row = Located {
            schema: json!({"type": "object", "properties": {
                "stripe_balance": money, "recent": money,
                "limit": {"type": "number"}, "email": {"type": "boolean"}}}),
            at: JsonPath::root(),
        };
        let source = |text: &str| -> AmountSource {
            toml::from_str::<toml::Table>(&format!("s = {text}"))
                .map(|table| table["s"].clone().try_into().expect("an amount source"))
                .expect("toml")
        };
        let check = |text: &str| checker.check_amount(&row, &source(text), "balance.total");
        assert!(check(r#"{ negate = { sum = ["/stripe_balance", "/recent"] } }"#).is_ok());
        assert!(check(r#"{ negate = "/recent" }"#).is_ok());
        assert!(
            check(r#"{ negate = { negate = { minus = ["/recent", "/stripe_balance"] } } }"#)
                .is_ok()
        );
        let refused = |text: &str| check(text).expect_err(text).1;
        assert!(refused(r#"{ sum = ["/recent"] }"#).contains("two amounts or more"));
        assert!(
            refused(r#"{ sum = ["/recent", "/missing"] }"#)
                .contains("`/missing` is not in the success response")
        );
        assert!(
            refused(r#"{ negate = { sum = ["/recent", "/limit"] } }"#)
                .contains("without `format: decimal`")
        );
        assert!(refused(r#"{ negate = "/email" }"#).contains("not a decimal string or a number"));
    }

    #[test]
    fn required_parameters_with_one_value_are_the_requests_constants() {
        let document = json!({"components": {"parameters": {"Version": {
            "name": "Version", "in": "query", "required": true,
            "schema": {"type": "string", "enum": ["2022-01-01"]}}}}});
        let operation = json!({
            "parameters": [
                {"name": "X-Action", "in": "header", "required": true,
                 "schema": {"type": "string", "enum": ["Query"]}},
                {"$ref": "#/components/parameters/Version"},
                {"name": "Optional", "in": "query", "schema": {"type": "string"}}
            ],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}
        });
        let shape = request_shape(&document, &operation, &[]).unwrap();
        assert_eq!(shape.headers, [FixedParameter::new("X-Action", "Query")]);
        assert_eq!(shape.query, [FixedParameter::new("Version", "2022-01-01")]);
        assert!(shape.json_body);

        for refused in [
            json!({"name": "Page", "in": "query", "required": true, "schema": {"type": "integer"}}),
            json!({"name": "Two", "in": "header", "required": true,
                   "schema": {"type": "string", "enum": ["a", "b"]}}),
            json!({"name": "id", "in": "path", "required": true,
                   "schema": {"type": "string", "enum": ["a"]}}),
        ] {
            let operation = json!({"parameters": [refused]});
            let error = request_shape(&document, &operation, &[]).unwrap_err();
            assert!(error.contains("parameter"), "{error}");
        }
        assert_eq!(
            request_shape(&document, &json!({}), &[]).unwrap(),
            RequestShape::default()
        );
        // A path parameter the account gives (`account_parameters`) is no constant.
        let team = json!({"parameters": [{"name": "team_id", "in": "path", "required": true,
                                          "schema": {"type": "string"}}]});
        assert!(request_shape(&document, &team, &[]).is_err());
        assert_eq!(
            request_shape(&document, &team, &["team_id"]).unwrap(),
            RequestShape::default()
        );
    }

    #[test]
    fn a_divisor_must_divide_decimals_exactly() {
        for fine in ["1", "100", "10000", "500000"] {
            assert!(exact_divisor(fine).is_ok(), "{fine}");
        }
        for bad in ["0", "3", "300", "-100", "1.5", "abc"] {
            assert!(exact_divisor(bad).is_err(), "{bad}");
        }
    }

    fn document() -> Value {
        json!({"paths": {"/credits": {"get": {"operationId": "getCredits", "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credits"}}}}}}}},
            "components": {"schemas": {"Credits": {"type": "object", "properties": {
                "data": {"type": "object", "properties": {
                    "total_credits": {"type": "number", "format": "decimal"},
                    "label": {"type": "object"}}}}}}}})
    }

    fn checker(document: &Value) -> Checker<'_> {
        Checker {
            document,
            operation: "getCredits",
            overlay: Path::new("specs/acme/overlay.yaml"),
        }
    }

    fn body(document: &Value) -> Located {
        let (method, path, operation) = find_operation(document, "getCredits").unwrap();
        success_schema(method, &path, operation).unwrap()
    }

    fn mapping(total: &str) -> BalanceMapping {
        toml::from_str(&format!(
            "operation = \"getCredits\"\nrows = {{ object = \"/data\" }}\n\
             denomination = {{ currency = \"USD\" }}\ntotal = \"{total}\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn the_schemas_vendor_list_is_replaced_and_nothing_else() {
        let schema = "{\n  \"$defs\": {\n    \"Vendor\": {\n      \"enum\": [\n        \"a\"\n      ],\n      \"type\": \"string\"\n    }\n  },\n  \"type\": \"array\"\n}\n";
        assert_eq!(schema_with_vendors(schema, &["a"]).unwrap(), schema);
        let updated = schema_with_vendors(schema, &["a", "b"]).unwrap();
        assert_eq!(
            updated,
            schema.replace("\"a\"\n", "\"a\",\n        \"b\"\n")
        );
        assert!(schema_with_vendors("{}", &["a"]).is_err());
        assert!(schema_with_vendors("not json", &["a"]).is_err());
    }

    #[test]
    fn parts_that_belong_together_are_checked_together() {
        let description = |extra: &str, balance: &str| -> Description {
            toml::from_str(&format!(
                "name = \"X\"\nauth = {{ scheme = \"bearer\" }}\n{extra}\n\
                 [balance]\noperation = \"o\"\ntotal = \"/t\"\n{balance}"
            ))
            .unwrap()
        };
        let single = "base_url = \"https://x.invalid\"";
        let fine = [
            (single, "denomination = { currency = \"USD\" }"),
            (single, "denomination = { unit = \"points\" }"),
            (
                single,
                "rows = { map = \"/b\" }\ndenomination = { by_key = { usd = { currency = \"USD\" } } }",
            ),
            (
                "default_region = \"cn\"\nregions = [{ name = \"cn\", base_url = \"https://x.invalid\", currency = \"CNY\" }]",
                "denomination = \"region_currency\"",
            ),
        ];
        for (extra, balance) in fine {
            assert!(
                check_consistent(&description(extra, balance)).is_ok(),
                "{balance}"
            );
        }
        let refused = [
            (
                single,
                "rows = { map = \"/b\" }\ndenomination = { currency = \"USD\" }",
                "balance.denomination",
            ),
            (
                single,
                "denomination = { by_key = { usd = { currency = \"USD\" } } }",
                "balance.rows",
            ),
            (
                single,
                "denomination = \"region_currency\"",
                "balance.denomination",
            ),
            (
                "default_region = \"cn\"\nregions = [{ name = \"cn\", base_url = \"https://x.invalid\" }]",
                "denomination = \"region_currency\"",
                "regions",
            ),
        ];
        for (extra, balance, key) in refused {
            let (got, message) = check_consistent(&description(extra, balance)).unwrap_err();
            assert_eq!(got, key, "{balance}: {message}");
        }
        let mut header = description(single, "denomination = { currency = \"USD\" }");
        header.auth = toml::from_str("scheme = \"header\"\nheader = \"X Api Key\"").unwrap();
        assert_eq!(check_consistent(&header).unwrap_err().0, "auth.header");
        let mut status = description(single, "denomination = { currency = \"USD\" }");
        status.errors = toml::from_str("status = { \"42\" = \"rate_limited\" }").unwrap();
        assert_eq!(check_consistent(&status).unwrap_err().0, "errors.status");
    }

    #[test]
    fn pointers_are_checked_against_the_success_response() {
        let document = document();
        let checker = checker(&document);
        let body = body(&document);
        assert!(
            checker
                .check_balance(&mapping("/total_credits"), &body)
                .is_ok()
        );
        let (key, message) = checker
            .check_balance(&mapping("/total_usage"), &body)
            .unwrap_err();
        assert_eq!(key, "balance.total");
        assert!(
            message.contains("`/total_usage` is not in the success response of `getCredits`"),
            "{message}"
        );
        let (_, message) = checker
            .check_balance(&mapping("/label"), &body)
            .unwrap_err();
        assert!(
            message.contains("is object in the spec, not a decimal string or a number"),
            "{message}"
        );
    }

    #[test]
    fn money_must_be_marked_decimal_whatever_its_type() {
        let unmarked = [
            ("number", "`f64`"),
            ("integer", "`i64`"),
            ("string", "`String`"),
        ];
        for (schema_type, generated) in unmarked {
            let mut document = document();
            document["components"]["schemas"]["Credits"]["properties"]["data"]["properties"]["total_credits"] =
                json!({"type": schema_type});
            let (key, message) = checker(&document)
                .check_balance(&mapping("/total_credits"), &body(&document))
                .unwrap_err();
            assert_eq!(key, "balance.total");
            assert_eq!(
                message,
                format!(
                    "`/total_credits` is {schema_type} in the spec without `format: decimal`, so \
                     the generated client would hold it as {generated}, not an exact decimal; \
                     mark it in specs/acme/overlay.yaml with the Overlay 1.0 action \
                     `{{target: \"$.components.schemas.Credits.properties.data.properties.total_credits\", \
                     update: {{format: decimal}}}}`"
                )
            );
        }
    }

    #[test]
    fn every_member_of_a_difference_or_first_of_must_be_decimal() {
        let mut document = document();
        let data = &mut document["components"]["schemas"]["Credits"]["properties"]["data"];
        data["properties"]["total_usage"] = json!({"type": "number"});
        // A row inline in the response: the target is under `paths`.
        document["paths"]["/credits"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
            json!({"type": "object", "properties": {"data": data.clone()}});
        let body = body(&document);
        let checker = checker(&document);
        let amount = |total: &str| -> BalanceMapping {
            toml::from_str(&format!(
                "operation = \"getCredits\"\nrows = {{ object = \"/data\" }}\n\
                 denomination = {{ currency = \"USD\" }}\ntotal = {total}\n"
            ))
            .unwrap()
        };
        let target = "$.paths['/credits'].get.responses['200'].content['application/json'].schema.properties.data.properties.total_usage";
        for total in [
            r#"{ minus = ["/total_credits", "/total_usage"] }"#,
            r#"["/total_credits", "/total_usage"]"#,
            r#"["/absent", "/total_usage"]"#,
        ] {
            let (key, message) = checker.check_balance(&amount(total), &body).unwrap_err();
            assert_eq!(key, "balance.total", "{total}");
            assert!(
                message.starts_with("`/total_usage` is number in the spec without")
                    && message.contains(target),
                "{total}: {message}"
            );
        }
        // A first-of member the spec does not document is allowed beside one that is exact.
        assert!(
            checker
                .check_balance(&amount(r#"["/absent", "/total_credits"]"#), &body)
                .is_ok()
        );
    }
}
