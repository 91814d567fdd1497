//! EIOTClub request signing, as the vendor's PHP SDK (`src/Signer.php`) implements it.
//!
//! 1. Take every request parameter except `sign`, skipping null, empty-string and empty
//!    array values (an empty JSON object counts as an empty array: PHP does not tell them
//!    apart). Booleans become `1`/`0`, other scalars their string form, nested values
//!    compact JSON.
//! 2. Sort by parameter name in byte order.
//! 3. Join as `key=value&` for each, then append `secret=<secret>`.
//! 4. SHA-1 of that string, hex, upper-case.
//!
//! The vendor's published test vector:
//!
//! ```
//! use balances::eiotclub::sign;
//! use secrecy::SecretString;
//! use serde_json::json;
//!
//! let params = json!({
//!     "appkey": "000001", "timestamp": 1556595508, "nonce": 24523,
//!     "userName": "wx", "age": 24, "sex": 1,
//! });
//! let secret = SecretString::from("a1b1c1d1");
//! assert_eq!(
//!     sign(params.as_object().unwrap(), &secret),
//!     "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7",
//! );
//! ```
//!
//! Every request needs a fresh `timestamp` and `nonce`, so every attempt, retries included,
//! is signed again: [`Signer::signed_body`] does all of it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// The range nonces are drawn from, as the vendor documents: a random five-digit integer.
pub const NONCE_RANGE: std::ops::RangeInclusive<u32> = 10_000..=99_999;

/// The string that is hashed: the sorted parameters, then `secret=<secret>`. It contains the
/// secret, so it is returned as a [`SecretString`].
pub fn string_to_sign(params: &Map<String, Value>, secret: &SecretString) -> SecretString {
    let mut pairs: Vec<(&str, String)> = params
        .iter()
        .filter(|(name, _)| name.as_str() != "sign")
        .filter_map(|(name, value)| Some((name.as_str(), param_value(value)?)))
        .collect();
    // Byte order, as PHP's `ksort` with string keys; `str`'s `Ord` compares bytes.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (name, value) in pairs {
        out.push_str(name);
        out.push('=');
        out.push_str(&value);
        out.push('&');
    }
    out.push_str("secret=");
    out.push_str(secret.expose_secret());
    SecretString::from(out)
}

/// The `sign` value for `params`: upper-case hex SHA-1 of [`string_to_sign`]. A `sign`
/// entry in `params` is ignored.
pub fn sign(params: &Map<String, Value>, secret: &SecretString) -> String {
    let text = string_to_sign(params, secret);
    hex::encode_upper(Sha1::digest(text.expose_secret().as_bytes()))
}

/// How one parameter value is written into the string to sign; `None` skips it.
fn param_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        // With `arbitrary_precision` a number keeps the text it was built from.
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        // Compact JSON, as PHP's `json_encode` without flags.
        nested @ (Value::Array(_) | Value::Object(_)) => Some(nested.to_string()),
    }
}

/// Signs EIOTClub request bodies for one account. `Debug` shows neither the appkey nor the
/// secret.
#[derive(Clone)]
pub struct Signer {
    appkey: SecretString,
    secret: SecretString,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { appkey: [REDACTED], secret: [REDACTED] }")
    }
}

impl Signer {
    /// The signer of an account whose credentials are an `appkey` and a `secret` (the
    /// `eiotclub-signature` scheme's fields); `None` for any other account.
    pub(crate) fn for_account(account: &crate::Account) -> Option<Signer> {
        let credentials = account.credentials();
        let appkey = credentials.get("appkey")?;
        let secret = credentials.get("secret")?;
        Some(Signer::new(appkey.clone(), secret.clone()))
    }

    /// A signer for an appkey and its secret.
    pub fn new(appkey: SecretString, secret: SecretString) -> Self {
        Self { appkey, secret }
    }

    /// Signs arbitrary parameters with this signer's secret (the escape hatch for other
    /// EIOTClub endpoints). Add `appkey`, `timestamp` and `nonce` yourself, or start from
    /// [`Signer::base_params`].
    pub fn sign(&self, params: &Map<String, Value>) -> String {
        sign(params, &self.secret)
    }

    /// `appkey`, a fresh `timestamp` (Unix seconds) and a random `nonce`, ready to extend
    /// and sign.
    pub fn base_params(&self) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert(
            "appkey".into(),
            Value::String(self.appkey.expose_secret().to_owned()),
        );
        let timestamp = unix_now();
        params.insert("timestamp".into(), Value::from(timestamp));
        params.insert("nonce".into(), Value::from(self.fresh_nonce(timestamp)));
        params
    }

    /// A signed request body, `appkey`, `timestamp`, `nonce` and `sign`, with a fresh
    /// timestamp and nonce: what a balance request sends, and the start of any other.
    pub fn signed_body(&self) -> Map<String, Value> {
        let timestamp = unix_now();
        self.signed_body_at(timestamp, self.fresh_nonce(timestamp))
    }

    /// A random nonce that this process has not used with this appkey in this second, so no
    /// two requests, retries or concurrent calls alike, repeat a (timestamp, nonce) pair that
    /// the vendor would reject as a replay.
    fn fresh_nonce(&self, timestamp: i64) -> u32 {
        USED_NONCES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fresh(self.appkey.expose_secret(), timestamp)
    }

    /// A signed request body for a given timestamp and nonce (deterministic, for tests and
    /// replays). Every field that is sent is signed.
    pub fn signed_body_at(&self, timestamp: i64, nonce: u32) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert(
            "appkey".into(),
            Value::String(self.appkey.expose_secret().to_owned()),
        );
        body.insert("nonce".into(), Value::from(nonce));
        body.insert("timestamp".into(), Value::from(timestamp));
        let sign = sign(&body, &self.secret);
        body.insert("sign".into(), Value::String(sign));
        body
    }
}

