//! The primitives the four schemes share: RFC 3986 percent-encoding, SHA-256 and
//! HMAC-SHA256, lowercase hex.

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`) is encoded, in
/// UTF-8, as `%XX` with uppercase hex: the rule all four vendors write down.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// As [`NOT_UNRESERVED`], keeping `/` (paths).
const NOT_UNRESERVED_OR_SLASH: &AsciiSet = &NOT_UNRESERVED.remove(b'/');

/// `text` percent-encoded per RFC 3986: space is `%20`, `*` is `%2A`, `~` stays.
pub(crate) fn uri_encode(text: &str) -> String {
    utf8_percent_encode(text, NOT_UNRESERVED).to_string()
}

/// A path percent-encoded per RFC 3986 with its `/` kept; an empty path is `/`.
pub(crate) fn uri_encode_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    utf8_percent_encode(path, NOT_UNRESERVED_OR_SLASH).to_string()
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// HMAC-SHA256 of `message` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_rfc_3986_with_uppercase_hex() {
        assert_eq!(uri_encode("a b*c~d/e+f"), "a%20b%2Ac~d%2Fe%2Bf");
        assert_eq!(uri_encode("测试"), "%E6%B5%8B%E8%AF%95");
        assert_eq!(uri_encode_path("/a b/c"), "/a%20b/c");
        assert_eq!(uri_encode_path(""), "/");
    }

    #[test]
    fn hashes_and_macs_match_known_values() {
        // FIPS 180-2 and RFC 4231 test case 2.
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
