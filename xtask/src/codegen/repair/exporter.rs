//! Repairs for what documentation exporters (apifox and similar) add to otherwise valid specs.

use serde_json::Value;

use super::walk::for_each_schema;
use crate::codegen::error::SpecProblem;

/// Extension keys that exporters leave behind. They are noise in generated docs, and inside a
/// Security Requirement Object (`security: [{bearer: [], x-apifox: {...}}]`) they are not even
/// allowed: every key there must name a security scheme, so parsers reject the document.
const EXPORTER_EXTENSION_PREFIXES: [&str; 2] = ["x-apifox", "x-run-in-apifox"];

/// Removes exporter bookkeeping keys (`x-apifox-orders`, `x-apifox-folder`, `x-apifox` inside
/// security requirements, `x-run-in-apifox`, ...) everywhere in the document.
pub fn strip_exporter_extensions(doc: &mut Value) -> Result<usize, SpecProblem> {
    fn strip(value: &mut Value) -> usize {
        match value {
            Value::Object(object) => {
                let before = object.len();
                object.retain(|key, _| {
                    !EXPORTER_EXTENSION_PREFIXES
                        .iter()
                        .any(|prefix| key.starts_with(prefix))
                });
                let removed = before - object.len();
                removed + object.values_mut().map(strip).sum::<usize>()
            }
            Value::Array(items) => items.iter_mut().map(strip).sum(),
            _ => 0,
        }
    }
    Ok(strip(doc))
}

/// Rewrites security schemes of `type: bearer` (or `basic`), which some exporters emit, to the
/// standard `type: http` with `scheme: bearer`.
pub fn bearer_security_scheme_type(doc: &mut Value) -> Result<usize, SpecProblem> {
    let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    else {
        return Ok(0);
    };
    let mut changed = 0;
    for scheme in schemes.values_mut().filter_map(Value::as_object_mut) {
        let Some(kind) = scheme.get("type").and_then(Value::as_str) else {
            continue;
        };
        let http_scheme = kind.to_ascii_lowercase();
        if http_scheme == "bearer" || http_scheme == "basic" {
            scheme.insert("type".into(), "http".into());
            scheme.entry("scheme").or_insert(Value::String(http_scheme));
            changed += 1;
        }
    }
    Ok(changed)
}

/// Removes blank schema `title`s. Generators name types after titles, so `title: ''` yields a
/// type called `X` instead of one named after its operation.
pub fn empty_titles(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        if schema
            .get("title")
            .and_then(Value::as_str)
            .is_some_and(|t| t.trim().is_empty())
        {
            schema.remove("title");
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Removes schema `default`s that are exporter template placeholders such as `'{{APPKEY}}'`.
/// A generated builder would otherwise send the placeholder itself when a caller forgets the
/// field, instead of failing to build the request.
pub fn placeholder_defaults(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        if schema.get("default").is_some_and(is_placeholder) {
            schema.remove("default");
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

fn is_placeholder(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        let s = s.trim();
        s.starts_with("{{") && s.ends_with("}}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exporter_extensions_are_removed_even_inside_security_requirements() {
        let mut doc = json!({
            "security": [{"bearer": [], "x-apifox": {"required": true}}],
            "paths": {"/a": {"get": {"x-apifox-folder": "f", "x-run-in-apifox": "u", "x-keep": 1}}}
        });
        assert_eq!(strip_exporter_extensions(&mut doc).unwrap(), 3);
        assert_eq!(
            doc,
            json!({"security": [{"bearer": []}], "paths": {"/a": {"get": {"x-keep": 1}}}})
        );
    }

    #[test]
    fn bearer_type_becomes_http_bearer() {
        let mut doc = json!({"components": {"securitySchemes": {
            "bearer": {"type": "bearer", "scheme": "bearer"},
            "ok": {"type": "http", "scheme": "bearer"}
        }}});
        assert_eq!(bearer_security_scheme_type(&mut doc).unwrap(), 1);
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"],
            json!({"type": "http", "scheme": "bearer"})
        );
    }

    #[test]
    fn blank_titles_are_removed_from_schemas_only() {
        let mut doc = json!({
            "info": {"title": ""},
            "components": {"schemas": {"A": {"title": " ", "type": "object"}, "B": {"title": "Kept"}}}
        });
        assert_eq!(empty_titles(&mut doc).unwrap(), 1);
        assert_eq!(doc["info"]["title"], "");
        assert_eq!(doc["components"]["schemas"]["A"], json!({"type": "object"}));
        assert_eq!(doc["components"]["schemas"]["B"]["title"], "Kept");
    }

    #[test]
    fn placeholder_defaults_are_removed_real_defaults_kept() {
        let mut doc = json!({"components": {"schemas": {"A": {"type": "object", "properties": {
            "appkey": {"type": "string", "default": "{{APPKEY}}"},
            "page": {"type": "integer", "default": 1}
        }}}}});
        assert_eq!(placeholder_defaults(&mut doc).unwrap(), 1);
        let properties = &doc["components"]["schemas"]["A"]["properties"];
        assert_eq!(properties["appkey"], json!({"type": "string"}));
        assert_eq!(properties["page"]["default"], 1);
    }
}
