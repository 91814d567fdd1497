//! The four cloud request signatures (Alibaba Cloud `acs3-hmac-sha256`, Tencent Cloud
//! `tc3-hmac-sha256`, Volcengine `volcengine-hmac-sha256`, Baidu AI Cloud `bce-auth-v1`) as
//! the generated clients' request signer: each scheme is implemented once, in
//! `balances-signing`; this module only turns a vendor description's scheme and an
//! account's credentials into a [`balances_runtime::RequestSigner`], which the client's
//! context applies to the final request as it leaves, with a fresh time and nonce each
//! time (a retry is signed again).

use std::fmt;
use std::sync::Arc;

use balances_runtime::{Outgoing, RequestSigner};
use balances_signing::{Attempt, Credentials, Scheme, SigningRequest};
use reqwest::header::HeaderMap;

use crate::account::Account;
use crate::error::ConfigError;

/// The request signer of `account`, for a vendor whose scheme signs requests; `None` for
/// the others. The key id and secret are the scheme's two credential fields, in order.
pub(crate) fn request_signer(
    account: &Account,
) -> Result<Option<Arc<dyn RequestSigner>>, ConfigError> {
    let auth = &account.vendor().entry().description.auth;
    let Some(scheme) = Scheme::for_auth(auth) else {
        return Ok(None);
    };
    let fields = auth.credential_fields();
    let credential =
        |index: usize| {
            let field = fields.get(index).copied().unwrap_or_default();
            account.credentials().get(field).cloned().ok_or_else(|| {
                ConfigError::MissingCredential {
                    account: account.name().to_owned(),
                    field: field.to_owned(),
                    env_field: format!("{field}_env"),
                }
            })
        };
    let credentials = Credentials::new(credential(0)?, credential(1)?).map_err(|error| {
        ConfigError::InvalidCredential {
            account: account.name().to_owned(),
            field: fields.first().copied().unwrap_or_default().to_owned(),
            variable: None,
            // Names what is wrong, never a value.
            reason: error.to_string(),
        }
    })?;
    Ok(Some(Arc::new(CloudSigner {
        scheme,
        credentials,
    })))
}

/// One account's credentials under one scheme. `Debug` shows the scheme, never a credential.
struct CloudSigner {
    scheme: Scheme,
    credentials: Credentials,
}

impl fmt::Debug for CloudSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSigner")
            .field("scheme", &self.scheme.algorithm())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl RequestSigner for CloudSigner {
    fn sign(&self, request: &Outgoing<'_>) -> Result<HeaderMap, String> {
        let cannot = |error: balances_signing::SigningError| {
            format!(
                "cannot sign the request ({}): {error}",
                self.scheme.algorithm()
            )
        };
        let signing =
            SigningRequest::from_http(request.method, request.url, request.headers, request.body)
                .map_err(cannot)?;
        let attempt = Attempt::fresh().map_err(cannot)?;
        self.scheme
            .sign(&signing, &self.credentials, &attempt)
            .map_err(cannot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vendor;
    use secrecy::SecretString;

    fn account(auth: &str, id: &str, secret: &str) -> Account {
        let vendor = Vendor::like_deepseek_with_auth(auth);
        let fields = vendor.credential_fields();
        Account::from_credentials(
            "a",
            vendor,
            [
                (fields[0], SecretString::from(id)),
                (fields[1], SecretString::from(secret)),
            ],
        )
        .expect("the scheme's fields")
    }

    const SCHEMES: [(&str, &str); 4] = [
        ("scheme = \"acs3-hmac-sha256\"", "ACS3-HMAC-SHA256 "),
        (
            "scheme = \"tc3-hmac-sha256\"\nservice = \"billing\"",
            "TC3-HMAC-SHA256 ",
        ),
        (
            "scheme = \"volcengine-hmac-sha256\"\nregion = \"cn-beijing\"\nservice = \"billing\"",
            "HMAC-SHA256 ",
        ),
        ("scheme = \"bce-auth-v1\"", "bce-auth-v1/"),
    ];

    #[test]
    fn every_cloud_scheme_signs_the_final_request_and_shows_no_credential() {
        let http = reqwest::Client::new();
        for (auth, prefix) in SCHEMES {
            let signer = request_signer(&account(auth, "ak-canary-id", "sk-canary-secret"))
                .expect("valid credentials")
                .expect("a signing scheme");
            let shown = format!("{signer:?}");
            assert!(!shown.contains("canary"), "{auth}: {shown}");
            let mut request = http
                .post("https://billing.example/?Action=A&Version=V")
                .header("content-type", "application/json")
                .header("x-acs-action", "A")
                .header("x-acs-version", "V")
                .body("{}")
                .build()
                .expect("a request");
            let context = balances_runtime::Context::default().with_signer(signer);
            context.prepare(&mut request).expect("signed");
            let authorization = request.headers().get("authorization").expect("signed");
            assert!(authorization.is_sensitive(), "{auth}");
            let text = authorization.to_str().expect("ASCII");
            assert!(text.starts_with(prefix), "{auth}: {text}");
            // The key id travels in the clear (every scheme names it); the secret never.
            assert!(text.contains("ak-canary-id"), "{auth}: {text}");
            let all = format!("{:?} {context:?}", request.headers());
            assert!(!all.contains("sk-canary"), "{auth}: {all}");
        }
    }

    #[test]
    fn each_request_is_signed_when_it_is_sent() {
        let http = reqwest::Client::new();
        let (auth, _) = SCHEMES[0];
        let signer = request_signer(&account(auth, "ak", "sk"))
            .expect("valid")
            .expect("signing");
        let context = balances_runtime::Context::default().with_signer(signer);
        let nonce = || {
            let mut request = http
                .post("https://business.example/")
                .header("x-acs-action", "A")
                .header("x-acs-version", "V")
                .build()
                .expect("a request");
            context.prepare(&mut request).expect("signed");
            request.headers()["x-acs-signature-nonce"].clone()
        };
        assert_ne!(nonce(), nonce(), "a fresh nonce per request");
    }

    #[test]
    fn a_key_id_no_signature_can_carry_is_a_config_error_naming_the_field_only() {
        for (auth, _) in SCHEMES {
            let error = request_signer(&account(auth, "ak/canary", "sk-canary"))
                .expect_err("a '/' cannot be in a credential scope");
            assert!(matches!(error, ConfigError::InvalidCredential { .. }));
            assert!(!error.to_string().contains("canary"), "{error}");
        }
    }

    #[test]
    fn the_other_schemes_have_no_signer() {
        let deepseek = Account::api_key("a", Vendor::find("deepseek").expect("registry"), "k")
            .expect("a key vendor");
        assert!(request_signer(&deepseek).expect("no signer").is_none());
    }
}
