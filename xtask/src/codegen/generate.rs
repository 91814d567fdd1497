//! Step 5, **generate**: progenitor (builder style, merged tags) with `format: decimal`
//! mapped to `rust_decimal::Decimal`, pretty-printed, under a `@generated` header.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

use super::error::{JsonPath, SpecProblem};
use super::load::VendorSpec;

/// The command named in every generated file's header.
pub const COMMAND: &str = "cargo xtask codegen";

/// The files of one generated crate, as bytes to compare or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCrate {
    pub cargo_toml: String,
    pub lib_rs: String,
    pub readme: String,
}

/// Runs progenitor over a validated spec. progenitor reports some problems by panicking
/// (`todo!`, `assert!`); those panics are caught and returned as [`SpecProblem`]s that name
/// the schema or operation at fault and say which construct was not supported.
///
/// With the vendor's compiled description (`entry`), the crate also gets the `balance`
/// module that [`super::project`] compiles from it.
pub fn generate(
    vendor: &VendorSpec,
    spec: &OpenAPI,
    entry: Option<&balances_registry::VendorEntry>,
) -> Result<GeneratedCrate, SpecProblem> {
    let mut generator = Generator::new(&settings());
    let tokens = catch_generator_panics(|| generator.generate_tokens(spec))
        .and_then(|generated| {
            generated.map_err(|e| {
                SpecProblem::new("$", format!("progenitor rejected the document: {e}"))
            })
        })
        .map_err(|problem| locate(spec, problem))?;
    let balance = match entry {
        Some(entry) => super::project::balance_module(generator.get_type_space(), spec, entry)?,
        None => String::new(),
    };
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| SpecProblem::new("$", format!("progenitor produced invalid Rust: {e}")))?;
    let code = super::docs::document_public_items(&autolink_bare_urls(&block_docs_to_line_docs(
        &prettyplease::unparse(&file),
    )));
    let checked_in = checked_in_lib_rs(vendor);
    Ok(GeneratedCrate {
        lib_rs: rustfmt_to_fixpoint(lib_rs(vendor, spec, &code, &balance), checked_in.as_deref())?,
        cargo_toml: cargo_toml(vendor, spec, &code),
        readme: readme(vendor, spec),
    })
}

/// What progenitor alone makes of `spec`, with its default settings (the corpus report's
/// comparison): the code, pretty-printed, or the failure, panics caught.
pub fn plain_progenitor(spec: &OpenAPI) -> Result<String, SpecProblem> {
    let tokens = catch_generator_panics(|| {
        Generator::new(&GenerationSettings::default()).generate_tokens(spec)
    })?
    .map_err(|e| SpecProblem::new("$", format!("progenitor rejected the document: {e}")))?;
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| SpecProblem::new("$", format!("progenitor produced invalid Rust: {e}")))?;
    Ok(prettyplease::unparse(&file))
}

/// A manifest for [`plain_progenitor`]'s code: the dependencies progenitor's README asks
/// for, at the workspace's versions.
pub fn plain_manifest(name: &str, code: &str) -> String {
    let mut dependencies = vec!["progenitor-client", "reqwest", "serde", "serde_json"];
    dependencies.extend(
        OPTIONAL_DEPENDENCIES
            .iter()
            .filter(|(_, needle)| code.contains(needle))
            .map(|(name, _)| *name),
    );
    let dependencies: String = dependencies
        .iter()
        .map(|name| format!("{name}.workspace = true\n"))
        .collect();
    format!(
        "[package]\nname = \"{name}-client\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{dependencies}"
    )
}

fn run_progenitor(spec: &OpenAPI) -> Result<proc_macro2::TokenStream, SpecProblem> {
    catch_generator_panics(|| Generator::new(&settings()).generate_tokens(spec))?
        .map_err(|e| SpecProblem::new("$", format!("progenitor rejected the document: {e}")))
}