/// The current Unix time in seconds (10 digits until 2286).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The nonces this process used, per appkey (hashed: the ledger holds no credential) and
/// second. Seconds before the previous one are forgotten: the vendor's timestamp check makes
/// a replay of them pointless, and a new timestamp makes every nonce fresh again.
#[derive(Default)]
struct NonceLedger {
    newest: i64,
    used: HashMap<(u64, i64), HashSet<u32>>,
}

static USED_NONCES: LazyLock<Mutex<NonceLedger>> = LazyLock::new(Mutex::default);

/// Draws this many times at most; a second with that many collisions is saturated (tens of
/// thousands of requests for one appkey), and a repeat is then better than spinning.
const NONCE_DRAWS: usize = 64;

impl NonceLedger {
    fn fresh(&mut self, appkey: &str, timestamp: i64) -> u32 {
        if timestamp > self.newest {
            self.newest = timestamp;
            self.used.retain(|(_, second), _| *second >= timestamp - 1);
        }
        let mut hasher = DefaultHasher::new();
        appkey.hash(&mut hasher);
        let used = self.used.entry((hasher.finish(), timestamp)).or_default();
        let mut nonce = rand::random_range(NONCE_RANGE);
        for _ in 1..NONCE_DRAWS {
            if used.insert(nonce) {
                break;
            }
            nonce = rand::random_range(NONCE_RANGE);
        }
        nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vector() -> Map<String, Value> {
        match json!({
            "appkey": "000001", "timestamp": 1556595508, "nonce": 24523,
            "userName": "wx", "age": 24, "sex": 1,
        }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn published_vector_string() {
        let secret = SecretString::from("a1b1c1d1");
        assert_eq!(
            string_to_sign(&vector(), &secret).expose_secret(),
            "age=24&appkey=000001&nonce=24523&sex=1&timestamp=1556595508&userName=wx&secret=a1b1c1d1"
        );
    }

    #[test]
    fn published_vector_sign() {
        let secret = SecretString::from("a1b1c1d1");
        assert_eq!(
            sign(&vector(), &secret),
            "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7"
        );
    }

    #[test]
    fn sign_parameter_is_ignored() {
        let secret = SecretString::from("a1b1c1d1");
        let mut params = vector();
        params.insert("sign".into(), json!("whatever"));
        assert_eq!(sign(&params, &secret), sign(&vector(), &secret));
    }

    #[test]
    fn value_rules() {
        let secret = SecretString::from("s");
        // Parsed from text so the number keeps its written form (`1.50`).
        let params: Map<String, Value> = serde_json::from_str(
            r#"{"n": null, "e": "", "a": [], "o": {}, "t": true, "f": false,
                "nested": {"b": [1, 2], "a": "x"}, "list": [1, "two"], "Z": "upper",
                "num": 1.50}"#,
        )
        .expect("valid JSON");
        // `Z` sorts before lower case (byte order); null/empty values are skipped; nested
        // values are compact JSON; numbers keep their text.
        assert_eq!(
            string_to_sign(&params, &secret).expose_secret(),
            r#"Z=upper&f=0&list=[1,"two"]&nested={"a":"x","b":[1,2]}&num=1.50&t=1&secret=s"#
        );
    }

    #[test]
    fn signed_body_signs_what_it_sends() {
        let signer = Signer::new("000001".into(), "a1b1c1d1".into());
        let body = signer.signed_body_at(1556595508, 24523);
        assert_eq!(body["appkey"], "000001");
        assert_eq!(body["timestamp"].to_string(), "1556595508");
        assert_eq!(body["nonce"].to_string(), "24523");
        assert_eq!(body.len(), 4, "{body:?}");
        // appkey=000001&nonce=24523&timestamp=1556595508&secret=a1b1c1d1
        let expected = hex::encode_upper(Sha1::digest(
            b"appkey=000001&nonce=24523&timestamp=1556595508&secret=a1b1c1d1",
        ));
        assert_eq!(body["sign"], expected.as_str());
    }

    #[test]
    fn nonces_never_repeat_for_one_appkey_in_one_second_and_old_seconds_are_forgotten() {
        let mut ledger = NonceLedger::default();
        let mut seen = HashSet::new();
        for _ in 0..5_000 {
            let nonce = ledger.fresh("app", 100);
            assert!(NONCE_RANGE.contains(&nonce));
            assert!(
                seen.insert(nonce),
                "nonce {nonce} repeated within one second"
            );
        }
        ledger.fresh("other", 100);
        assert_eq!(ledger.used.len(), 2, "one entry per appkey and second");
        ledger.fresh("app", 102);
        assert!(
            ledger.used.keys().all(|(_, second)| *second >= 101),
            "older seconds dropped"
        );
    }

    #[test]
    fn signer_debug_is_redacted() {
        let signer = Signer::new("appkey-canary".into(), "secret-canary".into());
        let debug = format!("{signer:?}");
        assert!(!debug.contains("canary"), "{debug}");
    }
}
