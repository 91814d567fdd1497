//! The request-signing vendors (the cloud signature schemes) never show a credential, even
//! when the vendor echoes the key id back. In a test binary of its own: its HTTP calls would
//! race `redaction.rs`'s thread-local TRACE subscriber for the callsites' interest.

use balances::{Account, BalanceClient};

const KEY_ID_CANARY: &str = "AKID-CANARY-e4d1";
const SECRET_CANARY: &str = "SECRET-CANARY-88c2";

fn assert_clean(what: &str, text: &str) {
    for canary in [KEY_ID_CANARY, SECRET_CANARY] {
        assert!(!text.contains(canary), "{what} leaks {canary}:\n{text}");
    }
    // A partial leak is a leak too.
    assert!(
        !text.contains("CANARY"),
        "{what} leaks part of a canary:\n{text}"
    );
}

/// Every request-signing vendor (the cloud schemes), asked with a key id the vendor does not
/// know: the fake vendor's verifier refuses it with the vendor's documented error, and
/// Volcengine's `InvalidAccessKey` message echoes the key id back (`The accesskey [%s] ...`).
/// The error holds neither credential; the echoed id is `[REDACTED]`. `Debug` of what
/// `authorize` gives (its context carries the request signer) holds neither either.
#[tokio::test]
async fn signing_vendors_never_show_a_credential_even_when_the_vendor_echoes_the_key_id() {
    let server = fake_vendors::FakeVendors::builder()
        .start()
        .await
        .expect("fake vendors");
    let client = BalanceClient::builder()
        .retry(balances::RetryConfig::disabled())
        .build()
        .expect("client");
    let (mut signing, mut echoed) = (0, 0);
    for vendor in balances::Vendor::all() {
        let entry = balances::balances_registry::find(vendor.as_str()).expect("registry");
        if !entry.description.auth.signs_requests() {
            continue;
        }
        signing += 1;
        let fields = vendor.credential_fields();
        let account = Account::from_credentials(
            "cloud",
            vendor,
            [
                (fields[0], KEY_ID_CANARY.into()),
                (fields[1], SECRET_CANARY.into()),
            ],
        )
        .expect("the scheme's fields")
        .with_base_url(&server.base_url(vendor.as_str()).expect("a route"))
        .expect("url");
        let authorized = client.authorize(&account).expect("authorized");
        assert_clean(
            "Authorized and its context",
            &format!("{authorized:?} {:?}", authorized.context()),
        );
        let error = client.fetch(&account).await.expect_err("an unknown key");
        let shown = format!("{error} {error:?}");
        assert_clean(vendor.as_str(), &shown);
        assert_eq!(
            error.kind(),
            balances::ErrorKind::Authentication,
            "{vendor}: {error}"
        );
        echoed += usize::from(shown.contains("[REDACTED]"));
    }
    assert!(signing > 0, "the registry has request-signing vendors");
    assert!(
        echoed > 0,
        "no vendor echoed the key id: the scrubbing was not exercised"
    );
}
