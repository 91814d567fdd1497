//! Inputs of the `facade_decode` fuzz target (fuzz/fuzz_targets/facade_decode.rs), replayed
//! through the same public entry points: every crash the fuzzer found, byte for byte, and
//! the committed seeds.
//!
//! An input is one selector byte and the body: vendor `b % 3` (DeepSeek, GeekAI, EIOTClub),
//! status `STATUSES[b / 3 % 17]`, and `b / 51` odd for an account with credentials
//! (`decode_response`) instead of a bare name (`decode`).

use std::path::Path;

use balances::{Account, Balance, Error, ErrorKind, Vendor, decode, decode_response};

const STATUSES: [u16; 17] = [
    200, 200, 201, 204, 400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 503, 504, 302,
];
const KEY: &str = "fuzz-key-0123";
const SECRET: &str = "fuzz-secret-4567";

/// What the fuzz target does with one input (its invariants are asserted by the callers).
fn run(input: &[u8]) -> (Vendor, u16, bool, Result<Balance, Error>) {
    let (&selector, body) = input.split_first().expect("a selector byte");
    let vendor = Vendor::ALL[usize::from(selector % 3)];
    let status = STATUSES[usize::from(selector / 3) % STATUSES.len()];
    let with_credentials = (selector / 51) % 2 == 1;
    let result = if with_credentials {
        let account = match vendor {
            Vendor::DeepSeek => Account::deepseek("fuzz", KEY),
            Vendor::GeekAi => Account::geekai("fuzz", KEY),
            Vendor::EiotClub => Account::eiotclub("fuzz", KEY, SECRET),
        };
        decode_response(&account, status, Some("1"), body)
    } else {
        decode(vendor, "fuzz", status, body)
    };
    (vendor, status, with_credentials, result)
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
    let (vendor, status, with_credentials, result) = run(&input);
    assert_eq!(
        (vendor, status, with_credentials),
        (Vendor::GeekAi, 200, true)
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
                assert!(!balance.amounts.is_empty(), "{name}");
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
