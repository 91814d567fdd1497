//! Every mistake a caller can make (an unknown vendor, region or example, a missing
//! credential) is a value of [`FakeVendorsError`], never a panic: vendors come from data, so
//! a typo in a test or a vendor folder that lacks something must say so plainly.

use std::fmt;

/// What went wrong when seeding an account, asking about a vendor, or starting the server.
#[derive(Debug)]
#[non_exhaustive]
pub enum FakeVendorsError {
    /// No vendor with this id in the registry.
    UnknownVendor {
        /// The id asked for.
        vendor: String,
    },
    /// The vendor has no region with this name (or no regions at all).
    UnknownRegion {
        /// The vendor's id.
        vendor: String,
        /// The region asked for.
        region: String,
    },
    /// The vendor's folder has no example with this name.
    UnknownExample {
        /// The vendor's id.
        vendor: String,
        /// The example asked for.
        example: String,
    },
    /// The account gives no body and its vendor has no example whose expected result is a
    /// balance, so there is nothing to answer by default.
    NoBalanceExample {
        /// The vendor's id.
        vendor: String,
    },
    /// The vendor's auth scheme needs this credential field and the seed does not give it.
    MissingCredential {
        /// The vendor's id.
        vendor: String,
        /// The field (`api_key`, `appkey`, `secret`).
        field: &'static str,
    },
    /// The seed gives a credential field the vendor's auth scheme does not use.
    UnexpectedCredential {
        /// The vendor's id.
        vendor: String,
        /// The field given.
        field: String,
    },
    /// The listener could not be bound.
    Io(std::io::Error),
}

impl fmt::Display for FakeVendorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FakeVendorsError::UnknownVendor { vendor } => {
                write!(f, "no vendor {vendor:?} in the registry")
            }
            FakeVendorsError::UnknownRegion { vendor, region } => {
                write!(f, "vendor {vendor:?} has no region {region:?}")
            }
            FakeVendorsError::UnknownExample { vendor, example } => {
                write!(f, "vendor {vendor:?} has no example {example:?}")
            }
            FakeVendorsError::NoBalanceExample { vendor } => write!(
                f,
                "vendor {vendor:?} has no example with a balance to serve by default; seed a body"
            ),
            FakeVendorsError::MissingCredential { vendor, field } => {
                write!(
                    f,
                    "an account of vendor {vendor:?} needs the credential {field:?}"
                )
            }
            FakeVendorsError::UnexpectedCredential { vendor, field } => {
                write!(f, "vendor {vendor:?} does not use the credential {field:?}")
            }
            FakeVendorsError::Io(error) => write!(f, "cannot listen: {error}"),
        }
    }
}

impl std::error::Error for FakeVendorsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FakeVendorsError::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl From<std::io::Error> for FakeVendorsError {
    fn from(error: std::io::Error) -> Self {
        FakeVendorsError::Io(error)
    }
}

/// So that code returning `std::io::Result` (benchmarks, the demo) can use `?` on a start.
impl From<FakeVendorsError> for std::io::Error {
    fn from(error: FakeVendorsError) -> Self {
        match error {
            FakeVendorsError::Io(error) => error,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}
