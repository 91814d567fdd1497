//! [`Context`], the inner value of every generated `Client`: the auth headers that travel
//! with the client, the request signer that signs each request as it leaves, the capped
//! read of every response body, and the exchange kept for the caller.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, StatusCode, Url};

/// The largest response body a generated client reads, in bytes. Reading stops as soon as a
/// body grows past it: a broken or hostile server could otherwise make the client buffer
/// any amount of memory.
pub const MAX_RESPONSE_BODY_BYTES: usize = 1024 * 1024;

/// progenitor 0.15 adds `api-version: <info.version>` to every request. No vendor of the
/// workspace documents that header, the spec's version is not a protocol version anybody
/// negotiated, and APIs that do read an `api-version` header (Azure's style) would take it
/// as one. It is removed before a request leaves.
const PROGENITOR_API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// The inner value of a generated `Client` (`Client::new_with_client(base_url, http,
/// context)`).
///
/// - Its headers (credentials, marked sensitive) go on every request the client sends, so
///   one `reqwest::Client`, and so one connection pool, serves any number of accounts.
/// - Every response body is read here, at most [`MAX_RESPONSE_BODY_BYTES`]; a larger one
///   fails with an error whose source chain holds an [`http_body_util::LengthLimitError`].
/// - The last response received ([`Received`]: status, headers and raw bytes) is kept, so a
///   caller can still tell a transient HTML 503 from a 404 when progenitor reports only that
///   a body did not deserialize.
///
/// - Its [`RequestSigner`], when it has one, signs every request in the generated client's
///   `pre` hook, over the final request (method, URL with its query, headers, body bytes),
///   so the request that leaves is exactly the one signed, and each request (a retry
///   included) is signed when it is sent.
///
/// Clones share the kept response: give each concurrent call a context of its own (they
/// are cheap) when you read [`Context::take_received`].
#[derive(Clone, Default)]
pub struct Context {
    headers: HeaderMap,
    signer: Option<Arc<dyn RequestSigner>>,
    received: Arc<Mutex<Option<Received>>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // HeaderMap's Debug prints a value marked sensitive as `Sensitive`; a signer's Debug
        // redacts its credentials (the trait requires it).
        f.debug_struct("Context")
            .field("headers", &self.headers)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

/// A request as it is about to leave, for a [`RequestSigner`]: what is signed is what is
/// sent.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Outgoing<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URL, query included (the `Host` header is its host, and port when not the
    /// default).
    pub url: &'a Url,
    /// The headers, the context's own included (`Host` and `Content-Length` are added by
    /// the HTTP stack after this).
    pub headers: &'a HeaderMap,
    /// The body's bytes (empty without a body).
    pub body: &'a [u8],
}

/// Signs requests as they leave (a cloud's request signature): a [`Context`] with a signer
/// hands it every request in the generated client's `pre` hook, after its own headers are
/// on, and inserts the headers it returns (each replacing any of the same name).
///
/// An implementation holds credentials: its `Debug` must redact them, and neither its
/// headers' `Debug` (mark a secret value with `HeaderValue::set_sensitive`) nor its error
/// may carry one.
pub trait RequestSigner: fmt::Debug + Send + Sync {
    /// The headers that sign `request` now (a fresh timestamp and nonce each call), or why
    /// it cannot be signed; the request is then not sent.
    fn sign(&self, request: &Outgoing<'_>) -> Result<HeaderMap, String>;
}

/// What the last exchange of a [`Context`] gave.
#[derive(Debug)]
#[non_exhaustive]
pub enum Received {
    /// A whole response.
    Complete(Exchange),
    /// A response started, but its body broke off (reset, truncated, timed out); the
    /// `reqwest::Error` is what the generated operation returned.
    BodyFailed {
        /// The response's status.
        status: StatusCode,
    },
    /// The body was larger than the cap, so it was not read.
    TooLarge {
        /// The response's status.
        status: StatusCode,
        /// The cap, in bytes.
        limit: usize,
    },
}

/// A whole response: status, headers and the raw body.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, exactly as received.
    pub body: Bytes,
}

impl Context {
    /// A context that adds `headers` to every request. Mark secret values with
    /// `HeaderValue::set_sensitive(true)`: `Debug` then shows `Sensitive`.
    pub fn new(headers: HeaderMap) -> Self {
        Self {
            headers,
            signer: None,
            received: Arc::default(),
        }
    }

