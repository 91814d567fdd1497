//! Part of step 6, **describe**: a description's `account_parameters` (xAI's `team_id`,
//! Cloudflare's `account_id`) checked against the balance operation. Each is a required
//! path parameter the spec declares and the path template holds, named so that it can be a
//! config field and an environment variable, and taken by no other setting.

use balances_registry::Description;
use serde_json::Value;

/// Settings every account has, which a parameter must not shadow.
const TAKEN: &[&str] = &["name", "vendor", "base_url", "region", "alert_below"];

/// Whether every account parameter of `description` is a required path parameter of
/// `operation` (at `path`), with a name usable as a config field.
pub fn check(
    document: &Value,
    operation: &Value,
    path: &str,
    description: &Description,
) -> Result<(), (&'static str, String)> {
    let key = "account_parameters";
    for (index, name) in description.account_parameters.iter().enumerate() {
        if description.account_parameters[..index].contains(name) {
            return Err((key, format!("`{name}` is listed twice")));
        }
        let field_like = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !field_like || name.ends_with("_env") {
            return Err((
                key,
                format!(
                    "`{name}` cannot be a config field and a variable name ([a-z][a-z0-9_]*, \
                     not ending in `_env`)"
                ),
            ));
        }
        if TAKEN.contains(&name.as_str())
            || description
                .auth
                .credential_fields()
                .contains(&name.as_str())
        {
            return Err((key, format!("`{name}` is already an account setting")));
        }
        if !path.contains(&format!("{{{name}}}")) {
            return Err((
                key,
                format!("`{name}` is not a variable of the balance path `{path}`"),
            ));
        }
        let declared =
            super::describe::operation_parameters(document, operation).any(|parameter| {
                parameter.get("in").and_then(Value::as_str) == Some("path")
                    && parameter.get("name").and_then(Value::as_str) == Some(name)
                    && parameter.get("required").and_then(Value::as_bool) == Some(true)
            });
        if !declared {
            return Err((
                key,
                format!("the balance operation declares no required path parameter `{name}`"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn description(parameters: &[&str]) -> Description {
        let mut description: Description = toml::from_str(
            r#"
            name = "Example"
            auth = { scheme = "bearer" }
            base_url = "https://example.com"
            [balance]
            operation = "getBalance"
            denomination = { currency = "USD" }
            total = "/balance"
            "#,
        )
        .expect("description");
        description.account_parameters = parameters.iter().map(|p| (*p).to_owned()).collect();
        description
    }

    #[test]
    fn a_parameter_must_be_a_required_path_parameter_with_a_field_name() {
        let document = json!({"components": {"parameters": {"Team": {
            "name": "team_id", "in": "path", "required": true, "schema": {"type": "string"}
        }}}});
        let operation = json!({"parameters": [{"$ref": "#/components/parameters/Team"}]});
        let path = "/v1/billing/teams/{team_id}/prepaid/balance";
        let check =
            |names: &[&str], path: &str| check(&document, &operation, path, &description(names));
        assert_eq!(check(&["team_id"], path), Ok(()));
        assert_eq!(check(&[], "/v1/balance"), Ok(()));
        let error = |names: &[&str], path: &str| check(names, path).unwrap_err().1;
        assert!(error(&["account_id"], path).contains("not a variable of the balance path"));
        // Declared by the operation, whatever else the path holds.
        assert_eq!(check(&["team_id"], "/v1/{team_id}/x"), Ok(()));
        let optional = json!({"parameters": [{"name": "team_id", "in": "path", "schema": {}}]});
        assert!(
            super::check(&document, &optional, path, &description(&["team_id"]))
                .unwrap_err()
                .1
                .contains("no required path parameter `team_id`")
        );
        assert!(error(&["Team-Id"], path).contains("cannot be a config field"));
        assert!(error(&["team_env"], path).contains("cannot be a config field"));
        assert!(error(&["api_key"], path).contains("already an account setting"));
        assert!(error(&["region"], path).contains("already an account setting"));
        assert!(error(&["team_id", "team_id"], path).contains("listed twice"));
    }
}
