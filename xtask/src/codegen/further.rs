//! Part of step 6, **describe**: what a description needs beyond one operation and one
//! server, checked against the spec: amounts from a further operation's body (new-api's
//! `total_usage` of `getBillingUsage`), the sentinel meaning unlimited, a server each account
//! gives, a currency each account chooses, and the examples' further responses.

use balances_registry::{
    AmountSource, BalanceMapping, Denomination, Description, Example, FurtherOperation,
};
use serde_json::Value;

use super::{
    Checker, KeyedError, Kind, Located, exact_divisor, find_operation, request_shape,
    success_schema,
};

/// The operations the amounts name besides the balance operation, each checked (it exists,
/// has a JSON success body, needs no parameter a description cannot give) and listed as the
/// registry carries them.
pub(super) fn further_operations(
    document: &Value,
    description: &Description,
) -> Result<Vec<FurtherOperation>, KeyedError> {
    let mut operations = Vec::new();
    for name in description.further_operations() {
        let key = "balance.total.less.operation".to_owned();
        if name == description.balance.operation {
            return Err((
                key,
                format!(
                    "`{name}` is the balance operation; `less` takes another operation's amount"
                ),
            ));
        }
        let (method, path, operation) = find_operation(document, name)
            .ok_or_else(|| (key.clone(), format!("the spec has no operation `{name}`")))?;
        let shape = request_shape(document, operation, &[])
            .map_err(|m| (key.clone(), format!("`{name}`: {m}")))?;
        if !shape.headers.is_empty() || !shape.query.is_empty() || shape.json_body {
            return Err((
                key,
                format!("`{name}` needs parameters or a body; a further operation is sent bare"),
            ));
        }
        operations.push(FurtherOperation::new(
            name,
            &method.to_ascii_uppercase(),
            &path,
        ));
    }
    Ok(operations)
}

impl Checker<'_> {
    /// `from` as an amount of the row; `less` as an exact amount of its operation's success
    /// body, with a divisor that divides exactly.
    pub(super) fn check_less(
        &self,
        row: &Located,
        from: &str,
        less: &balances_registry::OperationAmount,
        key: &str,
    ) -> Result<(), KeyedError> {
        self.expect_money(row, from, key)?;
        let (method, path, operation) =
            find_operation(self.document, &less.operation).ok_or_else(|| {
                (
                    format!("{key}.less.operation"),
                    format!("the spec has no operation `{}`", less.operation),
                )
            })?;
        let body = success_schema(method, &path, operation).ok_or_else(|| {
            (
                format!("{key}.less.operation"),
                format!("`{}` has no JSON success response", less.operation),
            )
        })?;
        let further = Checker {
            operation: &less.operation,
            ..*self
        };
        further.expect_money(&body, &less.pointer, &format!("{key}.less.pointer"))?;
        if let Some(divisor) = &less.divisor {
            exact_divisor(divisor).map_err(|m| (format!("{key}.less.divisor"), m))?;
        }
        Ok(())
    }

    /// The sentinel's field is in the row and its value a decimal.
    pub(super) fn check_unlimited(
        &self,
        balance: &BalanceMapping,
        row: &Located,
    ) -> Result<(), KeyedError> {
        let Some(sentinel) = &balance.unlimited else {
            return Ok(());
        };
        self.expect(
            row,
            &sentinel.pointer,
            Kind::Money,
            "balance.unlimited.pointer",
        )?;
        if is_decimal_text(&sentinel.equals) {
            Ok(())
        } else {
            Err((
                "balance.unlimited.equals".to_owned(),
                format!(
                    "`{}` is not a decimal (`100000000`, `-1.5`)",
                    sentinel.equals
                ),
            ))
        }
    }
}

/// A plain decimal: an optional `-`, digits, at most one `.` between digits (what the
/// runtime's exact comparison reads).
fn is_decimal_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && parts.next().is_none_or(all_digits)
}

/// Where the amounts may use a further operation: `total` only (the facade subtracts the
/// further amount from the total), from a row that is the body itself or an object in it.
pub(super) fn check_less_placement(balance: &BalanceMapping) -> Result<(), KeyedError> {
    for (key, source) in [
        ("balance.granted", &balance.granted),
        ("balance.topped_up", &balance.topped_up),
    ] {
        if let Some(AmountSource::Less { .. }) = source {
            return Err((
                key.to_owned(),
                "`less` is supported in `total` only".to_owned(),
            ));
        }
    }
    Ok(())
}

/// A server per account instead of the vendor's: `account_base_url` alone, without
/// `base_url` or `regions`.
pub(super) fn check_account_base_url(
    description: &Description,
) -> Result<(), (&'static str, String)> {
    match &description.account_base_url {
        Some(hint) if hint.trim().is_empty() => Err((
            "account_base_url",
            "say what the account's base URL is (`the relay site's address`)".to_owned(),
        )),
        Some(_) if description.base_url.is_some() || !description.regions.is_empty() => Err((
            "account_base_url",
            "a vendor whose accounts give the server has no `base_url` or `regions` of its own"
                .to_owned(),
        )),
        _ => Ok(()),
    }
}

/// A currency per account is an ISO 4217-shaped code, as the account setting must be.
pub(super) fn check_account_currency(
    description: &Description,
) -> Result<(), (&'static str, String)> {
    if let Denomination::AccountCurrency(code) = &description.balance.denomination
        && !is_currency_code(code)
    {
        return Err((
            "balance.denomination.account_currency",
            format!("`{code}` is not a currency code (three capital letters)"),
        ));
    }
    Ok(())
}