    /// The same context, with `signer` signing every request it prepares.
    #[must_use]
    pub fn with_signer(mut self, signer: Arc<dyn RequestSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The request signer, if the context has one.
    pub fn signer(&self) -> Option<&Arc<dyn RequestSigner>> {
        self.signer.as_ref()
    }

    /// The headers added to every request.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// What the last exchange gave, taken out (so a second call gives `None` until another
    /// exchange). `None` also when no response arrived at all (connection refused, a
    /// redirect refused, a timeout before the headers): the generated operation's error
    /// then holds the `reqwest::Error`.
    pub fn take_received(&self) -> Option<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn keep(&self, received: Received) {
        *self.received.lock().unwrap_or_else(PoisonError::into_inner) = Some(received);
    }

    /// The generated client's `pre` hook: progenitor's `api-version` header comes off, the
    /// context's headers go on, and then, with a signer, the headers that sign the request
    /// as it now is. An error (a body that is a stream, a request the signer refuses) says
    /// why the request cannot be sent; it holds no credential.
    pub fn prepare(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let headers = request.headers_mut();
        headers.remove(PROGENITOR_API_VERSION);
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        let body = match request.body() {
            None => &[][..],
            Some(body) => body
                .as_bytes()
                .ok_or("the request body is a stream, which cannot be signed")?,
        };
        let signed = signer.sign(&Outgoing {
            method: request.method(),
            url: request.url(),
            headers: request.headers(),
            body,
        })?;
        let headers = request.headers_mut();
        for (name, value) in &signed {
            headers.insert(name.clone(), value.clone());
        }
        Ok(())
    }

    /// The generated client's `exec` hook: sends `request` with `http`, reads the whole body
    /// under the cap, keeps the exchange, and hands progenitor a response over the same
    /// bytes.
    pub async fn execute(
        &self,
        http: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        let mut response = http.execute(request).await?;
        let status = response.status();
        let version = response.version();
        let url = response.url().clone();
        let headers = response.headers().clone();

        // Refuse early when the server announces a body over the cap; otherwise count as we
        // go, since a chunked body announces nothing.
        if response
            .content_length()
            .is_some_and(|length| length > MAX_RESPONSE_BODY_BYTES as u64)
        {
            return Ok(self.too_large(status, version, url, headers));
        }
        // Most bodies arrive in one chunk: keep it as it is, and copy only when a second
        // comes.
        let mut first: Option<Bytes> = None;
        let mut joined: Option<BytesMut> = None;
        let mut length = 0_usize;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    length += chunk.len();
                    if length > MAX_RESPONSE_BODY_BYTES {
                        return Ok(self.too_large(status, version, url, headers));
                    }
                    match (&mut joined, first.take()) {
                        (Some(buffer), _) => buffer.extend_from_slice(&chunk),
                        (None, None) => first = Some(chunk),
                        (None, Some(earlier)) => {
                            let mut buffer = BytesMut::with_capacity(length);
                            buffer.extend_from_slice(&earlier);
                            buffer.extend_from_slice(&chunk);
                            joined = Some(buffer);
                        }
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    self.keep(Received::BodyFailed { status });
                    return Err(error);
                }
            }
        }
        let body = match joined {
            Some(buffer) => buffer.freeze(),
            None => first.unwrap_or_default(),
        };
        let rebuilt = rebuild(status, version, url, headers.clone(), body.clone());
        self.keep(Received::Complete(Exchange {
            status,
            headers,
            body,
        }));
        Ok(rebuilt)
    }

    /// The response handed on for a body over the cap: reading it fails at once with a
    /// [`http_body_util::LengthLimitError`], as a body cut off by `Limited` does.
    fn too_large(
        &self,
        status: StatusCode,
        version: http::Version,
        url: reqwest::Url,
        headers: HeaderMap,
    ) -> reqwest::Response {
        self.keep(Received::TooLarge {
            status,
            limit: MAX_RESPONSE_BODY_BYTES,
        });
        let refused =
            http_body_util::Limited::new(http_body_util::Full::new(Bytes::from_static(b"-")), 0);
        rebuild_with(status, version, url, headers, reqwest::Body::wrap(refused))
    }
}

fn rebuild(
    status: StatusCode,
    version: http::Version,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Bytes,
) -> reqwest::Response {
    rebuild_with(status, version, url, headers, reqwest::Body::from(body))
}

