//! The HTTP handlers: one per vendor route, plus fault rendering.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::Notify;
use tracing::debug;

use crate::fault::{Fault, RetryAfter};
use crate::state::{Account, RECENT_NONCES, Shared};
use crate::{Balance, DeepSeekRow, FakeVendor, eiotclub_codes, sign};

/// EIOTClub request bodies larger than this are rejected as a parameter error.
const MAX_EIOTCLUB_BODY: usize = 64 * 1024;
/// Padding chunk for [`Fault::HugeBody`].
const PAD_CHUNK: usize = 64 * 1024;
static PADDING: [u8; PAD_CHUNK] = [b' '; PAD_CHUNK];
/// When the replay set grows past this, entries outside the timestamp window are pruned.
const SEEN_PRUNE_AT: usize = 4096;

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

/// The route of a vendor's balance endpoint on the shared listener.
pub(crate) fn route_path(vendor: FakeVendor) -> String {
    format!("{}{}", vendor.path_prefix(), vendor.balance_path())
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(&route_path(FakeVendor::DeepSeek), get(deepseek))
        .route(&route_path(FakeVendor::GeekAi), get(geekai))
        .route(&route_path(FakeVendor::Eiotclub), post(eiotclub))
        .fallback(not_found)
        .with_state(shared)
}

async fn deepseek(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    bearer_vendor(&shared, FakeVendor::DeepSeek, req).await
}

async fn geekai(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    bearer_vendor(&shared, FakeVendor::GeekAi, req).await
}

async fn not_found() -> Response {
    respond(
        StatusCode::NOT_FOUND,
        "application/json",
        r#"{"code":"not_found","message":"no such route on fake-vendors"}"#,
    )
}

/// `Authorization: Bearer <key>` (scheme case-insensitive, exactly one space, non-empty key).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// DeepSeek and GeekAI: identify by bearer key, count, apply latency and faults, answer.
async fn bearer_vendor(shared: &Shared, vendor: FakeVendor, req: Request) -> Response {
    shared.count(vendor);
    let ctl = req.extensions().get::<ConnectionControl>().cloned();
    let Some(account) = bearer_token(req.headers()).and_then(|key| shared.lookup(vendor, key))
    else {
        debug!(%vendor, "missing or unknown key: authentication failure");
        return failure(vendor, Failure::Unauthorized);
    };
    let n = account.requests.fetch_add(1, Ordering::Relaxed);
    let (fault, latency, body) = {
        let mut state = account.lock();
        let fault = state.plan.next();
        (fault, state.plan.latency, success_body(&state.balance, n))
    };
    wait(latency + shared.latency()).await;
    answer(vendor, &account, fault, body, ctl).await
}

async fn answer(
    vendor: FakeVendor,
    account: &Account,
    fault: Option<Fault>,
    body: Bytes,
    ctl: Option<ConnectionControl>,
) -> Response {
    match fault {
        Some(fault) => {
            debug!(%vendor, account = %account.name, ?fault, "answering with a fault");
            render_fault(vendor, &fault, body, ctl).await
        }
        None => {
            debug!(%vendor, account = %account.name, "answering with the balance");
            respond(StatusCode::OK, json_type(vendor), body)
        }
    }
}

