//! `--demo`: the fake vendors in-process, so a newcomer sees real output with no keys.
//!
//! Only with the `demo` cargo feature: the fake vendor servers (axum, hyper, demo keys) stay
//! out of a production `balances` binary.

use balances::Account;

/// The running demo: keep `server` alive while fetching.
pub struct Demo {
    /// Dropping it stops the fake vendors.
    pub server: Box<dyn std::any::Any + Send>,
    /// The demo accounts, pointing at the fake vendors.
    pub accounts: Vec<Account>,
    /// What to tell the user.
    pub banner: String,
}

/// The demo config's file-wide `alert_below`.
#[cfg(feature = "demo")]
const DEMO_ALERT_BELOW: &str = "5";

/// The demo config's file-wide `monthly_budget`: the spend vendors (OpenAI, Anthropic) show
/// what is left of it.
#[cfg(feature = "demo")]
const DEMO_MONTHLY_BUDGET: &str = "25 USD";

/// Starts the demo vendors on 127.0.0.1 and returns them with accounts pointing at them,
/// read through the same config format a user writes.
#[cfg(feature = "demo")]
pub async fn start() -> Result<Demo, String> {
    let server = fake_vendors::FakeVendors::demo()
        .account(revoked_account()?)
        .start()
        .await
        .map_err(|e| format!("cannot start the demo vendors: {e}"))?;
    // A file-wide threshold, as a user would set one: the low accounts show up as below it
    // (exit status 1, the `balances_alert_threshold` series of `balances serve --demo`).
    let config = format!(
        "alert_below = \"{DEMO_ALERT_BELOW}\"\nmonthly_budget = \"{DEMO_MONTHLY_BUDGET}\"\n{}",
        fake_vendors::config_toml(&server.accounts())
    );
    let accounts = balances::Config::from_toml_str(&config, |_| None)
        .map_err(|e| format!("the demo accounts do not load: {e}"))?
        .into_accounts();
    let banner = format!(
        "demo: fake vendors on http://{} with {} accounts; no keys needed",
        server.addr(),
        accounts.len()
    );
    Ok(Demo {
        server: Box::new(server),
        accounts,
        banner,
    })
}

/// One account per vendor answers its documented balance; this one, of the first vendor, has
/// a revoked key, so that the demo shows what a failed account looks like.
#[cfg(feature = "demo")]
fn revoked_account() -> Result<fake_vendors::AccountSeed, String> {
    let vendor = balances::Vendor::all()
        .next()
        .ok_or("the vendor registry is empty")?;
    let credentials = vendor
        .credential_fields()
        .iter()
        .map(|field| (*field, format!("demo-revoked-{field}")));
    Ok(fake_vendors::AccountSeed::new(vendor.as_str(), credentials)
        .name(format!("{vendor}-revoked"))
        .fault(fake_vendors::Fault::Unauthorized))
}

/// Without the `demo` feature there are no fake vendors to start.
#[cfg(not(feature = "demo"))]
pub async fn start() -> Result<Demo, String> {
    Err(
        "this `balances` was built without the demo; build it with the `demo` feature: \
         cargo run -p balances-cli --features demo -- --demo"
            .to_owned(),
    )
}