/// progenitor reports neither where it failed nor why in terms of the document. Generating
/// parts of the document alone finds the place: the component schemas first (progenitor
/// turns every one into a type, used or not), then each operation.
fn locate(spec: &OpenAPI, problem: SpecProblem) -> SpecProblem {
    let message = explain(&problem.message);
    if let Some(schema) = failing_component(spec) {
        let path = JsonPath::root()
            .key("components")
            .key("schemas")
            .key(&schema);
        return SpecProblem::new(path.to_string(), message);
    }
    match failing_operation(spec, &problem.message) {
        Some(path) => SpecProblem::new(path, message),
        None => SpecProblem::new(problem.json_path, message),
    }
}

/// Known failures of progenitor 0.15.1 and typify 0.8.0, by a piece of their message (or,
/// for `unreachable!()`, which says nothing, the source file it is in), as the construct in
/// the document they stand for and what a maintainer can do. Most have a repair pass now
/// (named here); they remain for documents that reach them another way.
const KNOWN_FAILURES: &[(&str, &str)] = &[
    (
        "reference.is_none()",
        "typify cannot merge this `allOf`: one of its members refers (`$ref`) to a schema it \
         would have to merge again; inline the member or give the merged object in the overlay",
    ),
    (
        "response_types.len() <= 1",
        "the operation has success responses of different kinds (a body and none, or \
         different bodies, or an upgrade and a body), which progenitor cannot return as one \
         type; keep one in the overlay",
    ),
    (
        "invalid type: null",
        "a schema of `type: null` outside a union, which typify cannot turn into a type; \
         replace it in the overlay",
    ),
    (
        "media type encoding, no schema",
        "a media type without a `schema`, which progenitor cannot decode; give it one in the \
         overlay",
    ),
    (
        "media type encoding not empty",
        "a request body with an `encoding`, which progenitor cannot send; remove the \
         `encoding` in the overlay",
    ),
    (
        "invalid (or unexpected) schema",
        "a schema typify does not understand (for example `type: object` with a `format`); \
         simplify it in the overlay",
    ),
    (
        "Failed to make unique variant names",
        "an enum whose values give the same Rust name (`ASC` and `asc`), which typify cannot \
         name apart; make it a plain string in the overlay",
    ),
    (
        "unresolved reference",
        "a `$ref` typify cannot follow (into a part of a component, or to nothing); point it \
         at a whole component schema in the overlay",
    ),
    (
        "is missing (at progenitor-impl",
        "a `$ref` to a component the document does not have, or one of another kind (a \
         response that refers to a request body); point it at a component of the right kind \
         in the overlay",
    ),
    (
        "more media types than expected",
        "a request body offered in several media types, of which progenitor sends one; keep \
         one in the overlay",
    ),
    (
        "typify-impl-0.8.0/src/defaults.rs",
        "a schema whose `default` (or an `enum` narrowing a referenced type, which typify \
         merges into one) typify cannot check against the type it generates; remove the \
         `default`, or give the schema its own `enum` without the reference, in the overlay",
    ),
    (
        "progenitor-impl-0.15.1/src/method.rs",
        "an operation progenitor cannot make a method of (for example an optional parameter \
         whose schema becomes a struct, such as an object or an `anyOf` of objects); give the \
         parameter a plain schema, or remove it, in the overlay",
    ),
    (
        "typify-impl-0.8.0/src/merge.rs",
        "an `allOf`, `anyOf` or `oneOf` whose members typify cannot merge; give the merged \
         schema in the overlay",
    ),
];

/// What a progenitor or typify failure means in terms of the document, for the error a
/// maintainer reads: the construct and what to do for a known one; for another, that it
/// is an internal failure and where (the crate and source file, never the path of this
/// machine's cargo registry). The panic's own text (`internal error: entered unreachable
/// code`, an assertion) is not shown: it describes progenitor's code, not the document.
fn explain(raw: &str) -> String {
    if let Some((_, meaning)) = KNOWN_FAILURES
        .iter()
        .find(|(needle, _)| raw.contains(needle))
    {
        return (*meaning).to_owned();
    }
    if let Some(panic) = raw.strip_prefix(PANICKED) {
        let location = panic
            .rsplit_once(" (at ")
            .map(|(_, at)| at.trim_end_matches(')'))
            .unwrap_or("an unknown place");
        return format!(
            "progenitor cannot generate this part of the document: an internal failure in \
             {location} that no repair pass handles yet; simplify or replace this part in the \
             overlay, and report the construct so that a pass can be written"
        );
    }
    // progenitor's own errors are meant for users, but some end in a `Debug` dump of the
    // schema: the first line, shortened, says what it is.
    let first_line = raw.lines().next().unwrap_or(raw);
    let shown: String = first_line.chars().take(240).collect();
    let ellipsis = if shown.len() < first_line.len() || raw.contains('\n') {
        " ..."
    } else {
        ""
    };
    format!(
        "progenitor cannot generate this part of the document ({shown}{ellipsis}); simplify or \
         replace it in the overlay"
    )
}

