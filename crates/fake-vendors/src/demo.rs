//! Ready-made account sets over every vendor of the registry: the demo and a bulk set for
//! benchmarks. Credentials are deterministic and built from the vendor's credential field
//! names, so a vendor added to the registry joins both sets with no code change.

use balances_registry::VendorEntry;

use crate::{AccountSeed, FakeVendors, FakeVendorsBuilder, catalog};

/// One account per registry vendor that documents a balance, named `<vendor>-main`, answering the vendor's default
/// example (the first, by name, whose expected result is a balance), with the credential
/// `demo-<vendor>-<field>` for each field (`demo-deepseek-api_key`). Used by
/// `fake-vendors --seed demo` and `balances --demo`.
///
/// Read the credentials and base URLs from [`FakeVendorsHandle::accounts`](crate::FakeVendorsHandle::accounts)
/// once started.
pub fn demo() -> FakeVendorsBuilder {
    FakeVendors::builder().accounts(servable().map(|vendor| {
        seed(vendor, &format!("demo-{}", vendor.id)).name(format!("{}-main", vendor.id))
    }))
}

/// `n` working accounts for benchmarks, round-robin over the registry's vendors that
/// document a balance, named
/// `bulk-00000`, `bulk-00001`, …, each answering its vendor's default example, with the
/// credential `bulk-<i>-<field>` for each field.
pub fn bulk(n: usize) -> FakeVendorsBuilder {
    let vendors: Vec<&'static VendorEntry> = servable().collect();
    FakeVendors::builder().accounts(
        vendors
            .into_iter()
            .cycle()
            .take(n)
            .enumerate()
            .map(|(i, vendor)| seed(vendor, &format!("bulk-{i:05}")).name(format!("bulk-{i:05}"))),
    )
}

/// The vendors an account can answer by default: those with an example showing a balance.
/// (A folder with only error examples would make the whole set fail to start.)
fn servable() -> impl Iterator<Item = &'static VendorEntry> + Clone {
    balances_registry::vendors()
        .iter()
        .filter(|vendor| catalog::default_example(vendor).is_ok())
}

/// A seed of `vendor` whose every credential field is `<stem>-<field>`.
fn seed(vendor: &VendorEntry, stem: &str) -> AccountSeed {
    let fields = vendor.description.auth.credential_fields();
    AccountSeed::new(
        vendor.id.as_str(),
        fields
            .iter()
            .map(|field| (*field, format!("{stem}-{field}"))),
    )
}
