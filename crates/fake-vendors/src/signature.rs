//! The `eiotclub-signature` auth scheme, for any vendor whose description names it: the JSON
//! body carries `appkey`, `timestamp`, `nonce` and `sign` ([`sign`](crate::sign)). Requests are
//! checked like the vendor that defined the scheme does; each failure is an HTTP 200 envelope
//! with a code of [`eiotclub_codes`], written at the vendor's error pointers.

use std::collections::{HashSet, VecDeque};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use balances_registry::VendorEntry;
use serde_json::{Map, Value};
use tracing::debug;

use crate::failure::{self, Built};
use crate::handlers::{ConnectionControl, answer, wait};
use crate::routes::Route;
use crate::state::Shared;
use crate::{auth, eiotclub_codes, sign};

/// How many nonces each account remembers for [`AccountControl::nonces`](crate::AccountControl::nonces).
pub const RECENT_NONCES: usize = 64;
/// Request bodies larger than this are rejected as a parameter error.
const MAX_BODY: usize = 64 * 1024;
/// When the replay set grows past this, entries outside the timestamp window are pruned.
const SEEN_PRUNE_AT: usize = 4096;

/// An account's memory of nonces: the recent ones (for tests to read) and every correctly
/// signed (nonce, timestamp) pair still inside the timestamp window (to refuse replays).
#[derive(Debug, Default)]
pub(crate) struct NonceLedger {
    recent: VecDeque<u32>,
    seen: HashSet<(u32, i64)>,
}

impl NonceLedger {
    pub(crate) fn recent(&self) -> Vec<u32> {
        self.recent.iter().copied().collect()
    }

    pub(crate) fn last(&self) -> Option<u32> {
        self.recent.back().copied()
    }

    fn note(&mut self, nonce: u32) {
        if self.recent.len() == RECENT_NONCES {
            self.recent.pop_front();
        }
        self.recent.push_back(nonce);
    }

    /// Remember a signed pair; `true` if it was seen before (a replay).
    fn replayed(&mut self, nonce: u32, timestamp: i64, horizon: i64) -> bool {
        let replayed = !self.seen.insert((nonce, timestamp));
        if self.seen.len() > SEEN_PRUNE_AT {
            self.seen.retain(|&(_, ts)| ts >= horizon);
        }
        replayed
    }
}

/// A failure envelope: HTTP 200 with this code and message at the vendor's error pointers.
fn envelope(vendor: &'static VendorEntry, code: &str, message: &str) -> Response {
    failure::built(
        vendor,
        Built {
            status: StatusCode::OK,
            code: &Value::String(code.to_owned()),
            message,
        },
    )
}

/// Parse and verify the signed body, apply latency and faults, answer.
pub(crate) async fn serve(
    shared: &Shared,
    route: &Route,
    req: Request,
    connection: Option<ConnectionControl>,
) -> Response {
    let vendor = route.vendor;
    let fields = vendor.description.auth.credential_fields();
    // The scheme's fields are the key, then the secret.
    let (Some(key_field), Some(secret_field)) = (fields.first(), fields.last()) else {
        return auth::rejected(vendor);
    };
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), MAX_BODY).await else {
        debug!(vendor = %vendor.id, "unreadable or oversized body");
        return envelope(vendor, eiotclub_codes::PARAM_ERROR, "参数错误: body");
    };
    let Ok(params) = serde_json::from_slice::<Map<String, Value>>(&bytes) else {
        debug!(vendor = %vendor.id, "body is not a JSON object");
        return envelope(
            vendor,
            eiotclub_codes::PARAM_ERROR,
            "参数错误: body is not a JSON object",
        );
    };
    let Some(appkey) = params.get(*key_field).and_then(scalar_text) else {
        debug!(vendor = %vendor.id, "missing appkey");
        return envelope(vendor, eiotclub_codes::PARAM_ERROR, "参数错误: appkey");
    };
    let Some(account) = shared.lookup(route, &appkey) else {
        debug!(vendor = %vendor.id, "unknown appkey");
        return auth::rejected(vendor);
    };
    let secret = account.credential(secret_field).unwrap_or_default();
    let signed = sign::verify(&params, secret);
    let timestamp = params.get("timestamp").and_then(as_i64);
    let nonce = params.get("nonce").and_then(as_u32);
    let now = shared.unix_now();
    let max_skew = shared.max_skew_secs();
    let replayed = {
        let mut state = account.lock();
        if let Some(nonce) = nonce {
            state.nonces.note(nonce);
        }
        // A correctly signed (nonce, timestamp) pair is remembered even when the request is
        // then faulted or rejected: a client must sign every attempt afresh.
        let horizon = now.saturating_sub(i64::try_from(max_skew).unwrap_or(i64::MAX));
        match (signed, nonce, timestamp) {
            (true, Some(nonce), Some(ts)) => state.nonces.replayed(nonce, ts, horizon),
            _ => false,
        }
    };
    let turn = account.begin();
    wait(turn.latency + shared.latency()).await;
    if turn.fault.is_some() {
        return answer(vendor, &account, turn, connection).await;
    }
    let rejection = if !params.contains_key("sign") || timestamp.is_none() {
        Some((
            eiotclub_codes::PARAM_ERROR,
            "参数错误: sign, timestamp and nonce are required",
        ))
    } else if !signed {
        Some((eiotclub_codes::SIGN_ERROR, "签名错误"))
    } else if timestamp.is_some_and(|ts| ts.abs_diff(now) > max_skew) {
        Some((eiotclub_codes::TIMESTAMP_EXPIRED, "时间戳无效"))
    } else if !nonce.is_some_and(|n| (10_000..=99_999).contains(&n)) {
        Some((eiotclub_codes::BAD_NONCE, "nonce 无效"))
    } else if replayed {
        Some((eiotclub_codes::REPLAYED, "重复请求"))
    } else {
        None
    };
    match rejection {
        Some((code, message)) => {
            account
                .refusals
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            debug!(vendor = %vendor.id, account = %account.name, code, "request rejected");
            envelope(vendor, code, message)
        }
        None => answer(vendor, &account, turn, connection).await,
    }
}

/// A scalar's text: strings as they are, numbers as written.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn as_u32(v: &Value) -> Option<u32> {
    as_i64(v).and_then(|n| u32::try_from(n).ok())
}