fn rebuild_with(
    status: StatusCode,
    version: http::Version,
    url: reqwest::Url,
    headers: HeaderMap,
    body: reqwest::Body,
) -> reqwest::Response {
    // Only the URL goes through the builder (it is how reqwest lets anyone set it); that
    // step cannot fail, and were it to, the response would only lack its URL.
    let mut response = reqwest::ResponseBuilderExt::url(http::Response::builder(), url)
        .body(())
        .unwrap_or_default()
        .map(|()| body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    reqwest::Response::from(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{AUTHORIZATION, HeaderValue};
    use wiremock::matchers::{header, header_exists, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn secret_headers() -> HeaderMap {
        let mut value = HeaderValue::from_static("Bearer sk-secret");
        value.set_sensitive(true);
        HeaderMap::from_iter([(AUTHORIZATION, value)])
    }

    #[test]
    fn debug_does_not_show_credentials() {
        let shown = format!("{:?}", Context::new(secret_headers()));
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("Sensitive"), "{shown}");
    }

    #[tokio::test]
    async fn headers_go_out_api_version_stays_home_and_the_exchange_is_kept() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(header("authorization", "Bearer sk-secret"))
            .respond_with(ResponseTemplate::new(503).set_body_string("<html>busy</html>"))
            .mount(&server)
            .await;
        Mock::given(header_exists("api-version"))
            .respond_with(ResponseTemplate::new(418))
            .with_priority(1)
            .mount(&server)
            .await;
        let http = reqwest::Client::new();
        let context = Context::new(secret_headers());
        let mut request = http
            .get(server.uri())
            .header("api-version", "1.0.0")
            .build()
            .unwrap();
        context.prepare(&mut request).unwrap();
        let response = context.execute(&http, request).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.bytes().await.unwrap(), "<html>busy</html>");
        match context.take_received() {
            Some(Received::Complete(exchange)) => {
                assert_eq!(exchange.status, 503);
                assert_eq!(exchange.body, "<html>busy</html>");
            }
            other => panic!("{other:?}"),
        }
        assert!(context.take_received().is_none());
    }

    /// Signs with the method, the URL and the body it was given, so the test sees that it
    /// was given the final request.
    #[derive(Debug)]
    struct Echoing;

    impl RequestSigner for Echoing {
        fn sign(&self, request: &Outgoing<'_>) -> Result<HeaderMap, String> {
            if request.headers.contains_key("api-version") {
                return Err("api-version was still on".into());
            }
            let seen = format!(
                "{} {} {} auth={}",
                request.method,
                request.url,
                String::from_utf8_lossy(request.body),
                request.headers.contains_key(AUTHORIZATION),
            );
            let mut value = HeaderValue::from_str(&seen).map_err(|e| e.to_string())?;
            value.set_sensitive(true);
            Ok(HeaderMap::from_iter([(AUTHORIZATION, value)]))
        }
    }

    #[test]
    fn a_signer_signs_the_final_request_and_its_headers_replace_the_contexts() {
        let http = reqwest::Client::new();
        let context = Context::new(secret_headers()).with_signer(Arc::new(Echoing));
        let mut request = http
            .post("http://127.0.0.1:9/a?b=c")
            .header("api-version", "1.0.0")
            .body("{}")
            .build()
            .unwrap();
        context.prepare(&mut request).unwrap();
        let signed = request.headers().get(AUTHORIZATION).unwrap();
        assert_eq!(
            signed.to_str().unwrap(),
            "POST http://127.0.0.1:9/a?b=c {} auth=true"
        );
        assert!(signed.is_sensitive());
        assert!(format!("{context:?}").contains("Echoing"));

        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"{}"))];
        let mut streamed = http
            .post("http://127.0.0.1:9/")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .build()
            .unwrap();
        let refused = context.prepare(&mut streamed).unwrap_err();
        assert!(refused.contains("stream"), "{refused}");
    }

    #[tokio::test]
    async fn bodies_over_the_cap_are_not_read() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![
                b'x';
                MAX_RESPONSE_BODY_BYTES
                    + 1
            ]))
            .mount(&server)
            .await;
        let http = reqwest::Client::new();
        let context = Context::default();
        let request = http.get(server.uri()).build().unwrap();
        let response = context.execute(&http, request).await.unwrap();
        let error = response.bytes().await.expect_err("over the cap");
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        let mut limited = false;
        while let Some(e) = cause {
            limited |= e.is::<http_body_util::LengthLimitError>();
            cause = e.source();
        }
        assert!(limited, "{error:?}");
        assert!(matches!(
            context.take_received(),
            Some(Received::TooLarge {
                limit: MAX_RESPONSE_BODY_BYTES,
                ..
            })
        ));
    }
}