/// How [`catch_generator_panics`] starts the message of a caught panic.
const PANICKED: &str = "progenitor panicked: ";

/// A panic's source location without this machine's paths: from the crate's folder on
/// (`typify-impl-0.8.0/src/defaults.rs:325`, not `/home/me/.cargo/registry/src/...`).
fn crate_relative(file: &str, line: u32) -> String {
    let file = file.replace('\\', "/");
    let relative = match file.rfind("/src/") {
        Some(at) => {
            let crate_start = file[..at].rfind('/').map_or(0, |slash| slash + 1);
            &file[crate_start..]
        }
        None => file.rsplit('/').next().unwrap_or(&file),
    };
    format!("{relative}:{line}")
}

/// The component schema whose generation fails with the fewest schemas around it: each one
/// is generated alone with what it refers to, smallest closure first, so the first failure
/// is the schema at fault (or the one nearest to it).
fn failing_component(spec: &OpenAPI) -> Option<String> {
    let components = spec.components.as_ref()?;
    let mut without_paths = spec.clone();
    without_paths.paths.paths.clear();
    run_progenitor(&without_paths).err()?;
    let schemas: BTreeMap<String, serde_json::Value> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| Some((name.clone(), serde_json::to_value(schema).ok()?)))
        .collect();
    let mut closures: Vec<(String, BTreeSet<String>)> = schemas
        .keys()
        .map(|name| (name.clone(), schema_closure(&schemas, name)))
        .collect();
    closures.sort_by_key(|(name, closure)| (closure.len(), name.clone()));
    closures.into_iter().find_map(|(name, closure)| {
        let mut alone = without_paths.clone();
        if let Some(components) = alone.components.as_mut() {
            components.schemas.retain(|key, _| closure.contains(key));
        }
        run_progenitor(&alone).is_err().then_some(name)
    })
}

/// `name` and every component schema it reaches through `$ref`.
fn schema_closure(schemas: &BTreeMap<String, serde_json::Value>, name: &str) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    let mut pending = vec![name.to_owned()];
    while let Some(next) = pending.pop() {
        if !reached.insert(next.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get(&next) {
            let mut found = Vec::new();
            super::select::collect_refs(schema, &mut found);
            pending.extend(
                found
                    .into_iter()
                    .filter(|(kind, _)| kind == "schemas")
                    .map(|(_, name)| name),
            );
        }
    }
    reached
}

/// Generating each operation alone finds the one that fails as the whole document does (or
/// else the first that fails), so the error can name its JSON path.
fn failing_operation(spec: &OpenAPI, message: &str) -> Option<String> {
    let mut first_failing = None;
    for (template, item) in &spec.paths.paths {
        let Some(item) = item.as_item() else {
            continue;
        };
        for (method, _) in item.iter() {
            let mut alone = spec.clone();
            alone.paths.paths = [(
                template.clone(),
                openapiv3::ReferenceOr::Item(only_method(item, method)),
            )]
            .into_iter()
            .collect();
            let Err(problem) = run_progenitor(&alone) else {
                continue;
            };
            let path = JsonPath::root()
                .key("paths")
                .key(template)
                .key(method)
                .to_string();
            if problem.message == message {
                return Some(path);
            }
            first_failing.get_or_insert(path);
        }
    }
    first_failing
}

/// `item` with every operation but `method` removed.
fn only_method(item: &openapiv3::PathItem, method: &str) -> openapiv3::PathItem {
    let keep = |name: &str, operation: &Option<openapiv3::Operation>| {
        if name == method {
            operation.clone()
        } else {
            None
        }
    };
    openapiv3::PathItem {
        get: keep("get", &item.get),
        put: keep("put", &item.put),
        post: keep("post", &item.post),
        delete: keep("delete", &item.delete),
        options: keep("options", &item.options),
        head: keep("head", &item.head),
        patch: keep("patch", &item.patch),
        trace: keep("trace", &item.trace),
        ..item.clone()
    }
}

