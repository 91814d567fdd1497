//! The exporter's HTTP endpoints. Every answer is rendered from the exporter's state; none
//! calls a vendor.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::state::Exporter;
use crate::metrics::Exposition;

/// A client that has not sent its headers by then is dropped (slow clients must not hold
/// connections open forever).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    exporter: Arc<Exporter>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let exporter = exporter.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let exporter = exporter.clone();
                async move { Ok::<_, Infallible>(respond(&exporter, &request)) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                }
                _ = shutdown.changed() => {}
            }
        });
    }
}

fn respond(exporter: &Exporter, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match request.uri().path() {
        "/metrics" => {
            let accept = request
                .headers()
                .get(ACCEPT)
                .and_then(|value| value.to_str().ok());
            let format = Exposition::negotiate(accept);
            body(
                StatusCode::OK,
                format.content_type(),
                exporter.metrics(format),
            )
        }
        "/balances" => body(StatusCode::OK, "application/json", exporter.balances_json()),
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/" => {
            let mut response = body(
                StatusCode::OK,
                "text/html; charset=utf-8",
                exporter.status_page(),
            );
            let headers = response.headers_mut();
            if let Ok(policy) = HeaderValue::from_str(super::page::content_security_policy()) {
                headers.insert(CONTENT_SECURITY_POLICY, policy);
            }
            headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /, /metrics, /balances or /healthz\n",
        ),
    }
}

fn text(status: StatusCode, content: &'static str) -> Response<Full<Bytes>> {
    body(status, "text/plain; charset=utf-8", content.to_owned())
}

fn body(status: StatusCode, content_type: &'static str, content: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(content)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
