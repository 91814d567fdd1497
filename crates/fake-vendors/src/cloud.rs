//! The four cloud signature schemes' route, for any vendor whose description names one
//! (`acs3-hmac-sha256`, `tc3-hmac-sha256`, `volcengine-hmac-sha256`, `bce-auth-v1`): the
//! request is verified by this crate's own, independent verifier of the scheme
//! ([`cloud_signature`](crate::cloud_signature)), which looks the access key id up among the
//! vendor's accounts; that identifies the account, which is then counted, delayed and
//! faulted like any other; a bad, incomplete, stale or replayed signature then gets the
//! vendor's documented refusal, a good one the account's answer.

use std::cell::RefCell;
use std::sync::{Arc, PoisonError};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use balances_registry::Auth;
use serde_json::Value;
use tracing::debug;

use crate::cloud_signature::{Received, Refusal, aliyun, baiducloud, tencentcloud, volcengine};
use crate::failure::{self, Built};
use crate::handlers::{ConnectionControl, answer, wait};
use crate::routes::Route;
use crate::state::{Account, Shared};

/// Request bodies larger than this are refused (the balance requests send `{}` or nothing).
const MAX_BODY: usize = 64 * 1024;

/// Verify, identify, apply latency and faults, answer.
pub(crate) async fn serve(
    shared: &Shared,
    route: &Route,
    req: Request,
    connection: Option<ConnectionControl>,
) -> Response {
    let vendor = route.vendor;
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        debug!(vendor = %vendor.id, "unreadable or oversized body");
        return failure::built(
            vendor,
            Built {
                status: StatusCode::BAD_REQUEST,
                code: &Value::String("InvalidParameter".into()),
                message: "the request body is unreadable or too large",
            },
        );
    };
    let received = Received {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    // The scheme's fields are the key id, then the secret.
    let secret_field = vendor
        .description
        .auth
        .credential_fields()
        .last()
        .copied()
        .unwrap_or_default();
    // Verified before anything is awaited: the lookup's cell is not `Send`.
    let (verdict, identified) = {
        let identified: RefCell<Option<Arc<Account>>> = RefCell::new(None);
        let secret_of = |access_key_id: &str| {
            let account = shared.lookup(route, access_key_id)?;
            let secret = account.credential(secret_field)?.to_owned();
            identified.replace(Some(account));
            Some(secret)
        };
        let verdict = verify(shared, &vendor.description.auth, &received, &secret_of);
        (verdict, identified.into_inner())
    };
    let Some(account) = identified else {
        // No account of this vendor and region has that key id, or the request never got
        // as far as naming one: the verifier's refusal says which.
        debug!(vendor = %vendor.id, "unknown key or malformed authorization");
        return refusal_response(verdict.err());
    };
    let turn = account.begin();
    wait(turn.latency + shared.latency()).await;
    if turn.fault.is_some() {
        return answer(vendor, &account, turn, connection).await;
    }
    match verdict {
        Ok(()) => answer(vendor, &account, turn, connection).await,
        Err(refusal) => {
            account
                .refusals
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            debug!(vendor = %vendor.id, account = %account.name, code = refusal.code, "signature refused");
            refusal.response()
        }
    }
}

/// The scheme's verifier, with the vendor's documented clock window.
fn verify(
    shared: &Shared,
    auth: &Auth,
    received: &Received<'_>,
    secret_of: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Refusal> {
    let now = shared.unix_now();
    match auth {
        Auth::Acs3HmacSha256 => {
            let mut nonces = shared
                .aliyun_nonces
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            aliyun::verify(
                received,
                secret_of,
                now,
                aliyun::DOCUMENTED_MAX_SKEW_SECS,
                &mut nonces,
            )
        }
        Auth::Tc3HmacSha256 { service } => tencentcloud::verify(
            received,
            secret_of,
            service,
            now,
            tencentcloud::DOCUMENTED_MAX_SKEW_SECS,
        ),
        Auth::VolcengineHmacSha256 { region, service } => volcengine::verify(
            received,
            secret_of,
            volcengine::Expected { region, service },
            now,
            volcengine::DEFAULT_MAX_SKEW_SECS,
        ),
        Auth::BceAuthV1 { .. } => baiducloud::verify(
            received,
            secret_of,
            now,
            baiducloud::DEFAULT_FUTURE_SKEW_SECS,
        ),
        _ => Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: "unsupported_scheme",
            body: serde_json::json!({"code": "unsupported_scheme"}),
        }),
    }
    .map(drop)
}

fn refusal_response(refusal: Option<Refusal>) -> Response {
    match refusal {
        Some(refusal) => refusal.response(),
        // A verifier never accepts a request without looking its key up.
        None => crate::respond::respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::respond::JSON,
            r#"{"code":"fake_vendors_bug","message":"accepted without a key"}"#,
        ),
    }
}