/// Three ASCII capital letters, the shape of an ISO 4217 code (`USD`, `CNY`).
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// An example's further responses answer the further operations in order (an error may stop
/// before the last), and its `currency` is one the description lets an account choose.
pub(super) fn check_example(
    description: &Description,
    operations: &[FurtherOperation],
    example: &Example,
) -> Result<(), String> {
    if let Some(currency) = &example.currency {
        if !matches!(
            description.balance.denomination,
            Denomination::AccountCurrency(_)
        ) {
            return Err("currency: the vendor's denomination is not `account_currency`".into());
        }
        if !is_currency_code(currency) {
            return Err(format!("currency: `{currency}` is not a currency code"));
        }
    }
    // A spend report's further responses are its pages, which `spend::check_example` checks.
    if description.balance.spend.is_some() {
        return Ok(());
    }
    if example.responses.len() > operations.len() {
        return Err(format!(
            "responses: {} given, but the balance takes {} further operation(s)",
            example.responses.len(),
            operations.len()
        ));
    }
    for (index, (response, operation)) in example.responses.iter().zip(operations).enumerate() {
        if response.operation.as_deref() != Some(operation.operation.as_str()) {
            return Err(format!(
                "responses[{index}].operation: the facade asks for `{}` here",
                operation.operation
            ));
        }
    }
    let is_balance = matches!(example.expected, balances_registry::Expected::Balance(_));
    if is_balance && example.responses.len() != operations.len() {
        return Err(format!(
            "responses: a balance needs the response of every further operation ({})",
            operations
                .iter()
                .map(|o| format!("`{}`", o.operation))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description(text: &str) -> Description {
        toml::from_str(text).expect("description")
    }

    const TWO_OPERATIONS: &str = r#"
        name = "Relay"
        auth = { scheme = "bearer" }
        account_base_url = "the relay's address"
        [balance]
        operation = "getSub"
        denomination = { account_currency = "USD" }
        total = { from = "/limit", less = { operation = "getUsage", pointer = "/used", divisor = "100" } }
        unlimited = { pointer = "/limit", equals = "100000000" }
        scope = "key"
    "#;

    fn document() -> Value {
        let money = serde_json::json!({"type": "number", "format": "decimal"});
        let response = |properties: Value| serde_json::json!({"responses": {"200": {"content": {"application/json": {"schema": {"type": "object", "properties": properties}}}}}});
        serde_json::json!({"paths": {
            "/sub": {"get": {"operationId": "getSub"}},
            "/usage": {"get": response(serde_json::json!({"used": money}))},
        }})
        .as_object()
        .map(|o| {
            let mut o = o.clone();
            o["paths"]["/usage"]["get"]["operationId"] = "getUsage".into();
            Value::Object(o)
        })
        .expect("object")
    }

    #[test]
    fn a_further_operation_is_listed_from_the_spec_and_an_unknown_one_refused() {
        let mut description = description(TWO_OPERATIONS);
        let operations = further_operations(&document(), &description).expect("listed");
        assert_eq!(
            operations,
            [FurtherOperation::new("getUsage", "GET", "/usage")]
        );
        description.balance.total = toml::from_str::<toml::Table>(
            r#"total = { from = "/limit", less = { operation = "getNothing", pointer = "/used" } }"#,
        )
        .expect("toml")["total"]
            .clone()
            .try_into()
            .expect("source");
        let (key, message) = further_operations(&document(), &description).expect_err("unknown");
        assert_eq!(key, "balance.total.less.operation");
        assert!(message.contains("no operation `getNothing`"), "{message}");
    }

    #[test]
    fn a_server_per_account_excludes_the_vendors_own_and_a_currency_is_a_code() {
        let mut description = description(TWO_OPERATIONS);
        assert_eq!(check_account_base_url(&description), Ok(()));
        assert_eq!(check_account_currency(&description), Ok(()));
        description.base_url = Some("https://example".into());
        assert_eq!(
            check_account_base_url(&description).map_err(|e| e.0),
            Err("account_base_url")
        );
        description.balance.denomination = Denomination::AccountCurrency("usd".into());
        assert!(check_account_currency(&description).is_err());
        assert!(is_currency_code("CNY") && !is_currency_code("CNYX") && !is_currency_code("c1y"));
    }

    #[test]
    fn an_examples_further_responses_follow_the_operations() {
        let description = description(TWO_OPERATIONS);
        let operations = [FurtherOperation::new("getUsage", "GET", "/usage")];
        let example = |text: &str| -> Example { toml::from_str(text).expect("example") };
        let balance = "description = \"d\"\nstatus = 200\nbody = \"{}\"\ncurrency = \"CNY\"\n";
        let usage = "[[responses]]\noperation = \"getUsage\"\nstatus = 200\nbody = \"{}\"\n";
        let expected = "[expected.balance]\namounts = []\n";
        assert_eq!(
            check_example(
                &description,
                &operations,
                &example(&format!("{balance}{usage}{expected}"))
            ),
            Ok(())
        );
        let missing = check_example(
            &description,
            &operations,
            &example(&format!("{balance}{expected}")),
        );
        assert!(missing.is_err_and(|m| m.contains("every further operation")));
        let wrong = usage.replace("getUsage", "getSub");
        let wrong = check_example(
            &description,
            &operations,
            &example(&format!("{balance}{wrong}{expected}")),
        );
        assert!(wrong.is_err_and(|m| m.starts_with("responses[0].operation")));
        let refused = "description = \"d\"\nstatus = 401\nbody = \"{}\"\n[expected.error]\nkind = \"authentication\"\n";
        assert_eq!(
            check_example(&description, &operations, &example(refused)),
            Ok(())
        );
    }
}
