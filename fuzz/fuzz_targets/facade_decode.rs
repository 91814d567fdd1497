//! The facade's decoders on arbitrary responses: `balances::decode` / `decode_response`, the
//! same path `BalanceClient::fetch` takes for what it reads from the network.
//!
//! Input: a selector byte, which picks the status (`STATUSES[b / 3 % 17]`) and whether an
//! account with credentials is used (`b / 51` odd), the vendor's id and a newline, then the
//! body (see `input.rs`). Any
//! input must give a balance or a typed error, never a panic, and:
//!
//! - a balance only for a 2xx status, with amounts sorted by currency, one per currency,
//!   each of which prints as text that parses back to the same value and scale (nothing was
//!   rounded), a total in the vendor's own unit only where the vendor has one, and a JSON
//!   form that reads back
//!   equal;
//! - no credential of the account in any error message.
#![no_main]

use balances::{Balance, Decimal, Vendor};
use libfuzzer_sys::fuzz_target;

// The input format is shared with the regression tests that replay kept crash inputs.
#[path = "../../crates/balances/tests/fuzz_regressions/input.rs"]
mod input;

use input::{KEY, SECRET, decode_input};

fuzz_target!(|data: &[u8]| {
    let Some(input::Decoded {
        vendor,
        status,
        with_credentials,
        result,
    }) = decode_input(data)
    else {
        return;
    };

    match result {
        Ok(balance) => check_balance(&balance, vendor, status),
        Err(error) => {
            let text = format!("{error} {error:?}");
            if with_credentials {
                assert!(!text.contains(KEY), "key in error: {text}");
                // Only signing vendors' accounts have a secret (for the others it is text).
                if vendor.credential_fields().contains(&"secret") {
                    assert!(!text.contains(SECRET), "secret in error: {text}");
                }
            }
            let _ = error.kind();
            let _ = error.retry_after();
        }
    }
});

fn check_balance(balance: &Balance, vendor: Vendor, status: u16) {
    assert!((200..300).contains(&status), "a balance from HTTP {status}");
    assert_eq!(balance.vendor(), vendor);
    assert!(
        balance
            .amounts()
            .windows(2)
            .all(|w| w[0].currency < w[1].currency),
        "amounts not sorted or repeated: {balance:?}"
    );
    for amount in balance.amounts() {
        let values = [Some(amount.total), amount.granted, amount.topped_up]
            .into_iter()
            .flatten()
            .chain(amount.native.as_ref().map(|n| n.amount));
        for value in values {
            let text = value.to_string();
            let back = Decimal::from_str_exact(&text)
                .unwrap_or_else(|e| panic!("{text} does not parse back: {e}"));
            assert_eq!(back, value, "{text}");
            assert_eq!(back.scale(), value.scale(), "{text}");
        }
        if let Some(native) = &amount.native {
            // Scaled exactly: the native amount is never smaller in magnitude.
            assert!(native.amount.abs() >= amount.total.abs(), "{balance:?}");
        }
    }
    let json = serde_json::to_string(balance).expect("a balance serializes");
    let back: Balance = serde_json::from_str(&json).expect("and reads back");
    assert_eq!(&back, balance);
}
