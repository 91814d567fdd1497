//! `host`, `basePath` and `schemes` as 3.0 `servers`.

use serde_json::{Map, Value, json};

use super::{Context, media_types};

/// One server per scheme: `scheme://host/basePath` (a trailing `/` of the base path dropped).
/// Without `schemes` the URL is scheme-relative (`//host/basePath`): 2.0 then means "the
/// scheme the document was fetched with". Without `host`, the base path alone (a URL relative
/// to where the document is). Template variables in the host (`{region}.example.com`) become
/// server variables, which 3.0 requires to be declared.
pub(super) fn servers(swagger: &Map<String, Value>) -> Vec<Value> {
    let base_path = swagger
        .get("basePath")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end_matches('/');
    let Some(host) = swagger.get("host").and_then(Value::as_str) else {
        return match swagger.get("basePath").and_then(Value::as_str) {
            Some(path) => vec![server(path)],
            None => Vec::new(),
        };
    };
    let schemes = media_types(swagger.get("schemes"));
    if schemes.is_empty() {
        return vec![server(&format!("//{host}{base_path}"))];
    }
    schemes
        .iter()
        .map(|scheme| server(&format!("{scheme}://{host}{base_path}")))
        .collect()
}

fn server(url: &str) -> Value {
    let url = url.replace("{{", "{").replace("}}", "}");
    let mut variables = Map::new();
    let mut rest = url.as_str();
    while let Some((_, after)) = rest.split_once('{') {
        let Some((name, tail)) = after.split_once('}') else {
            break;
        };
        variables.insert(name.to_owned(), json!({"default": "unknown"}));
        rest = tail;
    }
    let mut server = Map::new();
    server.insert("url".into(), url.clone().into());
    if !variables.is_empty() {
        server.insert("variables".into(), Value::Object(variables));
    }
    Value::Object(server)
}

/// An operation that names schemes the document does not (`schemes: [wss]` on one
/// operation) gets the document's servers with each of those schemes instead.
pub(super) fn operation_servers(
    operation: &Map<String, Value>,
    context: &Context,
) -> Option<Vec<Value>> {
    let own: Vec<String> = media_types(operation.get("schemes"))
        .into_iter()
        .filter(|scheme| !context.schemes.contains(scheme))
        .collect();
    if own.is_empty() || context.servers.is_empty() {
        return None;
    }
    let mut servers = Vec::new();
    for scheme in &own {
        for base in &context.servers {
            let mut server = base.clone();
            if let Some(url) = base.get("url").and_then(Value::as_str) {
                let without_scheme = match url.split_once("//") {
                    Some((_, rest)) => rest,
                    None => url,
                };
                server["url"] = format!("{scheme}://{without_scheme}").into();
            }
            servers.push(server);
        }
    }
    Some(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers_of(swagger: Value) -> Vec<Value> {
        servers(swagger.as_object().unwrap())
    }

    #[test]
    fn one_server_per_scheme_with_the_base_path() {
        assert_eq!(
            servers_of(
                json!({"host": "api.example.com", "basePath": "/v2/", "schemes": ["https", "http"]})
            ),
            [
                json!({"url": "https://api.example.com/v2"}),
                json!({"url": "http://api.example.com/v2"})
            ]
        );
    }

    #[test]
    fn without_schemes_the_url_is_scheme_relative_and_without_host_relative() {
        assert_eq!(
            servers_of(json!({"host": "api.example.com"})),
            [json!({"url": "//api.example.com"})]
        );
        assert_eq!(
            servers_of(json!({"basePath": "/api/v1"})),
            [json!({"url": "/api/v1"})]
        );
        assert!(servers_of(json!({})).is_empty());
    }

    #[test]
    fn host_templates_declare_their_variables() {
        assert_eq!(
            servers_of(json!({"host": "{{region}}.example.com", "schemes": ["https"]})),
            [json!({"url": "https://{region}.example.com",
                    "variables": {"region": {"default": "unknown"}}})]
        );
    }
}
