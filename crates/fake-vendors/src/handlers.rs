//! The HTTP side: one handler for every route of every vendor, dispatching on the vendor's
//! auth scheme.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use balances_registry::{Auth, VendorEntry};
use tokio::sync::Notify;
use tracing::debug;

use serde_json::Value;

use crate::failure::{self, Built};
use crate::respond::{JSON, respond};
use crate::routes::Route;
use crate::state::{Account, Shared, Turn};
use crate::{auth, cloud, fault, signature};

/// Lets a handler close the connection it is served on without answering.
///
/// The accept loop inserts one into every request's extensions and races the connection
/// against [`aborted`](Self::aborted): when a handler calls [`abort`](Self::abort), the
/// connection future (and with it the socket) is dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionControl(Arc<Notify>);

impl ConnectionControl {
    pub(crate) fn abort(&self) {
        self.0.notify_one();
    }

    pub(crate) async fn aborted(&self) {
        self.0.notified().await;
    }
}

/// Routes are matched by [`Routes`](crate::routes::Routes), not by axum, so that any path
/// from any vendor's spec is served without being registered by hand.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let Some(route) = shared.routes.find(req.uri().path()) else {
        return respond(
            StatusCode::NOT_FOUND,
            JSON,
            r#"{"code":"not_found","message":"no such route on fake-vendors"}"#,
        );
    };
    if req.method().as_str() != route.method() {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            JSON,
            r#"{"code":"method_not_allowed","message":"the balance operation takes another method"}"#,
        );
    }
    if let Some(problem) = missing_fixed_parameter(route.vendor, &req) {
        debug!(vendor = %route.vendor.id, %problem, "a parameter the spec fixes is missing");
        return failure::built(
            route.vendor,
            Built {
                status: StatusCode::BAD_REQUEST,
                code: &Value::String("MissingParameter".into()),
                message: &problem,
            },
        );
    }
    if let Some(index) = route.further {
        return crate::further::serve(&shared, route, index, &req);
    }
    if let Some(problem) = crate::pages::period_problem(route.vendor, req.uri().query()) {
        debug!(vendor = %route.vendor.id, %problem, "a spend report's period is missing or wrong");
        return failure::built(
            route.vendor,
            Built {
                status: StatusCode::BAD_REQUEST,
                code: &Value::String("InvalidPeriod".into()),
                message: &problem,
            },
        );
    }
    shared.count(route.vendor);
    let connection = req.extensions().get::<ConnectionControl>().cloned();
    let auth = &route.vendor.description.auth;
    match auth {
        Auth::EiotclubSignature => signature::serve(&shared, route, req, connection).await,
        _ if auth.signs_requests() => cloud::serve(&shared, route, req, connection).await,
        _ => keyed(&shared, route, req, connection).await,
    }
}

/// The first header or query parameter the vendor's spec requires with one value
/// (`balances_registry::RequestShape`) that the request lacks or gives another value.
fn missing_fixed_parameter(vendor: &VendorEntry, req: &Request) -> Option<String> {
    for fixed in &vendor.request.headers {
        let sent = req
            .headers()
            .get(fixed.name.as_str())
            .and_then(|v| v.to_str().ok());
        if sent != Some(fixed.value.as_str()) {
            return Some(format!("header {} must be {}", fixed.name, fixed.value));
        }
    }
    let query: Vec<(String, String)> = req.uri().query().map(url_pairs).unwrap_or_default();
    for fixed in &vendor.request.query {
        if !query
            .iter()
            .any(|(name, value)| *name == fixed.name && *value == fixed.value)
        {
            return Some(format!(
                "query parameter {} must be {}",
                fixed.name, fixed.value
            ));
        }
    }
    None
}

/// A query's pairs, decoded as form data; undecodable pairs are left out.
pub(crate) fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((
                crate::cloud_signature::percent_decode(name, true)?,
                crate::cloud_signature::percent_decode(value, true)?,
            ))
        })
        .collect()
}

/// The header schemes: identify by key, count, apply latency and faults, answer.
async fn keyed(
    shared: &Shared,
    route: &Route,
    req: Request,
    connection: Option<ConnectionControl>,
) -> Response {
    let auth = &route.vendor.description.auth;
    let Some(account) =
        auth::header_key(auth, req.headers()).and_then(|key| shared.lookup(route, key))
    else {
        debug!(vendor = %route.vendor.id, "missing or unknown key: authentication failure");
        return auth::rejected(route.vendor);
    };
    let mut turn = account.begin();
    match crate::pages::page(&turn.served, req.uri().query()) {
        Ok(Some(page)) => turn.served = page,
        Ok(None) => {}
        Err(problem) => {
            return failure::built(
                route.vendor,
                Built {
                    status: StatusCode::BAD_REQUEST,
                    code: &Value::String("InvalidCursor".into()),
                    message: &problem,
                },
            );
        }
    }
    wait(turn.latency + shared.latency()).await;
    answer(route.vendor, &account, turn, connection).await
}

/// The turn's fault, else the account's answer.
pub(crate) async fn answer(
    vendor: &'static VendorEntry,
    account: &Account,
    turn: Turn,
    connection: Option<ConnectionControl>,
) -> Response {
    match turn.fault {
        Some(fault) => {
            debug!(vendor = %vendor.id, account = %account.name, ?fault, "answering with a fault");
            fault::render(vendor, &fault, turn.served.body(), connection).await
        }
        None => {
            debug!(vendor = %vendor.id, account = %account.name, "answering");
            turn.served.response()
        }
    }
}

pub(crate) async fn wait(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}
