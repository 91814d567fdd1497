//! Spend reports in pages: a request's period checked against the vendor's description
//! (present, written in the described format, start before end, the constants as
//! described), and the page a request's cursor asks for, from the served example's further
//! responses.

use balances_registry::VendorEntry;
use balances_registry::spend::TimeFormat;

use crate::handlers::url_pairs;
use crate::respond::Served;

/// What is wrong with a spend report request's period parameters, if anything; `None` for
/// a vendor that reports a balance.
pub(crate) fn period_problem(vendor: &VendorEntry, query: Option<&str>) -> Option<String> {
    let spend = vendor.description.balance.spend.as_ref()?;
    let pairs = query.map(url_pairs).unwrap_or_default();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut instants = vec![&spend.start];
    instants.extend(spend.end.as_ref());
    let mut read = Vec::new();
    for parameter in instants {
        let Some(text) = value(&parameter.name) else {
            return Some(format!("query parameter {} is required", parameter.name));
        };
        let seconds = match parameter.format {
            TimeFormat::UnixSeconds => text.parse::<i64>().ok(),
            TimeFormat::Rfc3339 => chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.timestamp()),
            _ => None,
        };
        let Some(seconds) = seconds else {
            return Some(format!(
                "query parameter {} is not {:?}: {text}",
                parameter.name, parameter.format
            ));
        };
        read.push(seconds);
    }
    if let [start, end] = read[..]
        && start >= end
    {
        return Some("the period ends before it starts".into());
    }
    spend.query.iter().find_map(|(name, wanted)| {
        (value(name) != Some(wanted.as_str()))
            .then(|| format!("query parameter {name} must be {wanted}"))
    })
}

/// The further page a request's cursor names, when the served example has further
/// responses: `Ok(None)` for the first request (no cursor), the response whose query
/// carries the same cursor, or why there is none.
pub(crate) fn page(served: &Served, query: Option<&str>) -> Result<Option<Served>, String> {
    let Served::Example(example) = served else {
        return Ok(None);
    };
    if example.responses.is_empty() {
        return Ok(None);
    }
    let pairs = query.map(url_pairs).unwrap_or_default();
    // The parameters the first response does not name: the cursor.
    let cursor: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(name, _)| !example.query.contains_key(name))
        .collect();
    if cursor.is_empty() {
        return Ok(None);
    }
    example
        .responses
        .iter()
        .find(|response| {
            cursor
                .iter()
                .all(|(name, value)| response.query.get(name) == Some(value))
        })
        .map(|response| Some(Served::Page(response)))
        .ok_or_else(|| "no page of this report has that cursor".to_owned())
}