/// Vendors write bare URLs in descriptions (`See https://venice.ai/legal/tos`); rustdoc warns
/// on them (`rustdoc::bare_urls`) and does not link them. In `///` lines outside code blocks,
/// each becomes an autolink, `<https://...>`, trailing punctuation left outside.
fn autolink_bare_urls(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut in_code_block = false;
    for line in code.lines() {
        let trimmed = line.trim_start();
        let Some(text) = trimmed.strip_prefix("///") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        if text.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
        }
        out.push_str(&line[..line.len() - trimmed.len()]);
        out.push_str("///");
        if in_code_block {
            out.push_str(text);
        } else {
            out.push_str(&autolink_line(text));
        }
        out.push('\n');
    }
    out
}

/// One doc line's bare URLs as autolinks; URLs already in `<...>`, `(...)` (a Markdown
/// link's target), quotes or backticks are left alone.
fn autolink_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let before = &rest[..at];
        let enclosed = before
            .chars()
            .next_back()
            .is_some_and(|c| matches!(c, '<' | '(' | '`' | '"' | '\'' | '[' | '='));
        let length = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | ')' | ']'))
            .unwrap_or(rest.len() - at);
        let url = rest[at..at + length].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        out.push_str(before);
        if enclosed {
            out.push_str(url);
        } else {
            out.push('<');
            out.push_str(url);
            out.push('>');
        }
        rest = &rest[at + url.len()..];
    }
    out.push_str(rest);
    out
}

/// prettyplease writes multi-line docs as `/** ... */` blocks. rustfmt re-indents the lines
/// inside such a block, and Markdown reads a line indented by four spaces as a code block, so
/// rustdoc would compile the operation descriptions as doctests. As `///` lines the text
/// keeps its own indentation, and rustfmt leaves it alone.
fn block_docs_to_line_docs(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some(first) = trimmed
            .strip_prefix("/**")
            .filter(|rest| !rest.starts_with('*'))
        else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let indent = &line[..line.len() - trimmed.len()];
        let mut text = first.to_owned();
        while !text.ends_with("*/") {
            match lines.next() {
                Some(next) => {
                    text.push('\n');
                    text.push_str(next);
                }
                None => break,
            }
        }
        let text = text.strip_suffix("*/").unwrap_or(&text);
        for doc_line in text.split('\n') {
            out.push_str(indent);
            out.push_str("///");
            out.push_str(doc_line);
            out.push('\n');
        }
    }
    out
}

/// The vendor's generated `lib.rs` as checked in, when there is one.
fn checked_in_lib_rs(vendor: &VendorSpec) -> Option<String> {
    let root = vendor.dir.parent()?.parent()?;
    let path = root
        .join("crates")
        .join(format!("{}-client", vendor.name))
        .join("src/lib.rs");
    std::fs::read_to_string(path).ok()
}

/// rustfmt is not idempotent on some inputs, so format until the output stops changing;
/// `cargo fmt --check` then agrees with the generated files. A pass that gives `settled`, the
/// checked-in file, stops there: `cargo fmt --check` keeps that file a fixpoint, so a second
/// pass could only repeat it (this halves the formatting of an unchanged vendor, most of
/// `codegen --check`'s time; were the checked-in file ever not a fixpoint, that fmt check
/// fails).
fn rustfmt_to_fixpoint(mut code: String, settled: Option<&str>) -> Result<String, SpecProblem> {
    for _ in 0..4 {
        let formatted = rustfmt(&code)?;
        if formatted == code || settled == Some(formatted.as_str()) {
            return Ok(formatted);
        }
        code = formatted;
    }
    Err(SpecProblem::new(
        "$",
        "rustfmt output did not settle after 4 runs",
    ))
}

