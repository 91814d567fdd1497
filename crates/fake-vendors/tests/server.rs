//! End-to-end tests of the fake vendors over real HTTP on 127.0.0.1, with reqwest.
//!
//! Every test that can iterates `balances_registry::vendors()`, so a vendor folder added to
//! the registry is covered with no change here. Expectations are read from the registry's
//! data (examples, error pointers, credential fields), never from the crate under test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use balances_registry::{Auth, ErrorKindName, Example, VendorEntry};
use balances_signing::{Attempt, Credentials, Nonce, Scheme, SigningRequest, SigningTime};
use fake_vendors::{
    AccountInfo, AccountSeed, FakeVendors, FakeVendorsError, FakeVendorsHandle, Fault,
    HUGE_BODY_BYTES, RetryAfter, eiotclub_codes, sign,
};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

/// A fresh nonce in the signature scheme's range for every signed request of this process,
/// so that no test replays by accident.
fn nonce() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    10_000 + NEXT.fetch_add(1, Ordering::Relaxed) % 90_000
}

fn vendors() -> &'static [VendorEntry] {
    let vendors = balances_registry::vendors();
    assert!(!vendors.is_empty(), "the registry has vendors");
    vendors
}

fn is_signature(vendor: &VendorEntry) -> bool {
    matches!(vendor.description.auth, Auth::EiotclubSignature)
}

fn cloud_vendors() -> Vec<&'static VendorEntry> {
    let found: Vec<_> = vendors()
        .iter()
        .filter(|v| v.description.auth.signs_requests())
        .collect();
    assert!(!found.is_empty(), "a registry vendor signs its requests");
    found
}

fn signature_vendors() -> Vec<&'static VendorEntry> {
    let found: Vec<_> = vendors().iter().filter(|v| is_signature(v)).collect();
    assert!(
        !found.is_empty(),
        "a registry vendor uses the signature scheme"
    );
    found
}

/// Vendors with an example showing a balance (what an account answers by default).
fn servable() -> impl Iterator<Item = &'static VendorEntry> {
    vendors().iter().filter(|v| default_example(v).is_some())
}

fn default_example(vendor: &'static VendorEntry) -> Option<&'static Example> {
    vendor.default_balance_example()
}

fn error_example(
    vendor: &'static VendorEntry,
    kind: &str,
    status: Option<u16>,
) -> Option<&'static Example> {
    vendor.error_example(kind, status)
}

/// `<tag>-<vendor>-<field>` for each of the vendor's credential fields.
fn creds(vendor: &VendorEntry, tag: &str) -> Vec<(String, String)> {
    vendor
        .description
        .auth
        .credential_fields()
        .iter()
        .map(|f| ((*f).to_owned(), format!("{tag}-{}-{f}", vendor.id)))
        .collect()
}

fn seed(vendor: &VendorEntry, tag: &str) -> AccountSeed {
    AccountSeed::new(vendor.id.as_str(), creds(vendor, tag))
}

/// The first credential's value of `seed(vendor, tag)`: the account's key.
fn key(vendor: &VendorEntry, tag: &str) -> String {
    creds(vendor, tag).remove(0).1
}

/// The operation's path with any `{param}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "p" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// For a vendor that reports spend, the query parameters of December 2026 (a period the
/// fake vendors accept) and the constants its description sends; none otherwise.
fn period_query(vendor: &VendorEntry) -> Vec<(String, String)> {
    let Some(spend) = &vendor.description.balance.spend else {
        return Vec::new();
    };
    let (start, end) = (1_796_083_200, 1_798_761_600);
    let mut query = vec![(
        spend.start.name.clone(),
        spend.start.format.write(start).expect("an instant"),
    )];
    if let Some(parameter) = &spend.end {
        query.push((
            parameter.name.clone(),
            parameter.format.write(end).expect("an instant"),
        ));
    }
    query.extend(spend.query.iter().map(|(n, v)| (n.clone(), v.clone())));
    query
}

/// A request to `vendor`'s balance operation under `base_url`, with the parameters its spec
/// fixes, authenticated with `creds` as its scheme says (signature scheme: a freshly signed
/// body; a cloud scheme: signed now); `None` sends no credentials.
fn request(
    c: &reqwest::Client,
    vendor: &VendorEntry,
    base_url: &str,
    creds: Option<&[(String, String)]>,
) -> reqwest::RequestBuilder {
    signed_at(c, vendor, base_url, creds, None)
}