/// EIOTClub: parse and verify the signed body, apply latency and faults, answer in the envelope.
async fn eiotclub(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    const V: FakeVendor = FakeVendor::Eiotclub;
    shared.count(V);
    let ctl = req.extensions().get::<ConnectionControl>().cloned();
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), MAX_EIOTCLUB_BODY).await else {
        debug!(vendor = %V, "unreadable or oversized body");
        return envelope(eiotclub_codes::PARAM_ERROR, "参数错误: body");
    };
    let Ok(params) = serde_json::from_slice::<Map<String, Value>>(&bytes) else {
        debug!(vendor = %V, "body is not a JSON object");
        return envelope(
            eiotclub_codes::PARAM_ERROR,
            "参数错误: body is not a JSON object",
        );
    };
    let Some(appkey) = params.get("appkey").and_then(scalar_text) else {
        debug!(vendor = %V, "missing appkey");
        return envelope(eiotclub_codes::PARAM_ERROR, "参数错误: appkey");
    };
    let Some(account) = shared.lookup(V, &appkey) else {
        debug!(vendor = %V, "unknown appkey");
        return failure(V, Failure::Unauthorized);
    };
    let n = account.requests.fetch_add(1, Ordering::Relaxed);
    let secret = account.secret.as_deref().unwrap_or_default();
    let signed = sign::verify(&params, secret);
    let timestamp = params.get("timestamp").and_then(as_i64);
    let nonce = params.get("nonce").and_then(as_u32);
    let now = unix_now();
    let max_skew = shared.max_skew_secs();
    let (fault, latency, body, replayed) = {
        let mut state = account.lock();
        if let Some(nonce) = nonce {
            if state.recent_nonces.len() == RECENT_NONCES {
                state.recent_nonces.pop_front();
            }
            state.recent_nonces.push_back(nonce);
        }
        // A correctly signed (nonce, timestamp) pair is remembered even when the request is
        // then faulted or rejected: a client must sign every attempt afresh.
        let replayed = match (signed, nonce, timestamp) {
            (true, Some(nonce), Some(ts)) => !state.seen.insert((nonce, ts)),
            _ => false,
        };
        if state.seen.len() > SEEN_PRUNE_AT {
            let horizon = now.saturating_sub(i64::try_from(max_skew).unwrap_or(i64::MAX));
            state.seen.retain(|&(_, ts)| ts >= horizon);
        }
        let fault = state.plan.next();
        (
            fault,
            state.plan.latency,
            success_body(&state.balance, n),
            replayed,
        )
    };
    wait(latency + shared.latency()).await;
    if fault.is_some() {
        return answer(V, &account, fault, body, ctl).await;
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
            debug!(vendor = %V, account = %account.name, code, "request rejected");
            envelope(code, message)
        }
        None => answer(V, &account, None, body, ctl).await,
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

async fn wait(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

fn json_type(vendor: FakeVendor) -> &'static str {
    match vendor {
        FakeVendor::DeepSeek | FakeVendor::GeekAi => "application/json",
        FakeVendor::Eiotclub => "application/json;charset=UTF-8",
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn to_bytes(value: &impl Serialize) -> Bytes {
    // Serializing these plain structs cannot fail.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

#[derive(Serialize)]
struct DeepSeekBody<'a> {
    is_available: bool,
    balance_infos: Vec<&'a DeepSeekRow>,
}

#[derive(Serialize)]
struct EiotOk<'a> {
    code: &'static str,
    message: &'static str,
    data: EiotData<'a>,
}

#[derive(Serialize)]
struct EiotData<'a> {
    balance: &'a str,
    currency: &'a str,
}

/// The normal answer for a balance; `n` is the account's request number (row rotation).
fn success_body(balance: &Balance, n: u64) -> Bytes {
    match balance {
        Balance::DeepSeek(b) => {
            let len = b.rows.len();
            let skip = if b.rotate_rows && len > 0 {
                usize::try_from(n % len as u64).unwrap_or(0)
            } else {
                0
            };
            to_bytes(&DeepSeekBody {
                is_available: b.is_available,
                balance_infos: b.rows.iter().cycle().skip(skip).take(len).collect(),
            })
        }
        Balance::GeekAi(b) if b.wrapped => {
            Bytes::from(format!(r#"{{"data":{{"balance":{}}}}}"#, b.coins))
        }
        Balance::GeekAi(b) => Bytes::from(format!(r#"{{"balance":{}}}"#, b.coins)),
        Balance::Eiotclub(b) => to_bytes(&EiotOk {
            code: eiotclub_codes::OK,
            message: "操作成功",
            data: EiotData {
                balance: &b.balance,
                currency: &b.currency,
            },
        }),
    }
}

#[derive(Serialize)]
struct EiotError<'a> {
    code: &'a Value,
    message: &'a str,
    data: (),
}

/// EIOTClub's failure envelope with HTTP 200.
fn envelope(code: &str, message: &str) -> Response {
    envelope_value(StatusCode::OK, &Value::String(code.to_owned()), message)
}

fn envelope_value(status: StatusCode, code: &Value, message: &str) -> Response {
    respond(
        status,
        json_type(FakeVendor::Eiotclub),
        to_bytes(&EiotError {
            code,
            message,
            data: (),
        }),
    )
}

#[derive(Serialize)]
struct DeepSeekError<'a> {
    error: DeepSeekErrorInner<'a>,
}

#[derive(Serialize)]
struct DeepSeekErrorInner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: (),
    code: &'a Value,
}

#[derive(Serialize)]
struct GeekAiError<'a> {
    code: &'a Value,
    message: &'a str,
}

