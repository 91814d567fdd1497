//! Fetching many accounts at once, timing each: the one-shot command and every refresh of
//! `balances serve` go through here.

use std::time::{Duration, Instant, SystemTime};

use balances::{Account, Balance, BalanceClient, Error};
use futures::{Stream, StreamExt};

/// One account's fetch: its index in the input, what it gave, and how long it took.
#[derive(Debug)]
pub struct Fetched {
    pub index: usize,
    pub result: Result<Balance, Error>,
    pub duration: Duration,
    pub finished_at: SystemTime,
}

/// Fetches every account, at most the client's concurrency at a time, yielding each as it
/// ends. A duration covers the account's own call (retries included), not its wait for a
/// slot.
pub fn fetch_timed<'a>(
    client: &'a BalanceClient,
    accounts: &'a [Account],
) -> impl Stream<Item = Fetched> + 'a {
    futures::stream::iter(accounts.iter().enumerate())
        .map(move |(index, account)| async move {
            let started = Instant::now();
            let result = client.fetch(account).await;
            Fetched {
                index,
                result,
                duration: started.elapsed(),
                finished_at: SystemTime::now(),
            }
        })
        .buffer_unordered(client.concurrency())
}