/// The rustfmt binary: `$RUSTFMT`, else the toolchain's own as `rustup which rustfmt` names it
/// (found once: through the rustup proxy every call would start two processes), else
/// `rustfmt` on the `PATH`.
static RUSTFMT: std::sync::LazyLock<std::ffi::OsString> = std::sync::LazyLock::new(|| {
    if let Some(explicit) = std::env::var_os("RUSTFMT") {
        return explicit;
    }
    std::process::Command::new("rustup")
        .args(["which", "rustfmt"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|path| path.trim().to_owned())
        .filter(|path| !path.is_empty())
        .map_or_else(|| "rustfmt".into(), Into::into)
});

/// Formats with the toolchain's rustfmt, so `cargo fmt --check` holds for generated files too
/// and a generated crate reads like the rest of the workspace.
pub(super) fn rustfmt(code: &str) -> Result<String, SpecProblem> {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let failed =
        |why: String| SpecProblem::new("$", format!("rustfmt failed on the generated code: {why}"));
    let mut child = Command::new(&*RUSTFMT)
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failed(format!(
                "cannot start rustfmt ({e}); install it with `rustup component add rustfmt`"
            ))
        })?;
    // Writing all of stdin before reading stdout is fine: rustfmt reads its whole input first.
    child
        .stdin
        .take()
        .ok_or_else(|| failed("no stdin".to_owned()))?
        .write_all(code.as_bytes())
        .map_err(|e| failed(e.to_string()))?;
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        return Err(failed(String::from_utf8_lossy(&output.stderr).into_owned()));
    }
    String::from_utf8(output.stdout).map_err(|e| failed(e.to_string()))
}