/// A vendor-shaped failure.
enum Failure<'a> {
    Unauthorized,
    InsufficientBalance,
    RateLimited,
    Server(StatusCode),
    Vendor { code: &'a Value, message: &'a str },
}

fn failure(vendor: FakeVendor, failure: Failure<'_>) -> Response {
    let text = |s: &str| Value::String(s.to_owned());
    match vendor {
        FakeVendor::DeepSeek => {
            let (status, message, kind, code) = match failure {
                Failure::Unauthorized => (
                    StatusCode::UNAUTHORIZED,
                    "Authentication Fails (no such user)",
                    "authentication_error",
                    text("invalid_request_error"),
                ),
                Failure::InsufficientBalance => (
                    StatusCode::PAYMENT_REQUIRED,
                    "Insufficient Balance",
                    "insufficient_balance_error",
                    text("invalid_request_error"),
                ),
                Failure::RateLimited => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate limit reached for requests",
                    "rate_limit_error",
                    text("rate_limit_exceeded"),
                ),
                Failure::Server(StatusCode::SERVICE_UNAVAILABLE) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Server overloaded, please try again later",
                    "server_overloaded_error",
                    text("service_unavailable"),
                ),
                Failure::Server(status) => (
                    status,
                    status.canonical_reason().unwrap_or("Server Error"),
                    "server_error",
                    text("internal_error"),
                ),
                Failure::Vendor { code, message } => (
                    StatusCode::BAD_REQUEST,
                    message,
                    "invalid_request_error",
                    code.clone(),
                ),
            };
            let body = DeepSeekError {
                error: DeepSeekErrorInner {
                    message,
                    kind,
                    param: (),
                    code: &code,
                },
            };
            respond(status, json_type(vendor), to_bytes(&body))
        }
        FakeVendor::GeekAi => {
            let (status, code, message) = match failure {
                Failure::Unauthorized => (
                    StatusCode::UNAUTHORIZED,
                    text("unauthorized"),
                    "Invalid API key or token",
                ),
                Failure::InsufficientBalance => (
                    StatusCode::PAYMENT_REQUIRED,
                    text("insufficient_balance"),
                    "Insufficient balance",
                ),
                Failure::RateLimited => (
                    StatusCode::TOO_MANY_REQUESTS,
                    text("rate_limit_exceeded"),
                    "Too many requests",
                ),
                Failure::Server(StatusCode::SERVICE_UNAVAILABLE) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    text("service_busy"),
                    "Service busy, please try again later",
                ),
                Failure::Server(StatusCode::GATEWAY_TIMEOUT) => (
                    StatusCode::GATEWAY_TIMEOUT,
                    text("gateway_timeout"),
                    "Gateway timeout",
                ),
                Failure::Server(status) => (
                    status,
                    text("internal_error"),
                    status.canonical_reason().unwrap_or("Server error"),
                ),
                Failure::Vendor { code, message } => {
                    (StatusCode::BAD_REQUEST, code.clone(), message)
                }
            };
            respond(
                status,
                json_type(vendor),
                to_bytes(&GeekAiError {
                    code: &code,
                    message,
                }),
            )
        }
        FakeVendor::Eiotclub => match failure {
            Failure::Unauthorized => envelope(eiotclub_codes::UNKNOWN_APPKEY, "appkey 不存在"),
            Failure::InsufficientBalance => {
                envelope_value(StatusCode::PAYMENT_REQUIRED, &text("402"), "余额不足")
            }
            Failure::RateLimited => envelope_value(
                StatusCode::TOO_MANY_REQUESTS,
                &text("429"),
                "请求过于频繁，请稍后再试",
            ),
            Failure::Server(status) => {
                envelope_value(status, &text(status.as_str()), "系统繁忙，请稍后再试")
            }
            Failure::Vendor { code, message } => envelope_value(StatusCode::OK, code, message),
        },
    }
}

