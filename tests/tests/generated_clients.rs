//! Each generated client against a local wiremock server (127.0.0.1 only): the request it
//! sends, exact decoding of money, tolerance for what vendors add, typed error bodies, and the
//! response body size cap.

use std::error::Error as StdError;
use std::str::FromStr;

use balances_runtime::{Context, ExactDecimal, MAX_RESPONSE_BODY_BYTES};
use progenitor_client::Error;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn bearer(token: &str) -> HeaderMap {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header value");
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    headers
}

fn decimal(text: &str) -> ExactDecimal {
    ExactDecimal::from_str(text).expect("a decimal")
}

/// Every error in `error`'s source chain, outermost first.
/// Asserts that the body cap stopped the read: a `LengthLimitError` in the source chain.
fn assert_length_limit(error: &(dyn StdError + 'static)) {
    let chain: Vec<&(dyn StdError + 'static)> =
        std::iter::successors(Some(error), |&e| e.source()).collect();
    assert!(
        chain.iter().any(|e| e
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()),
        "source chain: {:?}",
        chain.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
}

mod deepseek {
    use deepseek_client::Client;

    use super::*;

    const DOCUMENTED: &str = r#"{
        "is_available": true,
        "balance_infos": [
            {"currency": "CNY", "total_balance": "110.00", "granted_balance": "10.00", "topped_up_balance": "100.00"}
        ]
    }"#;

    const ERROR_BODY: &str = r#"{"error":{"message":"Authentication Fails (no such user)","type":"authentication_error","param":null,"code":"invalid_request_error"}}"#;

    fn client(server: &MockServer) -> Client {
        Client::new(&server.uri(), Context::new(bearer("sk-test")))
    }

    async fn serve(server: &MockServer, status: u16, body: &str) {
        Mock::given(method("GET"))
            .and(path("/user/balance"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("content-type", "application/json")
                    .set_body_string(body),
            )
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn the_documented_example_decodes_to_exact_decimals() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/user/balance"))
            .and(header("accept", "application/json"))
            .and(header("authorization", "Bearer sk-test"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string(DOCUMENTED),
            )
            .expect(1)
            .mount(&server)
            .await;

        let balance = client(&server)
            .get_user_balance()
            .send()
            .await
            .expect("the documented example decodes")
            .into_inner();
        assert!(balance.is_available);
        assert_eq!(balance.balance_infos.len(), 1);
        let row = &balance.balance_infos[0];
        assert_eq!(row.currency.as_deref(), Some("CNY"));
        assert_eq!(row.total_balance, Some(decimal("110.00")));
        assert_eq!(row.granted_balance, Some(decimal("10.00")));
        assert_eq!(row.topped_up_balance, Some(decimal("100.00")));
        // The scale is kept: "110.00", not "110".
        assert_eq!(
            row.total_balance.map(|d| d.to_string()).as_deref(),
            Some("110.00")
        );
        assert_eq!(
            row.granted_balance.map(|d| d.to_string()).as_deref(),
            Some("10.00")
        );
        assert_eq!(
            row.topped_up_balance.map(|d| d.to_string()).as_deref(),
            Some("100.00")
        );

        let requests = server.received_requests().await.expect("recording is on");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].url.path(), "/user/balance");
        assert_eq!(requests[0].url.query(), None);
        assert!(requests[0].body.is_empty());
    }

    #[tokio::test]
    async fn an_unknown_currency_negative_amounts_and_extra_fields_still_decode() {
        let server = MockServer::start().await;
        serve(
            &server,
            200,
            r#"{"is_available": false, "new_top_level_field": {"x": 1},
                "balance_infos": [
                    {"currency": "EUR", "total_balance": "-1.50", "granted_balance": "0.00",
                     "topped_up_balance": "-1.50", "expires_at": "2027-01-01"},
                    {"currency": "USD", "total_balance": "-0.00", "granted_balance": "0.00",
                     "topped_up_balance": "-0.00"}
                ]}"#,
        )
        .await;
        let balance = client(&server)
            .get_user_balance()
            .send()
            .await
            .expect("decodes")
            .into_inner();
        assert!(!balance.is_available);
        assert_eq!(balance.balance_infos[0].currency.as_deref(), Some("EUR"));
        assert_eq!(
            balance.balance_infos[0].total_balance,
            Some(decimal("-1.50"))
        );
        assert_eq!(balance.balance_infos[1].currency.as_deref(), Some("USD"));
        // `-0.00` keeps its sign and scale (rust_decimal's own parsing would drop the sign).
        let zero = balance.balance_infos[1].total_balance.expect("present");
        assert_eq!(zero.to_string(), "-0.00");
        assert!(zero.get().is_sign_negative());
    }

    #[tokio::test]
    async fn a_missing_required_field_or_a_wrong_type_is_an_invalid_payload() {
        for body in [
            r#"{"balance_infos": []}"#,
            r#"{"is_available": "yes", "balance_infos": []}"#,
            r#"{"is_available": true, "balance_infos": [{"currency": "CNY", "total_balance": "a lot"}]}"#,
            r#"{"is_available": true, "balance_infos": {"currency": "CNY"}}"#,
        ] {
            let server = MockServer::start().await;
            serve(&server, 200, body).await;
            match client(&server).get_user_balance().send().await {
                Err(Error::InvalidResponsePayload(bytes, _)) => {
                    assert_eq!(bytes.as_ref(), body.as_bytes(), "the body is kept");
                }
                other => panic!("{body}: expected InvalidResponsePayload, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn documented_error_statuses_carry_the_typed_error_body() {
        for status in [401, 402, 429, 500, 503] {
            let server = MockServer::start().await;
            serve(&server, status, ERROR_BODY).await;
            match client(&server).get_user_balance().send().await {
                Err(Error::ErrorResponse(response)) => {
                    assert_eq!(response.status().as_u16(), status);
                    let body = response.into_inner();
                    assert_eq!(body.error.message, "Authentication Fails (no such user)");
                    assert_eq!(body.error.type_.as_deref(), Some("authentication_error"));
                    assert_eq!(body.error.code.as_deref(), Some("invalid_request_error"));
                    assert_eq!(body.error.param, None);
                }
                other => panic!("{status}: expected ErrorResponse, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_body_over_the_cap_fails_with_a_length_limit_error() {
        assert_eq!(MAX_RESPONSE_BODY_BYTES, 1024 * 1024);
        let server = MockServer::start().await;
        let padding = "x".repeat(2 * 1024 * 1024);
        let body =
            format!(r#"{{"is_available": true, "balance_infos": [], "padding": "{padding}"}}"#);
        serve(&server, 200, &body).await;
        let error = client(&server)
            .get_user_balance()
            .send()
            .await
            .expect_err("a 2 MiB body is refused");
        assert!(
            matches!(error, Error::ResponseBodyError(_)),
            "reading the body failed: {error:?}"
        );
        assert_length_limit(&error);
    }

    #[tokio::test]
    async fn a_body_under_the_cap_is_read() {
        let server = MockServer::start().await;
        let padding = "x".repeat(900 * 1024);
        let body =
            format!(r#"{{"is_available": true, "balance_infos": [], "padding": "{padding}"}}"#);
        serve(&server, 200, &body).await;
        let balance = client(&server)
            .get_user_balance()
            .send()
            .await
            .expect("900 KiB is under the cap")
            .into_inner();
        assert!(balance.balance_infos.is_empty());
    }
}

mod geekai {
    use geekai_client::Client;

    use super::*;

    /// A base URL with a path prefix, like the real `https://geekai.co/api`.
    fn client(server: &MockServer) -> Client {
        Client::new(
            &format!("{}/api", server.uri()),
            Context::new(bearer("system-key")),
        )
    }

    async fn serve(server: &MockServer, status: u16, body: &str) {
        Mock::given(method("GET"))
            .and(path("/api/credit/balance"))
            .and(query_param_is_missing("uuid"))
            .and(header("authorization", "Bearer system-key"))
            .and(header("accept", "application/json"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("content-type", "application/json")
                    .set_body_string(body),
            )
            .expect(1)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn a_large_coin_balance_decodes_exactly() {
        let server = MockServer::start().await;
        serve(&server, 200, r#"{"balance": 12345678901234567.89}"#).await;
        let balance = client(&server)
            .get_credit_balance()
            .send()
            .await
            .expect("decodes")
            .into_inner();
        let coins = balance.balance.expect("balance present");
        assert_eq!(
            coins.to_string(),
            "12345678901234567.89",
            "no detour through f64"
        );
        assert_eq!(coins, decimal("12345678901234567.89"));
        assert_eq!(balance.data, None);

        // No uuid anywhere: the path is exactly the documented one under the base URL's prefix.
        let requests = server.received_requests().await.expect("recording is on");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].url.path(), "/api/credit/balance");
        assert_eq!(requests[0].url.query(), None);
    }

    #[tokio::test]
    async fn the_wrapped_shape_decodes_into_data() {
        let server = MockServer::start().await;
        serve(&server, 200, r#"{"data": {"balance": 123}}"#).await;
        let balance = client(&server)
            .get_credit_balance()
            .send()
            .await
            .expect("decodes")
            .into_inner();
        assert_eq!(balance.balance, None);
        let data = balance.data.expect("data present");
        assert_eq!(data.balance, Some(decimal("123")));
    }

    #[tokio::test]
    async fn errors_carry_the_typed_code_and_message() {
        for (status, code, message) in [
            (401, "unauthorized", "Invalid API key or token"),
            (500, "invalid_request", "请求参数不合法"),
        ] {
            let server = MockServer::start().await;
            serve(
                &server,
                status,
                &json!({"code": code, "message": message}).to_string(),
            )
            .await;
            match client(&server).get_credit_balance().send().await {
                Err(Error::ErrorResponse(response)) => {
                    assert_eq!(response.status().as_u16(), status);
                    let body = response.into_inner();
                    assert_eq!(body.code, code);
                    assert_eq!(body.message, message);
                }
                other => panic!("{status}: expected ErrorResponse, got {other:?}"),
            }
        }
    }
    #[tokio::test]
    async fn a_body_over_the_cap_fails_with_a_length_limit_error() {
        assert_eq!(MAX_RESPONSE_BODY_BYTES, 1024 * 1024);
        let server = MockServer::start().await;
        let padding = " ".repeat(2 * 1024 * 1024);
        serve(&server, 200, &format!(r#"{{"balance": 1{padding}}}"#)).await;
        let error = client(&server)
            .get_credit_balance()
            .send()
            .await
            .expect_err("a 2 MiB body is refused");
        assert_length_limit(&error);
    }
}

mod eiotclub {
    use eiotclub_client::Client;
    use eiotclub_client::types::GetAgentBalanceBody;

    use super::*;

    const DOCUMENTED: &str =
        r#"{"code":"200","message":"操作成功","data":{"balance":"0.00","currency":"USD"}}"#;

    fn client(server: &MockServer) -> Client {
        // No header auth: the signature travels in the body.
        Client::new(&server.uri(), Context::default())
    }

    fn body(operator: Option<i64>) -> GetAgentBalanceBody {
        GetAgentBalanceBody {
            appkey: "000001".to_owned(),
            timestamp: 1_556_595_508,
            nonce: 24_523,
            sign: "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7".to_owned(),
            operator,
        }
    }

    async fn serve_any(server: &MockServer, response: &str) {
        Mock::given(method("POST"))
            .and(path("/api/v3/agent/balance"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string(response),
            )
            .mount(server)
            .await;
    }

    async fn send(server: &MockServer) -> eiotclub_client::types::GetAgentBalanceResponse {
        client(server)
            .get_agent_balance()
            .body(body(None))
            .send()
            .await
            .expect("decodes")
            .into_inner()
    }

    #[tokio::test]
    async fn the_signed_body_is_posted_as_json() {
        for (operator, expected) in [
            (
                None,
                json!({"appkey": "000001", "timestamp": 1556595508, "nonce": 24523,
                       "sign": "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7"}),
            ),
            (
                Some(5),
                json!({"appkey": "000001", "timestamp": 1556595508, "nonce": 24523,
                       "sign": "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7", "operator": 5}),
            ),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path("/api/v3/agent/balance"))
                .and(header("content-type", "application/json"))
                .and(header("accept", "application/json"))
                .and(body_json(&expected))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header("content-type", "application/json")
                        .set_body_string(DOCUMENTED),
                )
                .expect(1)
                .mount(&server)
                .await;
            client(&server)
                .get_agent_balance()
                .body(body(operator))
                .send()
                .await
                .unwrap_or_else(|e| panic!("operator {operator:?}: {e:?}"));

            let requests = server.received_requests().await.expect("recording is on");
            let sent: Value = serde_json::from_slice(&requests[0].body).expect("a JSON body");
            assert_eq!(sent, expected);
            assert!(
                requests[0].headers.get("authorization").is_none(),
                "no header auth"
            );
        }
    }

    #[tokio::test]
    async fn the_documented_envelope_decodes_exactly() {
        let server = MockServer::start().await;
        serve_any(&server, DOCUMENTED).await;
        let envelope = send(&server).await;
        assert_eq!(envelope.code, json!("200"));
        assert_eq!(envelope.message, "操作成功");
        let data = envelope.data.expect("data present");
        assert_eq!(data.balance, decimal("0.00"));
        assert_eq!(data.balance.to_string(), "0.00");
        assert_eq!(data.currency, "USD");
    }

    #[tokio::test]
    async fn a_numeric_code_and_an_envelope_without_data_decode() {
        let server = MockServer::start().await;
        serve_any(&server, r#"{"code": 10000, "message": "签名错误"}"#).await;
        let envelope = send(&server).await;
        assert_eq!(envelope.code, json!(10000));
        assert!(envelope.code.is_number());
        assert_eq!(envelope.message, "签名错误");
        assert_eq!(envelope.data, None);

        let server = MockServer::start().await;
        serve_any(&server, r#"{"code": "200", "message": "ok", "data": {"balance": "1234.56", "currency": "CNY"}}"#).await;
        let envelope = send(&server).await;
        assert_eq!(envelope.code.as_str(), Some("200"));
        assert_eq!(envelope.data.expect("data").balance.to_string(), "1234.56");
    }

    #[tokio::test]
    async fn a_body_over_the_cap_fails_with_a_length_limit_error() {
        assert_eq!(MAX_RESPONSE_BODY_BYTES, 1024 * 1024);
        let server = MockServer::start().await;
        let padding = "x".repeat(2 * 1024 * 1024);
        serve_any(
            &server,
            &format!(r#"{{"code": "200", "message": "{padding}"}}"#),
        )
        .await;
        let error = client(&server)
            .get_agent_balance()
            .body(body(None))
            .send()
            .await
            .expect_err("a 2 MiB body is refused");
        assert_length_limit(&error);
    }
}
