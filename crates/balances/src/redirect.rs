//! The redirect policy: follow a vendor's redirects only within its own origin.
//!
//! A balance endpoint has no business redirecting, but vendors move paths (`/v1` to `/v2`)
//! and gateways add trailing slashes, so a same-origin redirect is followed, at most
//! [`MAX_REDIRECTS`] times. A redirect to another origin (another scheme, host or port,
//! including https to http) is refused before anything is sent there: the request carries
//! credentials (a bearer header, or EIOTClub's signed body), and they go only where the
//! account says. The refusal is [`crate::Error::Redirected`], naming the target's origin and
//! never its path or query (which may hold a token).

use std::fmt;

/// How many same-origin redirects one attempt follows.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed; found again in the reqwest error's source chain.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) origin: String,
    pub(crate) too_many: bool,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.too_many {
            write!(f, "more than {MAX_REDIRECTS} redirects")
        } else {
            write!(f, "redirect to another origin ({}) refused", self.origin)
        }
    }
}

impl std::error::Error for Refused {}

/// The policy every [`crate::BalanceClient`] is built with.
pub(crate) fn policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let origin = attempt.url().origin().ascii_serialization();
        let first = attempt.previous().first().map(|url| url.origin());
        if first.is_some_and(|first| first != attempt.url().origin()) {
            return attempt.error(Refused {
                origin,
                too_many: false,
            });
        }
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(Refused {
                origin,
                too_many: true,
            });
        }
        attempt.follow()
    })
}

/// The refusal inside a reqwest error, if that is what it is.
pub(crate) fn refusal(error: &reqwest::Error) -> Option<&Refused> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return Some(refused);
        }
        source = cause.source();
    }
    None
}
