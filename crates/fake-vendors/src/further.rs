//! The further operations of a balance of several (new-api: the usage after the
//! subscription): answered with the account's example's response for that operation
//! (`Example::responses`), authenticated by the same key. They are not counted and take no
//! turn: the latency and faults of an account apply to its balance operation, which a
//! reading sends first and which decides whether the further ones are sent at all.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use tracing::debug;

use crate::auth;
use crate::respond::{JSON, Served, respond, with_headers};
use crate::routes::Route;
use crate::state::Shared;

/// The answer to a further operation's request (`index` into the vendor's `operations`).
pub(crate) fn serve(shared: &Shared, route: &Route, index: usize, req: &Request) -> Response {
    let vendor = route.vendor;
    let Some(account) = auth::header_key(&vendor.description.auth, req.headers())
        .and_then(|key| shared.lookup(route, key))
    else {
        debug!(vendor = %vendor.id, "missing or unknown key on a further operation");
        return auth::rejected(vendor);
    };
    let served = account.lock().served.clone();
    let response = match served {
        Served::Example(example) => example.responses.get(index),
        Served::Body(_) | Served::Page(_) => None,
    };
    let Some(response) = response else {
        // The account answers a raw body or an example that stops before this operation:
        // nothing documented to send.
        return respond(
            StatusCode::NOT_FOUND,
            JSON,
            r#"{"error":{"message":"no response for this operation on fake-vendors","type":"not_found"}}"#,
        );
    };
    with_headers(
        response.status,
        &response.headers,
        &response.body,
        "a further operation",
    )
}
