//! Part of step 6, **describe**: a description whose operation reports spend over a period
//! (`[balance.spend]`) checked against the spec, like the rest of the description: the
//! period's and the pages' query parameters are parameters of the operation, of the type
//! their format writes; the page flag and cursor are in the success response; rows in
//! nested arrays are arrays; the examples of such a vendor expect spend and say when they
//! were fetched.

use balances_registry::spend::{SpendReport, TimeFormat};
use balances_registry::{BalanceMapping, Denomination, Example, Expected};
use serde_json::Value;

use super::describe::{Checker, KeyedError, Kind, Located};

/// The most pages a description may allow one reading: a bound, not a wish.
const MOST_PAGES: u32 = 100;

/// The required parameters a spend description gives values to (the period's start and
/// end, the constants, the cursor), which the request's fixed parameters need not.
pub fn provided_parameters(balance: &BalanceMapping) -> Vec<&str> {
    let Some(spend) = &balance.spend else {
        return Vec::new();
    };
    let mut names = vec![spend.start.name.as_str(), spend.pages.parameter.as_str()];
    names.extend(spend.end.as_ref().map(|end| end.name.as_str()));
    names.extend(spend.query.keys().map(String::as_str));
    names
}

/// The row schema of `Rows::Nested`: each pointer an array, the next one read in its items.
pub(super) fn nested_rows(
    checker: &Checker<'_>,
    body: &Located,
    pointers: &[String],
) -> Result<Located, KeyedError> {
    if pointers.is_empty() {
        return Err(("balance.rows.nested".into(), "names no array".into()));
    }
    let mut current = body.clone();
    for pointer in pointers {
        let array = checker.expect(&current, pointer, Kind::Any, "balance.rows.nested")?;
        let items = array.child(&["items"]).ok_or_else(|| {
            (
                "balance.rows.nested".to_owned(),
                format!("`{pointer}` is not an array in the spec"),
            )
        })?;
        current = checker.resolve(items);
    }
    Ok(current)
}

/// `spend` checked against the operation's parameters and its success response `body`.
pub(super) fn check(
    checker: &Checker<'_>,
    balance: &BalanceMapping,
    spend: &SpendReport,
    operation: &Value,
    body: &Located,
) -> Result<(), KeyedError> {
    let parameters = query_parameters(checker, operation);
    let find = |key: &str, name: &str| -> Result<Value, KeyedError> {
        parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, schema)| schema.clone())
            .ok_or_else(|| {
                (
                    key.to_owned(),
                    format!("the operation has no query parameter `{name}`"),
                )
            })
    };
    let type_of = |schema: &Value| {
        schema
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut instants = vec![("balance.spend.start", &spend.start)];
    instants.extend(spend.end.as_ref().map(|end| ("balance.spend.end", end)));
    for (key, parameter) in instants {
        let schema = find(key, &parameter.name)?;
        let wanted = match parameter.format {
            TimeFormat::UnixSeconds => "integer",
            TimeFormat::Rfc3339 => "string",
            _ => return Err((key.to_owned(), "a format this version does not know".into())),
        };
        if type_of(&schema).as_deref() != Some(wanted) {
            return Err((
                key.to_owned(),
                format!(
                    "`{}` is {} in the spec; this format writes {wanted}",
                    parameter.name,
                    type_of(&schema).unwrap_or_else(|| "untyped".into())
                ),
            ));
        }
    }
    for (name, value) in &spend.query {
        let key = format!("balance.spend.query.{name}");
        let schema = find(&key, name)?;
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.iter().any(|v| v.as_str() == Some(value))
        {
            return Err((key, format!("`{value}` is not one of the spec's values")));
        }
        if type_of(&schema).as_deref() != Some("string") {
            return Err((key, "only string parameters can be given a constant".into()));
        }
    }
    let cursor = find("balance.spend.pages.parameter", &spend.pages.parameter)?;
    if type_of(&cursor).as_deref() != Some("string") {
        return Err((
            "balance.spend.pages.parameter".into(),
            format!("`{}` is not a string in the spec", spend.pages.parameter),
        ));
    }
    checker.expect(
        body,
        &spend.pages.more,
        Kind::Flag,
        "balance.spend.pages.more",
    )?;
    checker.expect(
        body,
        &spend.pages.cursor,
        Kind::Text,
        "balance.spend.pages.cursor",
    )?;
    if !(1..=MOST_PAGES).contains(&spend.pages.max_pages) {
        return Err((
            "balance.spend.pages.max_pages".into(),
            format!("must be from 1 to {MOST_PAGES}"),
        ));
    }
    // Spend is summed per currency: every row must say which.
    if !matches!(
        balance.denomination,
        Denomination::CurrencyField(_) | Denomination::Currency(_)
    ) {
        return Err((
            "balance.denomination".into(),
            "spend is summed per currency: use `currency_field` or `currency`".into(),
        ));
    }
    if balance.granted.is_some() || balance.topped_up.is_some() || balance.available.is_some() {
        return Err((
            "balance.spend".into(),
            "a spend report has no granted, topped-up or availability reading".into(),
        ));
    }
    Ok(())
}

