//! The three vendors this crate imitates.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One of the vendors the fake server imitates.
///
/// This is this crate's own small enum: it does not depend on the `balances` facade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FakeVendor {
    /// DeepSeek: `GET /user/balance`, bearer key.
    DeepSeek,
    /// GeekAI (极客智坊): `GET /credit/balance`, bearer system key.
    GeekAi,
    /// EIOTClub: `POST /api/v3/agent/balance`, signed JSON body.
    Eiotclub,
}

impl FakeVendor {
    /// Every vendor, in a stable order.
    pub const ALL: [FakeVendor; 3] = [
        FakeVendor::DeepSeek,
        FakeVendor::GeekAi,
        FakeVendor::Eiotclub,
    ];

    /// The lower-case name used in logs, URLs and the binary's output
    /// (`deepseek`, `geekai`, `eiotclub`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FakeVendor::DeepSeek => "deepseek",
            FakeVendor::GeekAi => "geekai",
            FakeVendor::Eiotclub => "eiotclub",
        }
    }

    /// The path prefix this vendor is served under on the shared listener; the base URL is
    /// `http://127.0.0.1:PORT` followed by this prefix.
    ///
    /// GeekAI's prefix ends in `/api` because its real base URL is `https://geekai.co/api`.
    pub const fn path_prefix(self) -> &'static str {
        match self {
            FakeVendor::DeepSeek => "/deepseek",
            FakeVendor::GeekAi => "/geekai/api",
            FakeVendor::Eiotclub => "/eiotclub",
        }
    }

    /// The balance endpoint's path relative to the base URL, as the vendor documents it.
    pub const fn balance_path(self) -> &'static str {
        match self {
            FakeVendor::DeepSeek => "/user/balance",
            FakeVendor::GeekAi => "/credit/balance",
            FakeVendor::Eiotclub => "/api/v3/agent/balance",
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            FakeVendor::DeepSeek => 0,
            FakeVendor::GeekAi => 1,
            FakeVendor::Eiotclub => 2,
        }
    }
}

impl fmt::Display for FakeVendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`FakeVendor`] from a string that names no vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVendor(pub String);

impl fmt::Display for UnknownVendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown vendor {:?} (expected deepseek, geekai or eiotclub)",
            self.0
        )
    }
}

impl std::error::Error for UnknownVendor {}

impl FromStr for FakeVendor {
    type Err = UnknownVendor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FakeVendor::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownVendor(s.to_owned()))
    }
}
