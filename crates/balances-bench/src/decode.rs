//! Typed decoding against the way the facade read bodies before it called the generated
//! clients: every vendor's default balance example decoded into its generated response type
//! and projected (`<vendor>::balance::decode`), against the same bodies parsed into a
//! `serde_json::Value` with `arbitrary_precision` (the baseline does less than the old path,
//! which then also read every amount by pointer). Interleaved blocks; each block's mean per
//! body is a sample.

use std::hint::black_box;
use std::time::Instant;

use balances::balances_registry;
use balances::vendors::BINDINGS;

use crate::{Row, Target};

/// Blocks per side, and passes over every body per block.
const BLOCKS: usize = 40;
const PASSES: usize = 200;

pub(crate) fn row() -> Row {
    let bodies: Vec<(&balances::balances_runtime::Binding, &[u8])> = BINDINGS
        .iter()
        .filter_map(|binding| {
            let example = balances_registry::find(binding.vendor)?.default_balance_example()?;
            Some((binding, example.body.as_bytes()))
        })
        .collect();
    // Each body decodes on both sides, or the comparison means nothing.
    for (binding, body) in &bodies {
        assert!(
            (binding.decode)(body).is_ok(),
            "{}: the default example does not decode",
            binding.vendor
        );
        assert!(serde_json::from_slice::<serde_json::Value>(body).is_ok());
    }
    let per_body =
        |started: Instant| started.elapsed().as_secs_f64() * 1e9 / (PASSES * bodies.len()) as f64;
    let (mut typed, mut value) = (Vec::with_capacity(BLOCKS), Vec::with_capacity(BLOCKS));
    for block in 0..=BLOCKS {
        let started = Instant::now();
        for _ in 0..PASSES {
            for (binding, body) in &bodies {
                let _ = black_box((binding.decode)(black_box(body)));
            }
        }
        let typed_sample = per_body(started);
        let started = Instant::now();
        for _ in 0..PASSES {
            for (_, body) in &bodies {
                let _ = black_box(serde_json::from_slice::<serde_json::Value>(black_box(body)));
            }
        }
        let value_sample = per_body(started);
        // The first block warms caches and is not counted.
        if block > 0 {
            typed.push(typed_sample);
            value.push(value_sample);
        }
    }
    Row::from_samples(
        format!(
            "decode: typed + projection vs serde_json::Value ({} vendors' bodies)",
            bodies.len()
        ),
        Some(typed),
        Some(value),
        "ns per body",
        Some(Target::RatioAtMost(1.0)),
        "",
    )
}