/// The operation's query parameters (name, resolved schema).
fn query_parameters(checker: &Checker<'_>, operation: &Value) -> Vec<(String, Value)> {
    let located = |schema: &Value| {
        checker
            .resolve(Located {
                schema: schema.clone(),
                at: super::error::JsonPath::root(),
            })
            .schema
    };
    super::describe::operation_parameters(checker.document, operation)
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?.to_owned();
            let schema = located(p.get("schema").unwrap_or(&Value::Null));
            Some((name, schema))
        })
        .collect()
}

/// An example of a spend vendor expects spend (or an error) and says when it was fetched;
/// an example of a balance vendor expects no spend.
pub(super) fn check_example(balance: &BalanceMapping, example: &Example) -> Result<(), String> {
    match (&balance.spend, &example.expected) {
        (None, Expected::Spend(_)) => Err(
            "expected.spend: the vendor's operation reports a balance (no `[balance.spend]`)"
                .into(),
        ),
        (Some(_), Expected::Balance(_)) => Err(
            "expected.balance: the vendor's operation reports spend: write `[expected.spend]`"
                .into(),
        ),
        (Some(_), Expected::Spend(spend)) => {
            let now = example
                .now
                .as_deref()
                .ok_or("now: a spend example says when it was fetched (RFC 3339)")?;
            chrono::DateTime::parse_from_rfc3339(now)
                .map_err(|e| format!("now: `{now}` is not RFC 3339: {e}"))?;
            for (key, instant) in [("from", &spend.from), ("to", &spend.to)] {
                chrono::DateTime::parse_from_rfc3339(instant).map_err(|e| {
                    format!("expected.spend.{key}: `{instant}` is not RFC 3339: {e}")
                })?;
            }
            Ok(())
        }
        // Further responses of a balance are its further operations' (`further.rs`).
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(spend: bool) -> BalanceMapping {
        let mut text = String::from(
            "operation = \"op\"\nrows = { nested = [\"/data\", \"/results\"] }\n\
             denomination = { currency_field = \"/currency\" }\ntotal = \"/amount\"\n",
        );
        if spend {
            text.push_str(
                "[spend]\nstart = { name = \"start\", format = \"rfc3339\" }\n\
                 pages = { more = \"/has_more\", cursor = \"/next\", parameter = \"page\", max_pages = 3 }\n",
            );
        }
        toml::from_str(&text).expect("a mapping")
    }

    fn example(text: &str) -> Example {
        toml::from_str(&format!(
            "description = \"d\"\nstatus = 200\nbody = \"{{}}\"\n{text}"
        ))
        .expect("an example")
    }

    #[test]
    fn spend_examples_belong_to_spend_vendors_and_say_when() {
        let spend = "[expected.spend]\nfrom = \"2025-08-01T00:00:00Z\"\nto = \"2025-09-01T00:00:00Z\"\nspent = []";
        let with_now = format!("now = \"2025-08-15T00:00:00Z\"\n{spend}");
        assert!(check_example(&mapping(true), &example(&with_now)).is_ok());
        assert!(
            check_example(&mapping(true), &example(spend))
                .unwrap_err()
                .starts_with("now:")
        );
        assert!(
            check_example(&mapping(false), &example(&with_now))
                .unwrap_err()
                .starts_with("expected.spend:")
        );
        let balance = "[expected.balance]\namounts = []";
        assert!(
            check_example(&mapping(true), &example(balance))
                .unwrap_err()
                .starts_with("expected.balance:")
        );
        assert_eq!(provided_parameters(&mapping(true)), ["start", "page"]);
        assert!(provided_parameters(&mapping(false)).is_empty());
    }
}
