//! The auth schemes a description can name, each written once for every vendor that uses
//! it: where the key is, and what an unknown key gets.
//!
//! The `eiotclub-signature` scheme carries its credentials in a signed body; its checks live
//! in [`signature`](crate::signature).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use balances_registry::{Auth, VendorEntry};
use serde_json::Value;

use crate::eiotclub_codes;
use crate::failure::{self, Built};

/// The key a request presents under a header scheme, if any:
///
/// - `bearer`: `Authorization: Bearer <key>` (scheme case-insensitive, one space);
/// - `header`: `<Header>: <key>`;
/// - `authorization`: `Authorization: <key>`, the raw key;
/// - `prefixed`: `Authorization: <prefix> <key>` (`Key`, `Token`; the prefix as written).
///
/// `None` for the signature scheme (its key is in the body) and for a scheme this crate does
/// not know yet.
pub(crate) fn header_key<'a>(auth: &Auth, headers: &'a HeaderMap) -> Option<&'a str> {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    match auth {
        Auth::Bearer => {
            let (scheme, key) = value(header::AUTHORIZATION.as_str())?.split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
        }
        Auth::Header { header } => value(header.as_str()),
        Auth::Authorization => value(header::AUTHORIZATION.as_str()),
        Auth::Prefixed { prefix } => {
            let (scheme, key) = value(header::AUTHORIZATION.as_str())?.split_once(' ')?;
            (scheme == prefix && !key.is_empty()).then_some(key)
        }
        _ => None,
    }
}

/// What a missing, unknown or revoked key gets: the vendor's documented authentication
/// error; without one, a body built from its error pointers, with 401 for the header
/// schemes and, in the signature scheme's envelope, HTTP 200 and
/// [`UNKNOWN_APPKEY`](eiotclub_codes::UNKNOWN_APPKEY).
pub(crate) fn rejected(vendor: &'static VendorEntry) -> Response {
    let (status, code, message) = match vendor.description.auth {
        Auth::EiotclubSignature => (
            StatusCode::OK,
            eiotclub_codes::UNKNOWN_APPKEY,
            "appkey 不存在",
        ),
        _ => (StatusCode::UNAUTHORIZED, "unauthorized", "Invalid API key"),
    };
    failure::documented(
        vendor,
        "authentication",
        None,
        Built {
            status,
            code: &Value::String(code.to_owned()),
            message,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn each_header_scheme_finds_its_key() {
        let bearer = headers(&[("authorization", "bearer sk-1")]);
        assert_eq!(header_key(&Auth::Bearer, &bearer), Some("sk-1"));
        assert_eq!(
            header_key(&Auth::Authorization, &bearer),
            Some("bearer sk-1")
        );
        let raw = headers(&[("authorization", "sk-1")]);
        assert_eq!(header_key(&Auth::Bearer, &raw), None);
        let token = Auth::Prefixed {
            prefix: "Token".into(),
        };
        let prefixed = headers(&[("authorization", "Token sk-1")]);
        assert_eq!(header_key(&token, &prefixed), Some("sk-1"));
        assert_eq!(header_key(&token, &bearer), None);
        assert_eq!(header_key(&token, &raw), None);
        assert_eq!(header_key(&Auth::Bearer, &prefixed), None);
        assert_eq!(header_key(&Auth::Authorization, &raw), Some("sk-1"));
        let custom = headers(&[("x-api-key", "sk-2")]);
        let scheme = Auth::Header {
            header: "X-Api-Key".into(),
        };
        assert_eq!(header_key(&scheme, &custom), Some("sk-2"));
        assert_eq!(header_key(&scheme, &raw), None);
        assert_eq!(
            header_key(&Auth::Bearer, &headers(&[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(header_key(&Auth::EiotclubSignature, &bearer), None);
    }
}
