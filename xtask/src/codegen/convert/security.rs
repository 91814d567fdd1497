//! `securityDefinitions` as 3.0 `components.securitySchemes`.

use serde_json::{Map, Value};

use super::sanitise;

/// - `basic` becomes `type: http, scheme: basic`;
/// - `apiKey` is the same in both versions;
/// - `oauth2` with one `flow` becomes `flows` with that flow, renamed as 3.0 names them
///   (`application` → `clientCredentials`, `accessCode` → `authorizationCode`), its URLs and
///   scopes moved into it.
///
/// Names are sanitised as component names are, and requirements follow
/// ([`rename_requirements`]).
pub(super) fn security_schemes(definitions: &Map<String, Value>) -> Map<String, Value> {
    definitions
        .iter()
        .map(|(name, scheme)| (sanitise(name), convert_scheme(scheme)))
        .collect()
}

fn convert_scheme(scheme: &Value) -> Value {
    let Some(scheme) = scheme.as_object() else {
        return scheme.clone();
    };
    let mut out = scheme.clone();
    match scheme.get("type").and_then(Value::as_str) {
        Some("basic") => {
            out.insert("type".into(), "http".into());
            out.insert("scheme".into(), "basic".into());
        }
        Some("oauth2") => {
            let flow_name = match scheme.get("flow").and_then(Value::as_str) {
                Some("application") => "clientCredentials",
                Some("accessCode") => "authorizationCode",
                Some(other) => other,
                None => "implicit",
            };
            let mut flow = Map::new();
            for key in ["authorizationUrl", "tokenUrl"] {
                if let Some(url) = out.remove(key) {
                    flow.insert(key.into(), url);
                }
            }
            let scopes = out
                .remove("scopes")
                .unwrap_or_else(|| Value::Object(Map::new()));
            flow.insert("scopes".into(), scopes);
            out.remove("flow");
            // 2.0 tolerated a `name` on oauth2 schemes; 3.0 does not.
            out.remove("name");
            let mut flows = Map::new();
            flows.insert(flow_name.into(), Value::Object(flow));
            out.insert("flows".into(), Value::Object(flows));
        }
        _ => {}
    }
    Value::Object(out)
}

/// Security requirements (`[{name: [scopes]}]`) name the schemes by their sanitised names.
pub(super) fn rename_requirements(requirements: &mut Value) {
    let Some(requirements) = requirements.as_array_mut() else {
        return;
    };
    for requirement in requirements {
        if let Some(map) = requirement.as_object_mut() {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(name, scopes)| (sanitise(&name), scopes))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basic_api_key_and_oauth2_become_their_3_0_schemes() {
        let definitions = json!({
            "basic auth": {"type": "basic", "description": "user and password"},
            "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
            "petstore_auth": {"type": "oauth2", "flow": "accessCode",
                "authorizationUrl": "https://example.invalid/authorize",
                "tokenUrl": "https://example.invalid/token",
                "scopes": {"read": "read things"}},
            "machine": {"type": "oauth2", "flow": "application", "tokenUrl": "https://example.invalid/token"}
        });
        let schemes = security_schemes(definitions.as_object().unwrap());
        assert_eq!(
            Value::Object(schemes),
            json!({
                "basic_auth": {"type": "http", "scheme": "basic", "description": "user and password"},
                "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
                "petstore_auth": {"type": "oauth2", "flows": {"authorizationCode": {
                    "authorizationUrl": "https://example.invalid/authorize",
                    "tokenUrl": "https://example.invalid/token",
                    "scopes": {"read": "read things"}}}},
                "machine": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": "https://example.invalid/token", "scopes": {}}}}
            })
        );
    }

    #[test]
    fn requirements_name_the_sanitised_schemes() {
        let mut requirements = json!([{"basic auth": []}, {"key": [], "petstore_auth": ["read"]}]);
        rename_requirements(&mut requirements);
        assert_eq!(
            requirements,
            json!([{"basic_auth": []}, {"key": [], "petstore_auth": ["read"]}])
        );
    }
}
