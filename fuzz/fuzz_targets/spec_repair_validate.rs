//! The codegen pipeline's load → convert → repair → validate stages on arbitrary documents:
//! YAML or JSON text, and (through the seed corpus) mutations of the vendored specs. Any
//! input must give a document or a typed error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtask::codegen::{convert, load, repair, validate};

fuzz_target!(|data: &[u8]| {
    let is_json = data.first() == Some(&b'{');
    let Ok(mut document) = load::parse_document(data, is_json) else {
        return;
    };
    if convert::convert(&mut document).is_err() || repair::repair(&mut document).is_err() {
        return;
    }
    if let Ok(text) = serde_json::to_string_pretty(&document) {
        let _ = validate::validate(&text);
    }
});