pub(super) fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        .with_inner_type("balances_runtime::Context".parse().unwrap_or_default());
    // Money: the overlay marks amount fields `format: decimal`; they must decode exactly, from
    // JSON strings ("110.00"), numbers (12345678901234567.89) and integers (1500 points)
    // alike, keeping the sign and scale of the text (`-0.00`).
    for instance_type in [
        schemars08::schema::InstanceType::String,
        schemars08::schema::InstanceType::Number,
        schemars08::schema::InstanceType::Integer,
    ] {
        settings.with_conversion(
            schemars08::schema::SchemaObject {
                instance_type: Some(instance_type.into()),
                format: Some("decimal".to_owned()),
                ..Default::default()
            },
            "::balances_runtime::ExactDecimal",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    settings
}

/// Runs `f`, turning a panic into a [`SpecProblem`] that carries the panic message.
///
/// The panic hook is process-wide, so swapping it is serialized (several threads may generate
/// at once, as tests do), and the temporary hook only captures panics of the calling thread:
/// any other thread's panic still goes to the previous hook and is reported as usual.
fn catch_generator_panics<T>(f: impl FnOnce() -> T) -> Result<T, SpecProblem> {
    static HOOK_SWAP: Mutex<()> = Mutex::new(());
    let _swapping = HOOK_SWAP
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generating_thread = std::thread::current().id();
    let message = Arc::new(Mutex::new(None::<String>));
    let hook_message = Arc::clone(&message);
    let previous_hook = Arc::new(panic::take_hook());
    let other_threads_hook = Arc::clone(&previous_hook);
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != generating_thread {
            return (**other_threads_hook)(info);
        }
        let text = panic_text(info.payload());
        let location = info
            .location()
            .map(|l| format!(" (at {})", crate_relative(l.file(), l.line())))
            .unwrap_or_default();
        if let Ok(mut slot) = hook_message.lock() {
            *slot = Some(format!("{text}{location}"));
        }
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    // Dropping the temporary hook drops its clone of the previous one, which can then be put
    // back as it was.
    drop(panic::take_hook());
    match Arc::try_unwrap(previous_hook) {
        Ok(hook) => panic::set_hook(hook),
        Err(shared) => panic::set_hook(Box::new(move |info| (**shared)(info))),
    }
    result.map_err(|_| {
        let text = message
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_else(|| "unknown panic".to_owned());
        SpecProblem::new("$", format!("{PANICKED}{text}"))
    })
}

/// A panic's message, whether it was raised with a `&str` or a `String`.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

fn header(vendor: &VendorSpec, comment: &str) -> String {
    format!(
        "{comment} @generated by `{COMMAND}` from specs/{name}/ (upstream sha256 {sha}).\n\
         {comment} Do not edit by hand: change specs/{name}/overlay.yaml or the xtask, then regenerate.\n",
        name = vendor.name,
        sha = vendor.actual_sha256,
    )
}

/// The crate's own README (a published crate cannot point outside its package).
fn readme(vendor: &VendorSpec, spec: &OpenAPI) -> String {
    let source = &vendor.source;
    let from = match source.origin {
        super::load::Origin::Published => format!(
            "the vendor's published\nOpenAPI document (<{url}>, sha256 `{sha}`)",
            url = source.upstream_url,
            sha = vendor.actual_sha256
        ),
        super::load::Origin::DocumentationPage => format!(
            "the OpenAPI block of the vendor's\ndocumentation page (<{url}>)",
            url = source.upstream_url
        ),
        super::load::Origin::Authored => format!(
            "an OpenAPI document authored\nfrom the vendor's documentation (<{url}>; the vendor publishes none)",
            url = source.upstream_url
        ),
    };
    format!(
        "<!-- {header} -->\n\n\
         # {name}-client\n\n\
         Typed Rust client for the {display} API (spec version {api_version}), generated by\n\
         [progenitor](https://github.com/oxidecomputer/progenitor) from {from},\n\
         repaired for real-world defects and checked in by the `balances` workspace's\n\
         `cargo xtask codegen`.\n\n\
         Most applications want the `balances` crate instead: one exact balance model, shared\n\
         authentication, retries and timeouts across vendors, which calls this crate. This\n\
         crate is also its escape hatch: every generated operation and type, built with a\n\
         `balances_runtime::Context` (credentials that travel with the client, a 1 MiB cap on\n\
         response bodies, the last exchange kept) and money as `balances_runtime::ExactDecimal`.\n\n\
         TLS: the `rustls` feature (default) or `native-tls`.\n{omitted}",
        omitted = omitted_operations(spec),
        header = header(vendor, "").trim(),
        name = vendor.name,
        display = source.vendor,
        api_version = spec.info.version,
    )
}

/// The README section listing operations the pipeline had to leave out, if any.
fn omitted_operations(spec: &OpenAPI) -> String {
    let Some(serde_json::Value::Array(omitted)) =
        spec.extensions.get(super::repair::OMITTED_OPERATIONS)
    else {
        return String::new();
    };
    let mut text = String::from(
        "\n## Left out\n\nprogenitor cannot generate these; they are not in this client:\n\n",
    );
    for operation in omitted.iter().filter_map(serde_json::Value::as_str) {
        text.push_str(&format!("- {operation}\n"));
    }
    text
}

fn lib_rs(vendor: &VendorSpec, spec: &OpenAPI, code: &str, balance: &str) -> String {
    let source = &vendor.source;
    let format = source.format.as_deref().unwrap_or("OpenAPI");
    let origin = match source.origin {
        super::load::Origin::Published => "Upstream",
        super::load::Origin::DocumentationPage => "Upstream (the block of a documentation page)",
        super::load::Origin::Authored => {
            "Authored here from the documentation (no spec is published)"
        }
    };
    let seed = source
        .seed
        .as_deref()
        .map(|seed| format!(", extracted from `{seed}`"))
        .unwrap_or_default();
    let evidence: String = source
        .evidence
        .iter()
        .map(|evidence| {
            format!(
                "//! - Written from the vendor's own {about}, kept as `specs/{name}/{file}`\n\
                 //!   (<{url}>), sha256 `{sha}`.\n",
                about = evidence.about,
                name = vendor.name,
                file = evidence.file,
                url = evidence.url,
                sha = evidence.file_sha256,
            )
        })
        .collect();
    format!(
        "{header}\n\
         //! Typed client for the {display} API, generated by progenitor from the vendored spec.\n\
         //!\n\
         //! - {origin}: <{url}> ({format}, `info.version` {api_version}){seed}, retrieved {retrieved}.\n\
         //! - Vendored as `specs/{name}/{upstream}`, sha256 `{sha}`.\n\
         {evidence}\
         //! - Repaired by the xtask's generic passes and `specs/{name}/overlay.yaml`; the exact document\n\
         //!   progenitor was given is `openapi.json` beside this crate's `Cargo.toml`.\n\
         //!\n\
         //! Amounts marked `format: decimal` are [`balances_runtime::ExactDecimal`]: exact, with the\n\
         //! sign and scale the vendor wrote. The [`balances_runtime::Context`] given to\n\
         //! [`Client::new`] carries the auth headers (or the request signer) for every request,\n\
         //! caps response bodies at [`balances_runtime::MAX_RESPONSE_BODY_BYTES`] and keeps the\n\
         //! last exchange.\n\
         #![allow(clippy::all, unused_imports, missing_debug_implementations)]\n\
         #![warn(missing_docs)]\n\n\
         {code}\n\
         {CLIENT_HOOKS}{balance}",
        header = header(vendor, "//"),
        display = source.vendor,
        url = source.upstream_url,
        api_version = spec.info.version,
        retrieved = source.retrieved,
        name = vendor.name,
        upstream = vendor
            .upstream_path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha = vendor.actual_sha256,
    )
}

/// Appended to every generated client: the hooks that hand each request to its
/// [`balances_runtime::Context`] (auth headers, body cap, the exchange kept). The impl must be
/// in the client's crate (the orphan rule), so this is all a client carries of the runtime.
const CLIENT_HOOKS: &str = r#"impl progenitor_client::ClientHooks<balances_runtime::Context> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &progenitor_client::OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner
            .prepare(request)
            .map_err(progenitor_client::Error::Custom)
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &progenitor_client::OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner.execute(&self.client, request).await
    }
}
"#;

