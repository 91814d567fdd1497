//! Ready-made account sets: the demo and a bulk set for benchmarks.

use crate::{
    AccountSeed, DeepSeekBalance, DeepSeekRow, FakeVendor, FakeVendors, FakeVendorsBuilder, Fault,
    GeekAiBalance,
};

/// The demo preset, used by `fake-vendors --seed demo` and `balances --demo`:
///
/// | name                 | vendor   | answers                                                        |
/// |----------------------|----------|----------------------------------------------------------------|
/// | `deepseek-main`      | DeepSeek | available; CNY 110.00 (10.00 granted) and USD 5.00, row order rotating |
/// | `deepseek-overdrawn` | DeepSeek | not available; CNY -12.50 and USD -0.00                        |
/// | `geekai-main`        | GeekAI   | 123456.78 coins (1234.5678 CNY)                                |
/// | `geekai-low`         | GeekAI   | 150 coins (1.50 CNY), in the older wrapped shape               |
/// | `eiotclub-agent`     | EIOTClub | 88.50 USD (signed requests)                                    |
/// | `deepseek-revoked`   | DeepSeek | always 401 (revoked key)                                       |
///
/// Read the credentials and base URLs from [`FakeVendorsHandle::accounts`](crate::FakeVendorsHandle::accounts)
/// once started.
pub fn demo() -> FakeVendorsBuilder {
    FakeVendors::builder().accounts([
        AccountSeed::deepseek(
            "deepseek-main",
            "sk-demo-deepseek-main-0001",
            DeepSeekBalance::new(
                true,
                [
                    DeepSeekRow::new("CNY", "110.00", "10.00", "100.00"),
                    DeepSeekRow::new("USD", "5.00", "0.00", "5.00"),
                ],
            )
            .rotating(),
        )
        .with_note("CNY and USD rows, order changes between calls"),
        AccountSeed::deepseek(
            "deepseek-overdrawn",
            "sk-demo-deepseek-overdrawn-0002",
            DeepSeekBalance::new(
                false,
                [
                    DeepSeekRow::new("CNY", "-12.50", "0.00", "-12.50"),
                    DeepSeekRow::new("USD", "-0.00", "0.00", "-0.00"),
                ],
            ),
        )
        .with_note("overdrawn, is_available false"),
        AccountSeed::geekai("geekai-main", "sk-demo-geekai-system-0003", "123456.78")
            .with_note("123456.78 coins = 1234.5678 CNY"),
        AccountSeed::geekai(
            "geekai-low",
            "sk-demo-geekai-system-0004",
            GeekAiBalance::new("150").wrapped(),
        )
        .with_note("low balance, wrapped {\"data\":{...}} shape"),
        AccountSeed::eiotclub(
            "eiotclub-agent",
            "100005",
            "demo-eiotclub-secret-0005",
            "88.50",
            "USD",
        )
        .with_note("signed requests"),
        AccountSeed::deepseek(
            "deepseek-revoked",
            "sk-demo-deepseek-revoked-0006",
            DeepSeekBalance::cny("0.00", "0.00", "0.00"),
        )
        .with_fault(Fault::Unauthorized)
        .with_note("revoked key: always 401"),
    ])
}

/// `n` working accounts for benchmarks, round-robin over DeepSeek, GeekAI and EIOTClub, named
/// `bulk-00000`, `bulk-00001`, …, with deterministic credentials and balances.
pub fn bulk(n: usize) -> FakeVendorsBuilder {
    FakeVendors::builder().accounts((0..n).map(|i| {
        let name = format!("bulk-{i:05}");
        match FakeVendor::ALL[i % 3] {
            FakeVendor::DeepSeek => AccountSeed::deepseek(
                name,
                format!("sk-bulk-deepseek-{i:05}"),
                DeepSeekBalance::cny(
                    format!("{}.{:02}", i / 100, i % 100),
                    "0.00",
                    format!("{}.{:02}", i / 100, i % 100),
                ),
            ),
            FakeVendor::GeekAi => AccountSeed::geekai(
                name,
                format!("sk-bulk-geekai-{i:05}"),
                (i * 100).to_string(),
            ),
            FakeVendor::Eiotclub => AccountSeed::eiotclub(
                name,
                format!("bulk{i:05}"),
                format!("bulk-secret-{i:05}"),
                format!("{i}.50"),
                "USD",
            ),
        }
    }))
}
