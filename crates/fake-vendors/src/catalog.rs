//! The questions this crate asks the vendor registry (`balances_registry`): which vendor,
//! which region, which example. Answers borrow the registry's `'static` data, so serving an
//! example never copies it.

use balances_registry::{Example, VendorEntry};

use crate::FakeVendorsError;

/// The registry's vendor with this id.
pub(crate) fn vendor(id: &str) -> Result<&'static VendorEntry, FakeVendorsError> {
    balances_registry::find(id).ok_or_else(|| FakeVendorsError::UnknownVendor {
        vendor: id.to_owned(),
    })
}

/// The names of the vendor's regions, in the order the description lists them (empty for a
/// vendor with one server).
pub(crate) fn regions(vendor: &'static VendorEntry) -> impl Iterator<Item = &'static str> {
    vendor.description.regions.iter().map(|r| r.name.as_str())
}

/// The region an account is in when it names none: the description's default, else its
/// first region; `None` for a vendor without regions.
pub(crate) fn default_region(vendor: &'static VendorEntry) -> Option<&'static str> {
    vendor
        .description
        .default_region
        .as_deref()
        .or_else(|| regions(vendor).next())
}

/// The vendor's region called `name`.
pub(crate) fn region(
    vendor: &'static VendorEntry,
    name: &str,
) -> Result<&'static str, FakeVendorsError> {
    regions(vendor)
        .find(|r| *r == name)
        .ok_or_else(|| FakeVendorsError::UnknownRegion {
            vendor: vendor.id.clone(),
            region: name.to_owned(),
        })
}

/// The vendor's example called `name`.
pub(crate) fn example(
    vendor: &'static VendorEntry,
    name: &str,
) -> Result<&'static Example, FakeVendorsError> {
    vendor
        .examples
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| FakeVendorsError::UnknownExample {
            vendor: vendor.id.clone(),
            example: name.to_owned(),
        })
}

/// What an account answers by default: the first example, by name, whose expected result is
/// a balance.
pub(crate) fn default_example(
    vendor: &'static VendorEntry,
) -> Result<&'static Example, FakeVendorsError> {
    vendor
        .default_balance_example()
        .ok_or_else(|| FakeVendorsError::NoBalanceExample {
            vendor: vendor.id.clone(),
        })
}