/// Crates the generated code may name, with how to find out whether it does.
const OPTIONAL_DEPENDENCIES: [(&str, &str); 7] = [
    ("chrono", "chrono::"),
    ("uuid", "uuid::"),
    ("regress", "regress::"),
    ("futures", "futures::"),
    ("bytes", "bytes::"),
    // WebSocket upgrades: a random `Sec-WebSocket-Key`, base64-encoded.
    ("base64", "::base64::"),
    ("rand", "::rand::"),
];

fn cargo_toml(vendor: &VendorSpec, spec: &OpenAPI, code: &str) -> String {
    let mut dependencies = vec![
        "balances-runtime",
        "progenitor-client",
        "reqwest",
        "serde",
        "serde_json",
    ];
    dependencies.extend(
        OPTIONAL_DEPENDENCIES
            .iter()
            .filter(|(_, needle)| code.contains(needle))
            .map(|(name, _)| *name),
    );
    dependencies.sort_unstable();
    let dependencies: String = dependencies
        .iter()
        .map(|name| format!("{name}.workspace = true\n"))
        .collect();
    format!(
        "{header}\n\
         [package]\n\
         name = \"{name}-client\"\n\
         description = \"Typed client for the {display} API (spec version {api_version}), generated from specs/{name}\"\n\
         version.workspace = true\n\
         edition.workspace = true\n\
         rust-version.workspace = true\n\
         license.workspace = true\n\
         repository.workspace = true\n\
         homepage.workspace = true\n\
         documentation = \"https://docs.rs/{name}-client\"\n\
         readme = \"README.md\"\n\
         keywords = [\"{name}\", \"openapi\", \"balance\", \"api-client\"]\n\
         categories = [\"api-bindings\", \"web-programming::http-client\"]\n\
         \n\
         [features]\n\
         # TLS for reqwest, as the `balances` facade chooses it: rustls by default.\n\
         default = [\"rustls\"]\n\
         rustls = [\"reqwest/rustls\"]\n\
         native-tls = [\"reqwest/native-tls\"]\n\
         \n\
         [dependencies]\n\
         {dependencies}",
        header = header(vendor, "#"),
        name = vendor.name,
        display = vendor.source.vendor,
        api_version = spec.info.version,
    )
}

#[cfg(test)]
mod autolink_tests {
    use super::autolink_line;

