//! Inputs of the `facade_decode` fuzz target (fuzz/fuzz_targets/facade_decode.rs), replayed
//! through the same public entry points: every crash the fuzzer found, byte for byte, and
//! the committed seeds.
//! Inputs are read as the target reads them, by the shared `fuzz_regressions/input.rs`.

use std::path::Path;

use balances::{Balance, Error, ErrorKind, Vendor};

#[path = "fuzz_regressions/input.rs"]
mod input;

#[path = "support/accounts.rs"]
mod accounts;

use accounts::vendor;

use input::{KEY, SECRET, decode_input};

/// What the fuzz target does with one input (its invariants are asserted by the callers).
fn run(data: &[u8]) -> (Vendor, u16, bool, Result<Balance, Error>) {
    let decoded = decode_input(data).expect("a selector byte");
    (
        decoded.vendor,
        decoded.status,
        decoded.with_credentials,
        decoded.result,
    )
}

/// A crash input, kept byte for byte in tests/fuzz_regressions/.
fn crash(name: &str) -> Vec<u8> {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz_regressions")
            .join(name),
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// crash-92c11436…: a GeekAI body (with credentials) that quotes the EIOTClub secret of
/// the fuzz target. The facade was right (a GeekAI account has no secret, so there is
/// nothing to redact); the target's invariant was wrong and now checks the secret only for
/// EIOTClub accounts. Kept: a typed `Undecodable` with the body's start, and the account's
/// real credential (its key) absent.
#[test]
fn crash_92c11436_geekai_body_quoting_another_vendors_secret() {
    let input = crash("crash-92c11436f986ba8ec0321110070d773a5dd4ed3d");
    let (chosen, status, with_credentials, result) = run(&input);
    assert_eq!(
        (chosen, status, with_credentials),
        (vendor("geekai"), 200, true)
    );
    let error = result.expect_err("not JSON");
    assert_eq!(error.kind(), ErrorKind::Undecodable, "{error}");
    let Error::Undecodable { excerpt, .. } = &error else {
        unreachable!()
    };
    assert!(
        excerpt.contains(SECRET),
        "the body's text is kept: {excerpt}"
    );
    assert!(!format!("{error} {error:?}").contains(KEY));
}

/// The committed seeds decode as their names say: `<vendor>_<status>_<what>`, the
/// documented examples to balances, the error bodies to the error their status means.
#[test]
fn seeds_decode_as_named() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/facade_decode");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
        let mut parts = name.splitn(3, '_');
        let (vendor, status) = (parts.next().expect("vendor"), parts.next().expect("status"));
        let (actual_vendor, actual_status, _, result) = run(&read(&path));
        assert_eq!(actual_vendor.as_str(), vendor, "{name}: selector byte");
        assert_eq!(actual_status.to_string(), status, "{name}: selector byte");
        let expected = match (name, actual_status) {
            (_, 200) if name.contains("truncated") => Some(ErrorKind::Transient),
            (_, 200) if name.contains("error") || name.contains("no_data") => None,
            (_, 200) => {
                let balance = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!balance.amounts().is_empty(), "{name}");
                seen += 1;
                continue;
            }
            (_, 401) => Some(ErrorKind::Authentication),
            (_, 402) => Some(ErrorKind::InsufficientBalance),
            (_, 429) => Some(ErrorKind::RateLimited),
            (_, 500..=599) => Some(ErrorKind::Transient),
            (_, 404) => Some(ErrorKind::Undecodable),
            _ => Some(ErrorKind::Vendor),
        };
        let error = result.expect_err(name);
        if let Some(kind) = expected {
            assert_eq!(error.kind(), kind, "{name}: {error}");
        } else {
            assert!(
                matches!(error.kind(), ErrorKind::Vendor | ErrorKind::Undecodable),
                "{name}: {error}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} seeds");
}

/// Every example of every vendor folder, as a fuzz input, decodes as the example says: the
/// input format reaches every vendor, whatever number of folders there is.
#[test]
fn every_vendor_example_replays_as_a_fuzz_input() {
    let mut replayed = 0;
    for vendor in Vendor::all() {
        let entry = balances::balances_registry::find(vendor.as_str()).expect("registered");
        for example in &entry.examples {
            // Statuses the selector can pick; regions other than the default are left to
            // the conformance suite.
            let Some(index) = input::STATUSES.iter().position(|s| *s == example.status) else {
                continue;
            };
            // So are balances of several responses and a currency the account chooses: a
            // fuzz input is one body for an account with no settings.
            if example.region.is_some()
                || !example.responses.is_empty()
                || example.currency.is_some()
            {
                continue;
            }
            let selector = u8::try_from(index * 3).expect("a small index");
            let data = input::encode_input(selector, vendor, example.body.as_bytes());
            let (chosen, status, _, result) = run(&data);
            assert_eq!(
                (chosen, status),
                (vendor, example.status),
                "{}",
                example.name
            );
            // A spend report's first page decodes alone only when no page follows it.
            let gave_balance = match example.expected {
                balances::balances_registry::Expected::Balance(_) => true,
                balances::balances_registry::Expected::Spend(_) => example.responses.is_empty(),
                _ => false,
            };
            assert_eq!(
                result.is_ok(),
                gave_balance,
                "{vendor}/{}: {result:?}",
                example.name
            );
            replayed += 1;
        }
    }
    assert!(
        replayed >= Vendor::all().len(),
        "only {replayed} examples replayed"
    );
}
