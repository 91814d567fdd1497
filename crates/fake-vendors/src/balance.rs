//! Seeded balances: what each vendor answers for a known credential.

use serde::Serialize;

use crate::FakeVendor;

/// One row of DeepSeek's `balance_infos`. Every amount is sent verbatim as the JSON string
/// given here (`"110.00"`, `"-3.20"`, `"-0.00"`), never reformatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeepSeekRow {
    /// `CNY` or `USD` on the real service; any string is sent as given.
    pub currency: String,
    /// `total_balance`: granted + topped up.
    pub total_balance: String,
    /// `granted_balance`: unexpired granted credit.
    pub granted_balance: String,
    /// `topped_up_balance`: what the user paid in.
    pub topped_up_balance: String,
}

impl DeepSeekRow {
    /// A row with the given currency and amounts (total, granted, topped up).
    pub fn new(
        currency: impl Into<String>,
        total_balance: impl Into<String>,
        granted_balance: impl Into<String>,
        topped_up_balance: impl Into<String>,
    ) -> Self {
        DeepSeekRow {
            currency: currency.into(),
            total_balance: total_balance.into(),
            granted_balance: granted_balance.into(),
            topped_up_balance: topped_up_balance.into(),
        }
    }
}

/// A DeepSeek account's `GET /user/balance` answer.
///
/// Rendered as `{"is_available":…,"balance_infos":[…]}` with the rows in the order given here.
/// With [`rotate_rows`](Self::rotate_rows) set, the rows are rotated by one position on every
/// request, imitating the vendor's unstable row order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepSeekBalance {
    /// `is_available`: whether the account can make API calls.
    pub is_available: bool,
    /// `balance_infos`, in the order they are sent.
    pub rows: Vec<DeepSeekRow>,
    /// Rotate the rows by one position per request (request *n* starts with row *n mod len*).
    pub rotate_rows: bool,
}

impl DeepSeekBalance {
    /// A balance with the given availability and rows, in that order.
    pub fn new(is_available: bool, rows: impl IntoIterator<Item = DeepSeekRow>) -> Self {
        DeepSeekBalance {
            is_available,
            rows: rows.into_iter().collect(),
            rotate_rows: false,
        }
    }

    /// An available account with one CNY row (total, granted, topped up).
    pub fn cny(
        total_balance: impl Into<String>,
        granted_balance: impl Into<String>,
        topped_up_balance: impl Into<String>,
    ) -> Self {
        DeepSeekBalance::new(
            true,
            [DeepSeekRow::new(
                "CNY",
                total_balance,
                granted_balance,
                topped_up_balance,
            )],
        )
    }

    /// The same balance with [`rotate_rows`](Self::rotate_rows) set.
    #[must_use]
    pub fn rotating(mut self) -> Self {
        self.rotate_rows = true;
        self
    }
}

/// A GeekAI account's `GET /credit/balance` answer, in coins (金币; 100 coins = 1 CNY).
///
/// `coins` is written **verbatim** as the JSON value of `balance`, so
/// `"12345678901234567.89"` is sent as the number `12345678901234567.89` with every digit.
/// A faithful answer needs a JSON number; anything else (for example `"\"12\""`, a quoted
/// string) deliberately produces an unfaithful body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeekAiBalance {
    /// The JSON number text sent as `balance`.
    pub coins: String,
    /// Send the older wrapped shape `{"data":{"balance":…}}` instead of `{"balance":…}`.
    pub wrapped: bool,
}

impl GeekAiBalance {
    /// The plain shape `{"balance":<coins>}`.
    pub fn new(coins: impl Into<String>) -> Self {
        GeekAiBalance {
            coins: coins.into(),
            wrapped: false,
        }
    }

    /// The same balance in the older wrapped shape `{"data":{"balance":<coins>}}`.
    #[must_use]
    pub fn wrapped(mut self) -> Self {
        self.wrapped = true;
        self
    }
}

impl From<&str> for GeekAiBalance {
    fn from(coins: &str) -> Self {
        GeekAiBalance::new(coins)
    }
}

impl From<String> for GeekAiBalance {
    fn from(coins: String) -> Self {
        GeekAiBalance::new(coins)
    }
}

/// An EIOTClub account's balance: a decimal string in currency units and the currency, sent
/// verbatim in `{"code":"200","message":"操作成功","data":{"balance":…,"currency":…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EiotclubBalance {
    /// `data.balance`, for example `"0.00"`.
    pub balance: String,
    /// `data.currency`, for example `"USD"`.
    pub currency: String,
}

impl EiotclubBalance {
    /// A balance in the given currency.
    pub fn new(balance: impl Into<String>, currency: impl Into<String>) -> Self {
        EiotclubBalance {
            balance: balance.into(),
            currency: currency.into(),
        }
    }
}

/// Any vendor's seeded balance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Balance {
    /// A DeepSeek balance.
    DeepSeek(DeepSeekBalance),
    /// A GeekAI balance.
    GeekAi(GeekAiBalance),
    /// An EIOTClub balance.
    Eiotclub(EiotclubBalance),
}

impl Balance {
    /// The vendor this balance belongs to.
    pub fn vendor(&self) -> FakeVendor {
        match self {
            Balance::DeepSeek(_) => FakeVendor::DeepSeek,
            Balance::GeekAi(_) => FakeVendor::GeekAi,
            Balance::Eiotclub(_) => FakeVendor::Eiotclub,
        }
    }
}

impl From<DeepSeekBalance> for Balance {
    fn from(b: DeepSeekBalance) -> Self {
        Balance::DeepSeek(b)
    }
}

impl From<GeekAiBalance> for Balance {
    fn from(b: GeekAiBalance) -> Self {
        Balance::GeekAi(b)
    }
}

impl From<EiotclubBalance> for Balance {
    fn from(b: EiotclubBalance) -> Self {
        Balance::Eiotclub(b)
    }
}
