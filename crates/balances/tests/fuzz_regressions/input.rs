//! How the `facade_decode` fuzz target reads one input, shared with the regression tests
//! (`#[path]`-included by both) so a kept crash input replays exactly as it ran.
//!
//! One selector byte, the vendor's id and a newline, then the body. The selector picks the
//! status, `STATUSES[b / 3 % 17]`, and `b / 51` odd means an account with credentials
//! (`decode_response`) instead of a bare name (`decode`). Naming the vendor by id keeps
//! every kept input meaning the same vendor however many vendor folders there are; an id
//! the registry does not have is no input.

use balances::{Account, Balance, Error, SecretString, Vendor, decode, decode_response};

pub const STATUSES: [u16; 17] = [
    200, 200, 201, 204, 400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 503, 504, 302,
];
/// Every credential field but `secret` holds this.
pub const KEY: &str = "fuzz-key-0123";
/// A `secret` field holds this.
pub const SECRET: &str = "fuzz-secret-4567";

/// One decoded input: the vendor and status chosen, whether credentials were used, and
/// what the facade said.
pub struct Decoded {
    pub vendor: Vendor,
    pub status: u16,
    pub with_credentials: bool,
    pub result: Result<Balance, Error>,
}

/// An input for `vendor`: the selector byte, the id line, the body. (The regression tests
/// use it; the fuzz target only reads inputs.)
#[allow(dead_code)]
pub fn encode_input(selector: u8, vendor: Vendor, body: &[u8]) -> Vec<u8> {
    let mut data = vec![selector];
    data.extend_from_slice(vendor.as_str().as_bytes());
    data.push(b'\n');
    data.extend_from_slice(body);
    data
}

/// Decodes `data`; `None` when it has no selector byte or names no vendor.
pub fn decode_input(data: &[u8]) -> Option<Decoded> {
    let (&selector, rest) = data.split_first()?;
    let newline = rest.iter().position(|&b| b == b'\n')?;
    let vendor = Vendor::find(std::str::from_utf8(&rest[..newline]).ok()?)?;
    let body = &rest[newline + 1..];
    let status = STATUSES[usize::from(selector / 3) % STATUSES.len()];
    let with_credentials = (selector / 51) % 2 == 1;
    let result = if with_credentials {
        let credentials = vendor.credential_fields().iter().map(|field| {
            let value = if *field == "secret" { SECRET } else { KEY };
            (*field, SecretString::from(value))
        });
        let account = Account::from_credentials("fuzz", vendor, credentials).ok()?;
        decode_response(&account, status, Some("1"), body)
    } else {
        decode(vendor, "fuzz", status, body)
    };
    Some(Decoded {
        vendor,
        status,
        with_credentials,
        result,
    })
}