    #[test]
    fn bare_urls_become_autolinks_and_others_stay() {
        assert_eq!(
            autolink_line(" See https://venice.ai/legal/tos."),
            " See <https://venice.ai/legal/tos>."
        );
        for kept in [
            " [terms](https://venice.ai/tos)",
            " <https://venice.ai/tos>",
            " `https://example.invalid/x`",
            " no link here",
        ] {
            assert_eq!(autolink_line(kept), kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_docs_become_line_docs_with_their_text_unindented() {
        let code = "impl C {\n    /**Title\n\nSends a `GET`\n\n```ignore\nlet x = 1;\n```*/\n    pub fn f() {}\n}\n";
        assert_eq!(
            block_docs_to_line_docs(code),
            "impl C {\n    ///Title\n    ///\n    ///Sends a `GET`\n    ///\n    ///```ignore\n    ///let x = 1;\n    ///```\n    pub fn f() {}\n}\n"
        );
        let single = "    /**one line*/\n";
        assert_eq!(block_docs_to_line_docs(single), "    ///one line\n");
    }

    fn spec(schemas: serde_json::Value) -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": schemas},
        }))
        .expect("an OpenAPI document")
    }

    /// The locator names the schema at fault, not the first schema that merely reaches it,
    /// nor the document root.
    #[test]
    fn the_failing_component_is_the_smallest_one_that_fails() {
        let schemas = serde_json::json!({
            "Base": {"type": "object", "properties": {"id": {"type": "string"}}},
            // `type: object` with a `format`: typify panics ("invalid (or unexpected) schema").
            "Broken": {"type": "object", "format": "weird"},
            // Sorts first and reaches the broken schema: not the one at fault.
            "AUser": {"type": "object", "properties": {
                "b": {"$ref": "#/components/schemas/Broken"},
                "base": {"$ref": "#/components/schemas/Base"}
            }},
            "Fine": {"type": "object", "properties": {"x": {"type": "string"}}}
        });
        let document = spec(schemas);
        assert_eq!(failing_component(&document).as_deref(), Some("Broken"));
        // And the whole error says where and what.
        let panic = run_progenitor(&document).expect_err("the document fails");
        let located = locate(&document, panic.clone());
        assert_eq!(located.json_path, "$.components.schemas.Broken");
        assert!(
            located
                .message
                .contains("a schema typify does not understand")
        );
        assert!(
            !located.message.contains("panicked") && !located.message.contains(".cargo"),
            "{}",
            located.message
        );
        assert_eq!(
            failing_component(&spec(serde_json::json!({"Fine": {"type": "string"}}))),
            None
        );
    }
}

#[cfg(test)]
mod explanation_tests {
    use super::{crate_relative, explain};

    #[test]
    fn panic_locations_are_relative_to_their_crate() {
        assert_eq!(
            crate_relative(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/typify-impl-0.8.0/src/defaults.rs",
                325
            ),
            "typify-impl-0.8.0/src/defaults.rs:325"
        );
        assert_eq!(
            crate_relative(
                r"C:\Users\me\.cargo\registry\src\x\progenitor-impl-0.15.1\src\method.rs",
                7
            ),
            "progenitor-impl-0.15.1/src/method.rs:7"
        );
    }

    #[test]
    fn known_failures_are_explained_without_the_panic_text() {
        let raw = "progenitor panicked: internal error: entered unreachable code \
                   (at typify-impl-0.8.0/src/defaults.rs:325)";
        let shown = explain(raw);
        assert!(shown.contains("`default`"), "{shown}");
        assert!(
            !shown.contains("unreachable") && !shown.contains("panicked"),
            "{shown}"
        );
    }

    #[test]
    fn an_unknown_panic_says_where_and_what_to_do_but_not_its_text() {
        let shown =
            explain("progenitor panicked: index out of bounds (at typify-impl-0.8.0/src/new.rs:9)");
        assert!(shown.contains("typify-impl-0.8.0/src/new.rs:9"), "{shown}");
        assert!(shown.contains("overlay"), "{shown}");
        assert!(!shown.contains("index out of bounds"), "{shown}");
    }

    #[test]
    fn a_rejection_keeps_progenitor_s_sentence_without_its_debug_dump() {
        let shown = explain(
            "progenitor rejected the document: unexpected or unhandled format in the OpenAPI \
             document cookie parameters are not supported Cookie {\n    parameter_data: ...",
        );
        assert!(
            shown.contains("cookie parameters are not supported"),
            "{shown}"
        );
        assert!(!shown.contains("parameter_data"), "{shown}");
    }
}