/// The response for `fault`; `success` is the normal body (for the faults that mangle it).
async fn render_fault(
    vendor: FakeVendor,
    fault: &Fault,
    success: Bytes,
    ctl: Option<ConnectionControl>,
) -> Response {
    match fault {
        Fault::Unauthorized => failure(vendor, Failure::Unauthorized),
        Fault::InsufficientBalance => failure(vendor, Failure::InsufficientBalance),
        Fault::RateLimited { retry_after } => {
            let mut response = failure(vendor, Failure::RateLimited);
            if let Some(retry_after) = retry_after {
                let value = match retry_after {
                    RetryAfter::Seconds(s) => s.to_string(),
                    RetryAfter::Date(t) => httpdate::fmt_http_date(*t),
                };
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            response
        }
        Fault::ServerError { status } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            failure(vendor, Failure::Server(status))
        }
        Fault::VendorError { code, message } => failure(vendor, Failure::Vendor { code, message }),
        Fault::EmptyBody => {
            let mut response = respond(StatusCode::OK, json_type(vendor), Body::empty());
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            response
        }
        Fault::TruncatedJson => {
            let half = success.slice(..success.len() / 2);
            respond(StatusCode::OK, json_type(vendor), half)
        }
        Fault::TruncatedTransfer => {
            let full = success.len();
            let half = success.slice(..full / 2);
            let tail = async move {
                // Give hyper time to flush the first half before the socket goes away.
                tokio::time::sleep(Duration::from_millis(20)).await;
                match ctl {
                    Some(ctl) => {
                        ctl.abort();
                        std::future::pending::<Result<Bytes, std::io::Error>>().await
                    }
                    None => Err(std::io::Error::other("truncated transfer")),
                }
            };
            let stream =
                futures::stream::once(async move { Ok(half) }).chain(futures::stream::once(tail));
            let mut response =
                respond(StatusCode::OK, json_type(vendor), Body::from_stream(stream));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            response
        }
        Fault::LeadingBlankLines { lines } => {
            let mut body = Vec::with_capacity(lines + success.len());
            body.resize(*lines, b'\n');
            body.extend_from_slice(&success);
            respond(StatusCode::OK, json_type(vendor), body)
        }
        Fault::Html { status } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
            let title = format!(
                "{} {}",
                status.as_str(),
                status.canonical_reason().unwrap_or("Error")
            );
            let page = format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            respond(status, "text/html", page)
        }
        Fault::HugeBody { bytes } => {
            let mut chunks = Vec::with_capacity(bytes / PAD_CHUNK + 2);
            let mut left = *bytes;
            while left > 0 {
                let n = left.min(PAD_CHUNK);
                chunks.push(Bytes::from_static(&PADDING[..n]));
                left -= n;
            }
            chunks.push(success);
            let stream = futures::stream::iter(chunks.into_iter().map(Ok::<Bytes, Infallible>));
            respond(StatusCode::OK, json_type(vendor), Body::from_stream(stream))
        }
        Fault::DropConnection => match ctl {
            Some(ctl) => {
                ctl.abort();
                std::future::pending().await
            }
            None => {
                let stream = futures::stream::once(async {
                    Err::<Bytes, _>(std::io::Error::other("dropped connection"))
                });
                respond(StatusCode::OK, json_type(vendor), Body::from_stream(stream))
            }
        },
        Fault::WrongContentType => respond(StatusCode::OK, "text/plain; charset=utf-8", success),
    }
}
