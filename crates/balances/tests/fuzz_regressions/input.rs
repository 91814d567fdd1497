//! How the `facade_decode` fuzz target reads one input, shared with the regression tests
//! (`#[path]`-included by both) so a kept crash input replays exactly as it ran.
//!
//! One selector byte, then the body: vendor `b % n` of the `n` vendors (`Vendor::ALL`), status
//! `STATUSES[b / 3 % 17]`, and `b / 51` odd for an account with credentials
//! (`decode_response`) instead of a bare name (`decode`).

use balances::{Account, Balance, Error, Vendor, decode, decode_response};

pub const STATUSES: [u16; 17] = [
    200, 200, 201, 204, 400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 503, 504, 302,
];
pub const KEY: &str = "fuzz-key-0123";
pub const SECRET: &str = "fuzz-secret-4567";

/// One decoded input: the vendor and status chosen, whether credentials were used, and
/// what the facade said.
pub struct Decoded {
    pub vendor: Vendor,
    pub status: u16,
    pub with_credentials: bool,
    pub result: Result<Balance, Error>,
}

/// Decodes `data`; `None` when it has no selector byte.
pub fn decode_input(data: &[u8]) -> Option<Decoded> {
    let (&selector, body) = data.split_first()?;
    let vendor = Vendor::ALL[usize::from(selector) % Vendor::ALL.len()];
    let status = STATUSES[usize::from(selector / 3) % STATUSES.len()];
    let with_credentials = (selector / 51) % 2 == 1;
    let result = if with_credentials {
        let account = match vendor {
            Vendor::DeepSeek => Account::deepseek("fuzz", KEY),
            Vendor::GeekAi => Account::geekai("fuzz", KEY),
            Vendor::EiotClub => Account::eiotclub("fuzz", KEY, SECRET),
            // A vendor this harness has no credentials for yet: nothing to decode.
            _ => return None,
        };
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