/// [`request`], a cloud scheme's request signed at `at` (Unix seconds) instead of now.
fn signed_at(
    c: &reqwest::Client,
    vendor: &VendorEntry,
    base_url: &str,
    creds: Option<&[(String, String)]>,
    at: Option<i64>,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(vendor.method.as_bytes()).expect("method");
    let mut url =
        reqwest::Url::parse(&format!("{base_url}{}", concrete(&vendor.path))).expect("url");
    for fixed in &vendor.request.query {
        url.query_pairs_mut().append_pair(&fixed.name, &fixed.value);
    }
    for (name, value) in period_query(vendor) {
        url.query_pairs_mut().append_pair(&name, &value);
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for fixed in &vendor.request.headers {
        headers.insert(
            reqwest::header::HeaderName::from_bytes(fixed.name.as_bytes()).expect("name"),
            fixed.value.parse().expect("value"),
        );
    }
    let rb = c.request(method.clone(), url.clone());
    let Some(creds) = creds else {
        return rb.headers(headers);
    };
    let key = creds[0].1.as_str();
    if let Some(scheme) = Scheme::for_auth(&vendor.description.auth) {
        let body: &[u8] = if vendor.request.json_body { b"{}" } else { b"" };
        if vendor.request.json_body {
            headers.insert(CONTENT_TYPE, "application/json".parse().expect("value"));
        }
        let credentials = Credentials::new(
            creds[0].1.clone().into(),
            creds[creds.len() - 1].1.clone().into(),
        )
        .expect("test credentials");
        let attempt = Attempt {
            time: match at {
                Some(at) => SigningTime::from_unix_seconds(at).expect("a time"),
                None => SigningTime::now().expect("a time"),
            },
            nonce: Nonce::random(),
        };
        let signing = SigningRequest::from_http(&method, &url, &headers, body).expect("signable");
        let signed = scheme
            .sign(&signing, &credentials, &attempt)
            .expect("signed");
        headers.extend(signed);
        return rb.headers(headers).body(body.to_vec());
    }
    let rb = rb.headers(headers);
    match &vendor.description.auth {
        Auth::Bearer => rb.bearer_auth(key),
        Auth::Header { header } => rb.header(header.as_str(), key),
        Auth::Authorization => rb.header("Authorization", key),
        Auth::Prefixed { prefix } => rb.header("Authorization", format!("{prefix} {key}")),
        Auth::EiotclubSignature => {
            let secret = creds[creds.len() - 1].1.as_str();
            rb.json(&sign::signed_body(key, secret, now(), nonce(), &Map::new()))
        }
        other => panic!("a new auth scheme {other:?}: teach these tests to send it"),
    }
}

async fn call(
    vendor: &VendorEntry,
    base_url: &str,
    creds: Option<&[(String, String)]>,
) -> reqwest::Response {
    request(&client(), vendor, base_url, creds)
        .send()
        .await
        .expect("response")
}

/// A call as the seeded account `tag` of `vendor` on server `h`.
async fn call_as(h: &FakeVendorsHandle, vendor: &VendorEntry, tag: &str) -> reqwest::Response {
    let info = info_of(h, &key(vendor, tag));
    call(vendor, &info.base_url, Some(&info.credentials)).await
}

fn info_of(h: &FakeVendorsHandle, key: &str) -> AccountInfo {
    h.accounts()
        .into_iter()
        .find(|a| a.key() == key)
        .expect("seeded")
}

async fn text(r: reqwest::Response) -> String {
    r.text().await.expect("body")
}

async fn json_of(r: reqwest::Response) -> Value {
    let body = text(r).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Assert a response is exactly `example`: status, content type, headers, body.
async fn assert_example(r: reqwest::Response, example: &Example, context: &str) {
    assert_eq!(r.status().as_u16(), example.status, "{context}");
    let content_type = example
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("application/json", |(_, v)| v.as_str());
    assert_eq!(r.headers()[CONTENT_TYPE], content_type, "{context}");
    for (name, value) in &example.headers {
        assert_eq!(
            r.headers()[name.as_str()],
            value.as_str(),
            "{context}: {name}"
        );
    }
    assert_eq!(text(r).await, example.body, "{context}");
}

/// Assert a built error body carries `code` and `message` at the vendor's first pointers.
fn assert_built(vendor: &VendorEntry, body: &Value, code: &Value, message: Option<&str>) {
    let errors = &vendor.description.errors;
    if let Some(pointer) = errors.code.first() {
        assert_eq!(body.pointer(pointer), Some(code), "{}: {body}", vendor.id);
    }
    if let (Some(pointer), Some(message)) = (errors.message.first(), message) {
        assert_eq!(
            body.pointer(pointer),
            Some(&json!(message)),
            "{}: {body}",
            vendor.id
        );
    }
}

/// Assert `r` is the vendor's documented error of `kind` (with `status` if given), else a
/// built error with `built_status` and `built_code`.
async fn assert_documented(
    r: reqwest::Response,
    vendor: &'static VendorEntry,
    kind: &str,
    status: Option<u16>,
    built_status: u16,
    built_code: &str,
) {
    match error_example(vendor, kind, status) {
        Some(example) => assert_example(r, example, &format!("{} {kind}", vendor.id)).await,
        None => {
            assert_eq!(r.status().as_u16(), built_status, "{} {kind}", vendor.id);
            assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
            assert_built(vendor, &json_of(r).await, &json!(built_code), None);
        }
    }
}

/// The kind the vendor's description gives an error answer: its mapping of the code at the
/// vendor's error code pointer, else the shared status table's authentication.
async fn implied_kind(r: reqwest::Response, vendor: &VendorEntry) -> Option<ErrorKindName> {
    let status = r.status().as_u16();
    let body = json_of(r).await;
    let errors = &vendor.description.errors;
    let code = errors
        .code
        .iter()
        .find_map(|pointer| body.pointer(pointer).and_then(Value::as_str));
    code.and_then(|code| errors.codes.get(code).copied())
        .or(matches!(status, 401 | 403).then_some(ErrorKindName::Authentication))
}

/// What a missing or unknown key gets.
async fn assert_rejected(r: reqwest::Response, vendor: &'static VendorEntry) {
    if vendor.description.auth.signs_requests() {
        // The verifier's refusal (or the documented authentication example, for the
        // Unauthorized fault): a code the vendor's description reads as authentication.
        assert_eq!(
            implied_kind(r, vendor).await,
            Some(ErrorKindName::Authentication),
            "{}",
            vendor.id
        );
    } else if is_signature(vendor) {
        assert_documented(
            r,
            vendor,
            "authentication",
            None,
            200,
            eiotclub_codes::UNKNOWN_APPKEY,
        )
        .await;
    } else {
        assert_documented(r, vendor, "authentication", None, 401, "unauthorized").await;
    }
}

/// One account per servable vendor, tagged `tag`.
async fn one_per_vendor(tag: &str) -> FakeVendorsHandle {
    FakeVendors::builder()
        .accounts(servable().map(|v| seed(v, tag)))
        .start()
        .await
        .expect("server starts")
}

/// The signature-scheme failure code at the vendor's code pointer, HTTP 200.
async fn envelope_code(r: reqwest::Response, vendor: &VendorEntry) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    let body = json_of(r).await;
    let pointer = vendor
        .description
        .errors
        .code
        .first()
        .expect("a code pointer");
    body.pointer(pointer).cloned().unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Routes and answers

#[tokio::test]
async fn every_example_is_served_exactly_for_a_good_key() {
    for vendor in vendors() {
        let h = FakeVendors::builder()
            .accounts(
                vendor
                    .examples
                    .iter()
                    .map(|e| seed(vendor, &e.name).example(e.name.as_str())),
            )
            .start()
            .await
            .expect("start");
        for example in &vendor.examples {
            let r = call_as(&h, vendor, &example.name).await;
            assert_example(r, example, &format!("{}/{}", vendor.id, example.name)).await;
            let control = h.account(&key(vendor, &example.name));
            assert_eq!(control.example(), Some(example.name.as_str()));
            assert_eq!(control.requests(), 1);
            // An example with a region puts its account there.
            if let Some(region) = &example.region {
                assert_eq!(control.region(), Some(region.as_str()));
            }
        }
    }
}

#[tokio::test]
async fn the_default_answer_is_the_first_balance_example_by_name() {
    let h = one_per_vendor("default").await;
    let mut served = 0;
    for vendor in servable() {
        let example = default_example(vendor).expect("servable");
        assert_example(call_as(&h, vendor, "default").await, example, &vendor.id).await;
        served += 1;
    }
    assert!(served > 0);
    // A vendor that documents no balance cannot be seeded without a body.
    for vendor in vendors().iter().filter(|v| default_example(v).is_none()) {
        let error = FakeVendors::builder()
            .account(seed(vendor, "none"))
            .start()
            .await
            .expect_err("nothing to answer");
        assert!(matches!(error, FakeVendorsError::NoBalanceExample { .. }));
    }
}

#[tokio::test]
async fn base_urls_follow_the_route_rule() {
    let h = one_per_vendor("url").await;
    let addr = h.addr();
    assert!(addr.ip().is_loopback());
    for vendor in vendors() {
        let id = vendor.id.as_str();
        let regions = &vendor.description.regions;
        if regions.is_empty() {
            assert_eq!(
                h.base_url(id).expect("known"),
                format!("http://{addr}/{id}")
            );
            assert!(matches!(
                h.region_base_url(id, "cn"),
                Err(FakeVendorsError::UnknownRegion { .. })
            ));
        } else {
            let default = vendor
                .description
                .default_region
                .clone()
                .unwrap_or_else(|| regions[0].name.clone());
            assert_eq!(
                h.base_url(id).expect("known"),
                format!("http://{addr}/{id}/{default}")
            );
            for region in regions {
                assert_eq!(
                    h.region_base_url(id, &region.name).expect("known"),
                    format!("http://{addr}/{id}/{}", region.name)
                );
            }
            assert!(matches!(
                h.region_base_url(id, "nowhere"),
                Err(FakeVendorsError::UnknownRegion { .. })
            ));
        }
        assert_eq!(
            h.balance_url(id).expect("known"),
            format!("{}{}", h.base_url(id).expect("known"), vendor.path)
        );
    }
}

#[tokio::test]
async fn each_region_serves_only_its_own_accounts() {
    let mut checked = 0;
    for vendor in vendors()
        .iter()
        .filter(|v| !v.description.regions.is_empty())
    {
        let Some(_) = default_example(vendor) else {
            continue;
        };
        let regions = &vendor.description.regions;
        let h = FakeVendors::builder()
            .accounts(
                regions
                    .iter()
                    .map(|r| seed(vendor, &r.name).region(r.name.as_str())),
            )
            .start()
            .await
            .expect("start");
        for (i, region) in regions.iter().enumerate() {
            let creds = creds(vendor, &region.name);
            let here = h.region_base_url(&vendor.id, &region.name).expect("region");
            assert_eq!(info_of(&h, &creds[0].1).base_url, here);
            assert_eq!(
                info_of(&h, &creds[0].1).region.as_deref(),
                Some(region.name.as_str())
            );
            assert_eq!(
                call(vendor, &here, Some(&creds)).await.status(),
                StatusCode::OK
            );
            if regions.len() > 1 {
                let other = &regions[(i + 1) % regions.len()].name;
                let there = h.region_base_url(&vendor.id, other).expect("region");
                assert_rejected(call(vendor, &there, Some(&creds)).await, vendor).await;
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "a registry vendor has regions");
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused() {
    let h = one_per_vendor("route").await;
    let r = client()
        .get(format!("http://{}/nope", h.addr()))
        .send()
        .await
        .expect("response");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for vendor in servable() {
        let info = info_of(&h, &key(vendor, "route"));
        let other = if vendor.method == "GET" {
            "DELETE"
        } else {
            "GET"
        };
        let method = reqwest::Method::from_bytes(other.as_bytes()).expect("method");
        let r = client()
            .request(
                method,
                format!("{}{}", info.base_url, concrete(&vendor.path)),
            )
            .send()
            .await
            .expect("response");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{}", vendor.id);
        assert_eq!(h.requests(&vendor.id).expect("known"), 0, "not counted");
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication

#[tokio::test]
async fn wrong_missing_or_foreign_keys_get_the_documented_auth_error() {
    let h = one_per_vendor("auth").await;
    let all: Vec<&'static VendorEntry> = servable().collect();
    for (i, vendor) in all.iter().copied().enumerate() {
        let base = info_of(&h, &key(vendor, "auth")).base_url;
        // A key nobody was given.
        assert_rejected(
            call(vendor, &base, Some(&creds(vendor, "wrong"))).await,
            vendor,
        )
        .await;
        // No credentials at all (the signature scheme's missing appkey is a parameter error).
        let r = call(vendor, &base, None).await;
        if vendor.description.auth.signs_requests() {
            assert_rejected(r, vendor).await;
        } else if is_signature(vendor) {
            assert_eq!(
                envelope_code(r, vendor).await,
                json!(eiotclub_codes::PARAM_ERROR)
            );
        } else {
            assert_rejected(r, vendor).await;
        }
        // Another vendor's account, its key sent the way this vendor wants it.
        if all.len() > 1 {
            let other = all[(i + 1) % all.len()];
            let mut foreign = creds(vendor, "auth");
            foreign[0].1 = key(other, "auth");
            assert_rejected(call(vendor, &base, Some(&foreign)).await, vendor).await;
        }
        assert_eq!(
            h.account(&key(vendor, "auth")).requests(),
            0,
            "{}",
            vendor.id
        );
        assert!(h.requests(&vendor.id).expect("known") >= 2);
    }
}

#[tokio::test]
async fn the_unauthorized_fault_answers_like_an_unknown_key() {
    let h = FakeVendors::builder()
        .accounts(servable().map(|v| seed(v, "revoked").fault(Fault::Unauthorized)))
        .start()
        .await
        .expect("start");
    for vendor in servable() {
        assert_rejected(call_as(&h, vendor, "revoked").await, vendor).await;
        assert_rejected(call_as(&h, vendor, "revoked").await, vendor).await;
        h.account(&key(vendor, "revoked")).clear_faults();
        assert_eq!(call_as(&h, vendor, "revoked").await.status().as_u16(), {
            default_example(vendor).expect("servable").status
        });
        assert_eq!(h.account(&key(vendor, "revoked")).requests(), 3);
    }
}

// ---------------------------------------------------------------------------------------------
// The cloud signature schemes

#[tokio::test]
async fn cloud_schemes_accept_a_good_signature_and_refuse_bad_stale_and_unfixed_requests() {
    for vendor in cloud_vendors() {
        let h = FakeVendors::builder()
            .account(seed(vendor, "cloud"))
            .start()
            .await
            .expect("start");
        let info = info_of(&h, &key(vendor, "cloud"));
        let creds = info.credentials.clone();
        let c = client();
        let send = |at: Option<i64>, creds: Vec<(String, String)>| {
            signed_at(&c, vendor, &info.base_url, Some(&creds), at).send()
        };
        let good = send(None, creds.clone()).await.expect("response");
        assert_example(good, default_example(vendor).expect("servable"), &vendor.id).await;

        // Signed with another secret: the vendor's bad-signature refusal.
        let mut wrong_secret = creds.clone();
        let last = wrong_secret.len() - 1;
        wrong_secret[last].1.push('x');
        let r = send(None, wrong_secret).await.expect("response");
        assert_eq!(
            implied_kind(r, vendor).await,
            Some(ErrorKindName::Authentication),
            "{}: a bad signature",
            vendor.id
        );
        // Signed an hour ago, or an hour ahead: the vendor's clock-skew refusal.
        for skew in [-3600, 3600] {
            let r = send(Some(now() + skew), creds.clone())
                .await
                .expect("response");
            assert_eq!(
                implied_kind(r, vendor).await,
                Some(ErrorKindName::ClockSkew),
                "{}: signed {skew} s off",
                vendor.id
            );
        }
        let control = h.account(&key(vendor, "cloud"));
        assert_eq!(
            (control.requests(), control.refusals()),
            (4, 3),
            "{}",
            vendor.id
        );

        // A parameter the spec fixes, left out: refused before the account is counted.
        let fixed = vendor
            .request
            .headers
            .first()
            .or(vendor.request.query.first());
        if let Some(fixed) = fixed {
            let url = format!("{}{}", info.base_url, concrete(&vendor.path));
            let method = reqwest::Method::from_bytes(vendor.method.as_bytes()).expect("method");
            let r = c.request(method, url).send().await.expect("response");
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", vendor.id);
            assert!(text(r).await.contains(&fixed.name), "{}", vendor.id);
            assert_eq!(control.requests(), 4, "{}", vendor.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The signature scheme

/// A server with one account of the signature vendor `vendor`; its (appkey, secret).
async fn signature_server(vendor: &VendorEntry) -> (FakeVendorsHandle, String, String, String) {
    let h = FakeVendors::builder()
        .account(seed(vendor, "sig"))
        .start()
        .await
        .expect("start");
    let info = info_of(&h, &key(vendor, "sig"));
    let appkey = info.credentials[0].1.clone();
    let secret = info.credentials[1].1.clone();
    let url = format!("{}{}", info.base_url, concrete(&vendor.path));
    (h, appkey, secret, url)
}

async fn post(url: &str, body: &Map<String, Value>) -> reqwest::Response {
    client()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("response")
}

#[tokio::test]
async fn signature_scheme_checks_signature_timestamp_nonce_and_replay() {
    for vendor in signature_vendors() {
        let (h, appkey, secret, url) = signature_server(vendor).await;
        let ok = default_example(vendor)
            .expect("a balance example")
            .body
            .as_str();
        let signed = |nonce: u32| sign::signed_body(&appkey, &secret, now(), nonce, &Map::new());
        let code = |r| envelope_code(r, vendor);

        // Valid, with an extra signed parameter, and with string-typed scalars.
        let mut extra = Map::new();
        extra.insert("operator".into(), json!(5));
        let body = sign::signed_body(&appkey, &secret, now(), 10000, &extra);
        assert_eq!(text(post(&url, &body).await).await, ok);
        let mut stringly = Map::new();
        stringly.insert("appkey".into(), json!(appkey));
        stringly.insert("timestamp".into(), json!(now().to_string()));
        stringly.insert("nonce".into(), json!("99999"));
        let s = sign::sign(&stringly, &secret);
        stringly.insert("sign".into(), json!(s));
        assert_eq!(text(post(&url, &stringly).await).await, ok);

        // An unsigned extra parameter, a wrong secret, a lower-case signature.
        let mut tampered = signed(20000);
        tampered.insert("operator".into(), json!(5));
        assert_eq!(
            code(post(&url, &tampered).await).await,
            json!(eiotclub_codes::SIGN_ERROR)
        );
        let wrong_secret = sign::signed_body(&appkey, "other", now(), 20001, &Map::new());
        assert_eq!(
            code(post(&url, &wrong_secret).await).await,
            json!(eiotclub_codes::SIGN_ERROR)
        );
        let mut lower = signed(20002);
        let lowered = lower["sign"].as_str().map(str::to_ascii_lowercase);
        lower.insert("sign".into(), json!(lowered));
        assert_eq!(
            code(post(&url, &lower).await).await,
            json!(eiotclub_codes::SIGN_ERROR)
        );

        // Replay of an accepted request.
        let once = signed(30000);
        assert_eq!(text(post(&url, &once).await).await, ok);
        assert_eq!(
            code(post(&url, &once).await).await,
            json!(eiotclub_codes::REPLAYED)
        );

        // Nonce out of range, correctly signed.
        for nonce in [9999, 100_000] {
            assert_eq!(
                code(post(&url, &signed(nonce)).await).await,
                json!(eiotclub_codes::BAD_NONCE)
            );
        }

        // Timestamps too far from now (and milliseconds instead of seconds).
        // 310, not 301: a second boundary between here and the server must not bring one in.
        for ts in [now() - 310, now() + 310, now() * 1000] {
            let body = sign::signed_body(&appkey, &secret, ts, 40000, &Map::new());
            assert_eq!(
                code(post(&url, &body).await).await,
                json!(eiotclub_codes::TIMESTAMP_EXPIRED)
            );
        }
        // A wider window lets a stale timestamp in.
        h.set_max_skew(Duration::from_secs(3600));
        let body = sign::signed_body(&appkey, &secret, now() - 310, 40001, &Map::new());
        assert_eq!(text(post(&url, &body).await).await, ok);

        // Missing sign, not an object, missing appkey.
        let mut unsigned = signed(50000);
        unsigned.remove("sign");
        assert_eq!(
            code(post(&url, &unsigned).await).await,
            json!(eiotclub_codes::PARAM_ERROR)
        );
        let r = client()
            .post(&url)
            .body("[1,2]")
            .send()
            .await
            .expect("response");
        assert_eq!(code(r).await, json!(eiotclub_codes::PARAM_ERROR));
        let mut anonymous = signed(50001);
        anonymous.remove("appkey");
        assert_eq!(
            code(post(&url, &anonymous).await).await,
            json!(eiotclub_codes::PARAM_ERROR)
        );

        let control = h.account(&appkey);
        assert_eq!(control.nonces().first(), Some(&10000));
        assert_eq!(
            control.last_nonce(),
            Some(50000),
            "the anonymous request is no one's"
        );
    }
}

#[tokio::test]
async fn a_faulted_signed_attempt_still_burns_its_nonce() {
    for vendor in signature_vendors() {
        let (h, appkey, secret, url) = signature_server(vendor).await;
        let ok = default_example(vendor)
            .expect("a balance example")
            .body
            .as_str();
        h.account(&appkey).fail_next(1, Fault::server_error(500));
        let body = sign::signed_body(&appkey, &secret, now(), 12345, &Map::new());
        let r = post(&url, &body).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        // Retrying with the same signed body is a replay: a client must sign each attempt.
        assert_eq!(
            envelope_code(post(&url, &body).await, vendor).await,
            json!(eiotclub_codes::REPLAYED)
        );
        let fresh = sign::signed_body(&appkey, &secret, now(), 12346, &Map::new());
        assert_eq!(text(post(&url, &fresh).await).await, ok);
        assert_eq!(h.account(&appkey).nonces(), [12345, 12345, 12346]);
    }
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn error_faults_answer_the_vendors_documented_errors() {
    let h = one_per_vendor("errors").await;
    for vendor in servable() {
        let control = h.account(&key(vendor, "errors"));
        control.push_faults([
            Fault::InsufficientBalance,
            Fault::rate_limited(7),
            Fault::RateLimited {
                retry_after: Some(RetryAfter::Date(
                    UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                )),
            },
            Fault::RateLimited { retry_after: None },
            Fault::server_error(500),
            Fault::server_error(503),
            Fault::vendor_error("E42", "something vendor-ish"),
            Fault::VendorError {
                code: json!(10000),
                message: "numeric".into(),
            },
        ]);
        assert_eq!(control.queued_faults(), 8);
        let id = vendor.id.as_str();

        let r = call_as(&h, vendor, "errors").await;
        assert_documented(
            r,
            vendor,
            "insufficient_balance",
            None,
            402,
            "insufficient_balance",
        )
        .await;

        let r = call_as(&h, vendor, "errors").await;
        assert_eq!(r.headers()[RETRY_AFTER], "7", "{id}");
        assert_documented(r, vendor, "rate_limited", None, 429, "rate_limited").await;
        let r = call_as(&h, vendor, "errors").await;
        assert_eq!(
            r.headers()[RETRY_AFTER],
            "Tue, 14 Nov 2023 22:13:20 GMT",
            "{id}"
        );
        assert_documented(r, vendor, "rate_limited", None, 429, "rate_limited").await;
        let r = call_as(&h, vendor, "errors").await;
        assert!(r.headers().get(RETRY_AFTER).is_none(), "{id}");
        assert_documented(r, vendor, "rate_limited", None, 429, "rate_limited").await;

        for status in [500, 503] {
            let r = call_as(&h, vendor, "errors").await;
            assert_documented(r, vendor, "transient", Some(status), status, "server_error").await;
        }

        // Vendor errors travel in a 200 envelope for a vendor with a success envelope.
        let in_band = !vendor.description.balance.success.is_empty();
        let status = if in_band { 200 } else { 400 };
        let r = call_as(&h, vendor, "errors").await;
        assert_eq!(r.status().as_u16(), status, "{id}");
        assert_built(
            vendor,
            &json_of(r).await,
            &json!("E42"),
            Some("something vendor-ish"),
        );
        let r = call_as(&h, vendor, "errors").await;
        assert_eq!(r.status().as_u16(), status, "{id}");
        assert_built(vendor, &json_of(r).await, &json!(10000), Some("numeric"));

        assert_eq!(control.queued_faults(), 0);
        let example = default_example(vendor).expect("servable");
        assert_example(call_as(&h, vendor, "errors").await, example, id).await;
        assert_eq!(control.requests(), 9);
    }
}

#[tokio::test]
async fn a_built_server_error_is_written_at_the_error_pointers() {
    // Pin one built body byte for byte: DeepSeek documents no 500, and its code pointer is
    // `/error/code`, its message pointer `/error/message`.
    let h = FakeVendors::builder()
        .account(AccountSeed::new("deepseek", [("api_key", "sk-1")]))
        .start()
        .await
        .expect("start");
    h.account("sk-1").fail_next(1, Fault::server_error(500));
    let r = client()
        .get(h.balance_url("deepseek").expect("known"))
        .bearer_auth("sk-1")
        .send()
        .await
        .expect("response");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        text(r).await,
        r#"{"error":{"code":"server_error","message":"Internal Server Error"}}"#
    );
}

#[tokio::test]
async fn body_faults_mangle_the_normal_answer() {
    let h = one_per_vendor("body").await;
    for vendor in servable() {
        let id = vendor.id.as_str();
        let normal = default_example(vendor).expect("servable").body.clone();
        let control = h.account(&key(vendor, "body"));
        control.push_faults([
            Fault::EmptyBody,
            Fault::TruncatedJson,
            Fault::LeadingBlankLines { lines: 3 },
            Fault::WrongContentType,
            Fault::html(502),
            Fault::html(200),
            Fault::HugeBody { bytes: 100_000 },
            Fault::TruncatedTransfer,
        ]);

        let r = call_as(&h, vendor, "body").await;
        assert_eq!(r.status(), StatusCode::OK, "{id}");
        assert_eq!(r.headers()[CONTENT_LENGTH], "0");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(text(r).await, "");

        let r = call_as(&h, vendor, "body").await;
        assert_eq!(r.status(), StatusCode::OK);
        let half = text(r).await;
        assert_eq!(
            half.as_bytes(),
            &normal.as_bytes()[..normal.len() / 2],
            "{id}"
        );

        let r = call_as(&h, vendor, "body").await;
        assert_eq!(text(r).await, format!("\n\n\n{normal}"), "{id}");

        let r = call_as(&h, vendor, "body").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(text(r).await, normal, "{id}");

        let r = call_as(&h, vendor, "body").await;
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(r.headers()[CONTENT_TYPE], "text/html");
        let page = text(r).await;
        assert!(
            page.starts_with("<html>") && page.contains("502 Bad Gateway"),
            "{page}"
        );
        let r = call_as(&h, vendor, "body").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "text/html");

        let r = call_as(&h, vendor, "body").await;
        assert!(
            r.headers().get(CONTENT_LENGTH).is_none(),
            "streamed without a length"
        );
        let body = r.bytes().await.expect("body");
        assert_eq!(body.len(), 100_000 + normal.len(), "{id}");
        assert!(body[..100_000].iter().all(|b| *b == b' '));
        assert_eq!(&body[100_000..], normal.as_bytes());

        let r = call_as(&h, vendor, "body").await;
        assert_eq!(
            r.headers()[CONTENT_LENGTH],
            normal.len().to_string().as_str()
        );
        let err = r
            .bytes()
            .await
            .expect_err("a truncated transfer is a body error");
        assert!(!err.is_timeout(), "{err:?}");

        // Back to normal.
        assert_eq!(
            text(call_as(&h, vendor, "body").await).await,
            normal,
            "{id}"
        );
    }
}

#[tokio::test]
async fn huge_body_is_five_mib_by_default() {
    let vendor = servable().next().expect("a servable vendor");
    let h = one_per_vendor("huge").await;
    h.account(&key(vendor, "huge"))
        .fail_next(1, Fault::huge_body());
    let normal = &default_example(vendor).expect("servable").body;
    let body = call_as(&h, vendor, "huge")
        .await
        .bytes()
        .await
        .expect("body");
    assert_eq!(body.len(), HUGE_BODY_BYTES + normal.len());
    assert_eq!(&body[HUGE_BODY_BYTES..], normal.as_bytes());
}

#[tokio::test]
async fn a_dropped_connection_is_a_client_error_and_the_client_recovers() {
    let h = one_per_vendor("drop").await;
    for vendor in servable() {
        let id = vendor.id.as_str();
        let c = client();
        let info = info_of(&h, &key(vendor, "drop"));
        let normal = &default_example(vendor).expect("servable").body;
        // Warm a keep-alive connection first.
        let r = request(&c, vendor, &info.base_url, Some(&info.credentials))
            .send()
            .await
            .expect("response");
        assert_eq!(&text(r).await, normal, "{id}");

        h.account(info.key()).fail_next(1, Fault::DropConnection);
        let started = Instant::now();
        let err = request(&c, vendor, &info.base_url, Some(&info.credentials))
            .send()
            .await
            .expect_err("the connection is dropped without a response");
        assert!(!err.is_timeout(), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));

        let r = request(&c, vendor, &info.base_url, Some(&info.credentials))
            .send()
            .await
            .expect("response");
        assert_eq!(&text(r).await, normal, "{id}");
        assert_eq!(h.account(info.key()).requests(), 3, "{id}");
    }
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let h = one_per_vendor("slow").await;
    let vendor = servable().next().expect("a servable vendor");
    let control = h.account(&key(vendor, "slow"));
    control.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert!(call_as(&h, vendor, "slow").await.status().is_success());
    assert!(started.elapsed() >= Duration::from_millis(150));
    control.set_latency(Duration::ZERO);
    h.set_latency(Duration::from_millis(100));
    for vendor in servable() {
        let started = Instant::now();
        call_as(&h, vendor, "slow").await;
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "{}",
            vendor.id
        );
    }
    // Seeded latency too.
    let h = FakeVendors::builder()
        .account(seed(vendor, "seeded").latency(Duration::from_millis(120)))
        .start()
        .await
        .expect("start");
    let started = Instant::now();
    call_as(&h, vendor, "seeded").await;
    assert!(started.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn a_steady_fault_holds_until_cleared_after_the_queue() {
    let h = one_per_vendor("steady").await;
    let vendor = servable().next().expect("a servable vendor");
    let control = h.account(&key(vendor, "steady"));
    control.set_fault(Fault::html(502));
    control.fail_next(1, Fault::server_error(504));
    assert_eq!(
        call_as(&h, vendor, "steady").await.status(),
        StatusCode::GATEWAY_TIMEOUT
    );
    assert_eq!(
        call_as(&h, vendor, "steady").await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        call_as(&h, vendor, "steady").await.status(),
        StatusCode::BAD_GATEWAY
    );
    control.clear_faults();
    let example = default_example(vendor).expect("servable");
    assert_example(call_as(&h, vendor, "steady").await, example, &vendor.id).await;
}

// ---------------------------------------------------------------------------------------------
// Counters, runtime changes, errors, presets, lifecycle

#[tokio::test]
async fn counters_count_every_attempt_per_account_and_vendor() {
    let h = one_per_vendor("count").await;
    for vendor in servable() {
        let control = h.account(&key(vendor, "count"));
        call_as(&h, vendor, "count").await;
        let base = info_of(&h, &key(vendor, "count")).base_url;
        call(vendor, &base, Some(&creds(vendor, "unknown"))).await;
        control.fail_next(1, Fault::server_error(500));
        call_as(&h, vendor, "count").await;
        assert_eq!(control.requests(), 2, "{}", vendor.id);
        assert_eq!(h.requests(&vendor.id).expect("known"), 3, "{}", vendor.id);
    }
    for vendor in vendors().iter().filter(|v| default_example(v).is_none()) {
        assert_eq!(h.requests(&vendor.id).expect("known"), 0);
    }
    let some = servable().next().expect("a servable vendor");
    h.account(&key(some, "count")).reset_requests();
    assert_eq!(h.account(&key(some, "count")).requests(), 0);
    assert_eq!(
        h.requests(&some.id).expect("known"),
        3,
        "the vendor's count stays"
    );
    h.reset_counters();
    for vendor in servable() {
        assert_eq!(h.account(&key(vendor, "count")).requests(), 0);
        assert_eq!(h.requests(&vendor.id).expect("known"), 0);
    }
    assert!(matches!(
        h.requests("no-such-vendor"),
        Err(FakeVendorsError::UnknownVendor { .. })
    ));
}

#[tokio::test]
async fn answers_and_accounts_change_at_runtime() {
    let h = one_per_vendor("live").await;
    for vendor in servable() {
        let control = h.account(&key(vendor, "live"));
        for example in &vendor.examples {
            control.set_example(&example.name).expect("known example");
            assert_example(call_as(&h, vendor, "live").await, example, &example.name).await;
        }
        control.set_body(r#"{"raw":true}"#);
        assert_eq!(control.example(), None);
        assert_eq!(control.body(), r#"{"raw":true}"#);
        let r = call_as(&h, vendor, "live").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(text(r).await, r#"{"raw":true}"#);
        assert!(matches!(
            control.set_example("no_such_example"),
            Err(FakeVendorsError::UnknownExample { .. })
        ));
        assert_eq!(
            control.body(),
            r#"{"raw":true}"#,
            "unchanged by a failed switch"
        );
    }

    let vendor = servable().next().expect("a servable vendor");
    assert!(h.find_account(&key(vendor, "late")).is_none());
    let late = h
        .add_account(seed(vendor, "late").name("late").body("{}").note("added"))
        .expect("added");
    assert_eq!((late.name(), late.vendor()), ("late", vendor.id.as_str()));
    assert_eq!(text(call_as(&h, vendor, "late").await).await, "{}");
    let info = h.account_info("late").expect("listed");
    assert_eq!(info.vendor, vendor.id);
    assert_eq!(info.note, "added");
    assert_eq!(info.credentials, creds(vendor, "late"));
    assert!(!format!("{info:?}").contains(info.key()), "Debug redacts");
    assert!(
        !format!("{:?}", seed(vendor, "late")).contains(info.key()),
        "Debug redacts"
    );

    // The same key again replaces the account, in place in the listing.
    let before = h.accounts().len();
    h.add_account(seed(vendor, "late").name("later").body("[]"))
        .expect("replaced");
    assert_eq!(h.accounts().len(), before);
    assert!(h.account_info("late").is_none());
    assert_eq!(text(call_as(&h, vendor, "late").await).await, "[]");
}

#[tokio::test]
async fn mistakes_are_typed_errors_not_panics() {
    let vendor = servable().next().expect("a servable vendor");
    let start = |seed: AccountSeed| async move {
        FakeVendors::builder()
            .account(seed)
            .start()
            .await
            .expect_err("refused")
    };
    let e = start(AccountSeed::new("no-such-vendor", [("api_key", "k")])).await;
    assert!(
        matches!(e, FakeVendorsError::UnknownVendor { ref vendor } if vendor == "no-such-vendor")
    );
    let e = start(seed(vendor, "x").example("no_such_example")).await;
    assert!(matches!(e, FakeVendorsError::UnknownExample { .. }));
    let e = start(seed(vendor, "x").region("nowhere")).await;
    assert!(matches!(e, FakeVendorsError::UnknownRegion { .. }));
    let e = start(AccountSeed::new(
        vendor.id.as_str(),
        Vec::<(String, String)>::new(),
    ))
    .await;
    assert!(matches!(e, FakeVendorsError::MissingCredential { .. }));
    let mut extra = creds(vendor, "x");
    extra.push(("password".into(), "p".into()));
    let e = start(AccountSeed::new(vendor.id.as_str(), extra)).await;
    assert!(
        matches!(e, FakeVendorsError::UnexpectedCredential { ref field, .. } if field == "password")
    );
    assert!(!e.to_string().is_empty());
    // Every credential field is required, the secret too.
    for vendor in vendors() {
        let fields = vendor.description.auth.credential_fields();
        let mut partial = creds(vendor, "x");
        partial.pop();
        if fields.len() > 1 {
            let e = start(AccountSeed::new(vendor.id.as_str(), partial).body("{}")).await;
            assert!(matches!(e, FakeVendorsError::MissingCredential { .. }));
        }
    }

    let h = FakeVendors::builder()
        .start()
        .await
        .expect("an empty server");
    assert!(matches!(
        h.base_url("no-such-vendor"),
        Err(FakeVendorsError::UnknownVendor { .. })
    ));
    assert!(matches!(
        h.balance_url("no-such-vendor"),
        Err(FakeVendorsError::UnknownVendor { .. })
    ));
    assert!(matches!(
        h.add_account(AccountSeed::new("no-such-vendor", [("api_key", "k")])),
        Err(FakeVendorsError::UnknownVendor { .. })
    ));
    assert!(h.accounts().is_empty());
    assert!(h.find_account("k").is_none());
    let io: std::io::Error = FakeVendorsError::UnknownVendor { vendor: "v".into() }.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn demo_serves_one_account_per_vendor_and_writes_its_config() {
    let h = FakeVendors::demo().start().await.expect("start");
    let accounts = h.accounts();
    let ids: Vec<&str> = accounts.iter().map(|a| a.vendor.as_str()).collect();
    let expected: Vec<&str> = servable().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, expected, "one account per vendor, in registry order");
    for info in &accounts {
        let vendor = balances_registry::find(&info.vendor).expect("a registry vendor");
        let fields: Vec<&str> = info.credentials.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vendor.description.auth.credential_fields());
        assert_eq!(info.name, format!("{}-main", vendor.id));
        // The account sits in its example's region when the example names one.
        let base_url = match &info.region {
            Some(region) => h.region_base_url(&vendor.id, region),
            None => h.base_url(&vendor.id),
        };
        assert_eq!(info.base_url, base_url.expect("known"));
        let example = default_example(vendor).expect("servable");
        let r = call(vendor, &info.base_url, Some(&info.credentials)).await;
        assert_example(r, example, &info.name).await;
    }
    // The same credentials every time.
    let again = FakeVendors::demo().start().await.expect("start");
    let creds_of =
        |infos: Vec<AccountInfo>| -> Vec<_> { infos.into_iter().map(|i| i.credentials).collect() };
    assert_eq!(creds_of(again.accounts()), creds_of(accounts.clone()));

    // The config: one table per account, credentials under their field names.
    let config: toml::Table = toml::from_str(&fake_vendors::config_toml(&accounts)).expect("toml");
    let tables = config["accounts"].as_array().expect("[[accounts]]");
    assert_eq!(tables.len(), accounts.len());
    for (table, info) in tables.iter().zip(&accounts) {
        let table = table.as_table().expect("a table");
        assert_eq!(table["name"].as_str(), Some(info.name.as_str()));
        assert_eq!(table["vendor"].as_str(), Some(info.vendor.as_str()));
        assert_eq!(table["base_url"].as_str(), Some(info.base_url.as_str()));
        assert_eq!(
            table.get("region").and_then(|r| r.as_str()),
            info.region.as_deref()
        );
        for (field, value) in &info.credentials {
            assert_eq!(table[field.as_str()].as_str(), Some(value.as_str()));
        }
        // An account parameter of the vendor (xAI's `team_id`) is written under its name.
        let parameters = &balances_registry::find(&info.vendor)
            .expect("a registry vendor")
            .description
            .account_parameters;
        for parameter in parameters {
            assert!(
                table[parameter.as_str()]
                    .as_str()
                    .is_some_and(|value| !value.is_empty()),
                "{table:?}"
            );
        }
        let expected_keys =
            3 + usize::from(info.region.is_some()) + info.credentials.len() + parameters.len();
        assert_eq!(table.len(), expected_keys, "{table:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_accounts_under_concurrency() {
    let h = FakeVendors::bulk(300).start().await.expect("start");
    let accounts = h.accounts();
    assert_eq!(accounts.len(), 300);
    let c = client();
    let results = futures::future::join_all(accounts.iter().map(|a| {
        let c = c.clone();
        async move {
            let vendor = balances_registry::find(&a.vendor).expect("a registry vendor");
            request(&c, vendor, &a.base_url, Some(&a.credentials))
                .send()
                .await
                .map(|r| r.status().as_u16() == default_example(vendor).map_or(0, |e| e.status))
        }
    }))
    .await;
    assert!(results.iter().all(|r| matches!(r, Ok(true))));
    let total: u64 = vendors()
        .iter()
        .map(|v| h.requests(&v.id).expect("known"))
        .sum();
    assert_eq!(total, 300);
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let h = one_per_vendor("bye").await;
    let vendor = servable().next().expect("a servable vendor");
    let info = info_of(&h, &key(vendor, "bye"));
    h.shutdown().await;
    let err = request(&client(), vendor, &info.base_url, Some(&info.credentials))
        .send()
        .await
        .expect_err("nothing listens any more");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

/// Kills the child on drop, so a failing assertion does not leave the server running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_every_vendor_and_serves_the_demo() {
    use std::io::BufRead as _;
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_fake-vendors"))
            .args(["--port", "0", "--seed", "demo", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn fake-vendors"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("join")
    .expect("read the summary line");
    let summary: Value = serde_json::from_str(&line).expect("one JSON line");
    for vendor in vendors() {
        assert!(
            summary["base_urls"][&vendor.id].is_string(),
            "{}",
            vendor.id
        );
        let regions = vendor.description.regions.len().max(1);
        let listed = summary["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .filter(|e| e["vendor"] == vendor.id.as_str())
            .count();
        assert_eq!(listed, regions, "{}", vendor.id);
    }
    let accounts = summary["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), servable().count());
    for account in accounts {
        let vendor = balances_registry::find(account["vendor"].as_str().expect("id"))
            .expect("a registry vendor");
        let creds: Vec<(String, String)> = vendor
            .description
            .auth
            .credential_fields()
            .iter()
            .map(|f| {
                let value = account["credentials"][*f].as_str().expect("credential");
                ((*f).to_owned(), value.to_owned())
            })
            .collect();
        let base = account["base_url"].as_str().expect("url");
        // The vendor's base URL, or for an account in a region, that region's.
        match account["region"].as_str() {
            Some(region) => assert!(
                base.ends_with(&format!("/{}/{region}", vendor.id)),
                "{base}"
            ),
            None => assert_eq!(summary["base_urls"][&vendor.id], base),
        }
        let r = call(vendor, base, Some(&creds)).await;
        assert_example(r, default_example(vendor).expect("servable"), &vendor.id).await;
    }
    drop(child);
}

// ---------------------------------------------------------------------------------------------
// Spend reports in pages

/// Every example of a spend vendor with further pages: the first request (no cursor) gets
/// the example's first page, a request carrying a page's cursor gets that page, an unknown
/// cursor and a period that is missing or misspelt are refused with 400 naming what is
/// wrong, before the account is counted.
#[tokio::test]
async fn reports_in_pages_are_served_by_cursor_and_the_period_is_checked() {
    let mut paged = 0;
    for vendor in vendors() {
        let Some(spend) = &vendor.description.balance.spend else {
            continue;
        };
        for example in vendor.examples.iter().filter(|e| !e.responses.is_empty()) {
            paged += 1;
            let h = FakeVendors::builder()
                .account(seed(vendor, "paged").example(example.name.as_str()))
                .start()
                .await
                .expect("start");
            let c = reqwest::Client::new();
            let base = &h.accounts()[0].base_url;
            let creds = creds(vendor, "paged");
            let first = request(&c, vendor, base, Some(&creds))
                .send()
                .await
                .expect("sent");
            assert_eq!(text(first).await, example.body, "{}", example.name);
            for page in &example.responses {
                let cursor = &page.query[&spend.pages.parameter];
                let r = request(&c, vendor, base, Some(&creds))
                    .query(&[(spend.pages.parameter.as_str(), cursor.as_str())])
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(r.status().as_u16(), page.status, "{}", example.name);
                assert_eq!(text(r).await, page.body, "{}", example.name);
            }
            let r = request(&c, vendor, base, Some(&creds))
                .query(&[(spend.pages.parameter.as_str(), "no-such-cursor")])
                .send()
                .await
                .expect("sent");
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", example.name);
            assert!(text(r).await.contains("cursor"), "{}", example.name);
            let control = h.account(&key(vendor, "paged"));
            let counted = control.requests();

            // Without the period: refused, naming the start parameter, not counted.
            let url = format!("{base}{}", concrete(&vendor.path));
            let mut bare = c.get(url.as_str());
            for fixed in &vendor.request.headers {
                bare = bare.header(fixed.name.as_str(), fixed.value.as_str());
            }
            let r = bare.send().await.expect("sent");
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", vendor.id);
            assert!(text(r).await.contains(&spend.start.name), "{}", vendor.id);
            // A start in the wrong format.
            let mut wrong = c
                .get(url.as_str())
                .query(&[(spend.start.name.as_str(), "yesterday")]);
            for fixed in &vendor.request.headers {
                wrong = wrong.header(fixed.name.as_str(), fixed.value.as_str());
            }
            let r = wrong.send().await.expect("sent");
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", vendor.id);
            assert_eq!(control.requests(), counted, "{}", vendor.id);
        }
    }
    assert!(paged >= 2, "the spend vendors document reports in pages");
}
