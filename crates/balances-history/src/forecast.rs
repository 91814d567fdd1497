//! Burn rate and "runs out" estimates, in exact decimals.
//!
//! Spend is read from consecutive samples of one series (an account's currency or unit):
//!
//! - an interval in which the balance fell counts its fall as spend and its length as
//!   observed time;
//! - an interval in which the balance rose (a top-up, a refund) says nothing about what was
//!   spent during it, since the rise hides it: it is left out of both the spend and the
//!   time, so a top-up is never negative spend and never resets the estimate;
//! - an interval in which nothing changed counts as observed time with no spend;
//! - a gap (the exporter was down for a day) is one long interval like any other: its fall
//!   is spread over its length, so the rate stays a rate per unit of time, not per sample.
//!
//! The rate over a window is the spend of the intervals that end inside the window divided
//! by their observed time. Both are running totals ([`Running`]) kept with every stored
//! sample, so the store answers a forecast from two rows per series, whatever the window.

use std::time::Duration;

use rust_decimal::Decimal;

/// Milliseconds in a day, the unit `spend_per_day` is given in.
const MS_PER_DAY: i64 = 86_400_000;

/// Running totals of one series up to one sample: spend seen so far and the observed time it
/// was seen over. Differences between two samples' totals are the spend and observed time
/// between them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Running {
    /// Sum of every fall in the balance so far, exact.
    pub spent: Decimal,
    /// Milliseconds of the intervals that were not rises.
    pub observed_ms: i64,
}

impl Running {
    /// The totals after one more interval, from a sample `(previous_at_ms, previous_total)`
    /// to `(at_ms, total)`. An interval that does not move forward in time (a sample
    /// recorded out of order) adds nothing.
    #[must_use]
    pub fn after(
        self,
        previous_at_ms: i64,
        previous_total: Decimal,
        at_ms: i64,
        total: Decimal,
    ) -> Self {
        let Some(length) = at_ms.checked_sub(previous_at_ms).filter(|l| *l > 0) else {
            return self;
        };
        if total > previous_total {
            // A rise: what was spent during it is unknown.
            return self;
        }
        // A fall, or no change. `checked_*`: amounts near Decimal's limits must not panic.
        let (Some(spent), Some(observed_ms)) = (
            previous_total
                .checked_sub(total)
                .and_then(|fall| self.spent.checked_add(fall)),
            self.observed_ms.checked_add(length),
        ) else {
            return self;
        };
        Self { spent, observed_ms }
    }

    /// The totals of `samples` (`(at_ms, total)`, oldest first), from zero.
    pub fn over(samples: &[(i64, Decimal)]) -> Self {
        samples.windows(2).fold(Self::default(), |running, pair| {
            running.after(pair[0].0, pair[0].1, pair[1].0, pair[1].1)
        })
    }
}

/// How a forecast is computed. The defaults are documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForecastSettings {
    /// How far back spend is read: 7 days by default, a whole weekly cycle, so weekday and
    /// weekend use are both in the rate.
    pub window: Duration,
    /// Less observed time than this gives no estimate: 1 hour by default (12 samples at the
    /// exporter's 5-minute refresh).
    pub min_observed: Duration,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(7 * 86_400),
            min_observed: Duration::from_secs(3_600),
        }
    }
}

/// The first and the last sample of one series inside a window, with their running totals:
/// everything a forecast needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowEnds {
    pub first_at_ms: i64,
    pub first: Running,
    pub last_at_ms: i64,
    pub last_total: Decimal,
    pub last: Running,
}

impl WindowEnds {
    /// The ends of the window that closes at the newest of `samples` (`(at_ms, total)`,
    /// oldest first) and reaches back `window` ([`window_start`]); `None` without samples.
    pub fn of(samples: &[(i64, Decimal)], window: Duration) -> Option<Self> {
        let (last_at_ms, last_total) = *samples.last()?;
        let start = window_start(last_at_ms, window);
        let mut running = Running::default();
        let mut first: Option<(i64, Running)> = None;
        for (index, &(at_ms, total)) in samples.iter().enumerate() {
            if index > 0 {
                let (previous_at_ms, previous_total) = samples[index - 1];
                running = running.after(previous_at_ms, previous_total, at_ms, total);
            }
            if first.is_none() && at_ms >= start {
                first = Some((at_ms, running));
            }
        }
        let (first_at_ms, first) = first?;
        Some(Self {
            first_at_ms,
            first,
            last_at_ms,
            last_total,
            last: running,
        })
    }
}

/// What the history says about when a series runs out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forecast {
    /// The level the estimate is about: the account's `alert_below` where it applies to
    /// this currency, else zero.
    pub floor: Decimal,
    /// Spend per day over the window, exact (only a display rounds it); `None` when the
    /// history is too short to say.
    pub spend_per_day: Option<Decimal>,
    /// How much time the rate was read over (rises left out).
    pub observed: Duration,
    /// The time of the newest sample, which the estimate counts from.
    pub as_of_ms: i64,
    pub estimate: Estimate,
}

/// When the balance reaches the floor, or why that cannot be said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Estimate {
    /// At this time (milliseconds since the Unix epoch), at the current rate.
    RunsOut { at_ms: i64 },
    /// The newest balance is already at or below the floor.
    Reached,
    /// No estimate: see the reason.
    None(NoEstimate),
}

/// Why there is no estimate. Never a made-up number instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoEstimate {
    /// Fewer than two samples, or less observed time than `min_observed`.
    TooLittleHistory,
    /// Nothing was spent over the window.
    NoSpend,
    /// The estimate does not fit the arithmetic (amounts near `Decimal`'s limits, or more
    /// than a few billion years away).
    OutOfRange,
}

impl NoEstimate {
    /// A stable name, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            NoEstimate::TooLittleHistory => "too_little_history",
            NoEstimate::NoSpend => "no_spend",
            NoEstimate::OutOfRange => "out_of_range",
        }
    }
}

impl Forecast {
    /// The forecast from a window's ends, against `floor`.
    pub fn from_ends(ends: &WindowEnds, floor: Decimal, settings: &ForecastSettings) -> Self {
        // Running totals come from the file: a broken one must not make this panic.
        let spent = ends
            .last
            .spent
            .checked_sub(ends.first.spent)
            .unwrap_or(Decimal::ZERO);
        let observed_ms = ends
            .last
            .observed_ms
            .saturating_sub(ends.first.observed_ms)
            .max(0);
        let observed = Duration::from_millis(observed_ms.unsigned_abs());
        let enough = ends.last_at_ms > ends.first_at_ms && observed >= settings.min_observed;
        let spend_per_day = if enough {
            spent
                .checked_mul(Decimal::from(MS_PER_DAY))
                .and_then(|scaled| scaled.checked_div(Decimal::from(observed_ms)))
        } else {
            None
        };
        let estimate = if ends.last_total <= floor {
            Estimate::Reached
        } else if !enough {
            Estimate::None(NoEstimate::TooLittleHistory)
        } else if spent <= Decimal::ZERO {
            Estimate::None(NoEstimate::NoSpend)
        } else {
            // (balance - floor) / (spent / observed), multiplied first so that nothing is
            // lost to a rounded rate.
            ends.last_total
                .checked_sub(floor)
                .and_then(|left| left.checked_mul(Decimal::from(observed_ms)))
                .and_then(|scaled| scaled.checked_div(spent))
                .and_then(|left_ms| i64::try_from(left_ms.round()).ok())
                .and_then(|left_ms| ends.last_at_ms.checked_add(left_ms))
                .map_or(Estimate::None(NoEstimate::OutOfRange), |at_ms| {
                    Estimate::RunsOut { at_ms }
                })
        };
        Self {
            floor,
            spend_per_day,
            observed,
            as_of_ms: ends.last_at_ms,
            estimate,
        }
    }

    /// The forecast of `samples` (`(at_ms, total)`, oldest first): what the store computes
    /// from its running totals, computed from the samples themselves.
    pub fn of_samples(
        samples: &[(i64, Decimal)],
        floor: Decimal,
        settings: &ForecastSettings,
    ) -> Option<Self> {
        WindowEnds::of(samples, settings.window).map(|ends| Self::from_ends(&ends, floor, settings))
    }

    /// Milliseconds from `now_ms` until the balance reaches the floor: `Some(0)` when it
    /// already has (or the estimate is in the past), `None` without an estimate.
    pub fn remaining_ms(&self, now_ms: i64) -> Option<i64> {
        match self.estimate {
            Estimate::RunsOut { at_ms } => Some(at_ms.saturating_sub(now_ms).max(0)),
            Estimate::Reached => Some(0),
            Estimate::None(_) => None,
        }
    }
}

/// Where the window that closes at `last_at_ms` starts: `window` before it, back to the
/// start of that hour (UTC).
///
/// Why the hour: the store keeps each series' first sample of its window, and with the start
/// moving by whole hours that sample stays the same for an hour of runs instead of changing
/// on every one, so a run does not look it up again (a lookup per series is a page read per
/// series). The window is at most an hour longer than asked, and the rate is still exact over
/// the samples it spans.
pub fn window_start(last_at_ms: i64, window: Duration) -> i64 {
    const HOUR_MS: i64 = 3_600_000;
    let start = last_at_ms.saturating_sub(duration_ms(window));
    start.div_euclid(HOUR_MS).saturating_mul(HOUR_MS)
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A remaining time as people read it: `~3d 4h`, `~5h 20m`, `~12m`, `now` at zero, and
/// `>10y` past ten years (a rate that small is not a plan). Rounded to the unit shown.
pub fn human_remaining(remaining_ms: i64) -> String {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    if remaining_ms <= 0 {
        return "now".to_owned();
    }
    if remaining_ms > 3_652 * DAY {
        return ">10y".to_owned();
    }
    let minutes = (remaining_ms + MINUTE / 2) / MINUTE;
    if minutes < 60 {
        return format!("~{}m", minutes.max(1));
    }
    if minutes < 24 * 60 {
        return match (minutes / 60, minutes % 60) {
            (hours, 0) => format!("~{hours}h"),
            (hours, minutes) => format!("~{hours}h {minutes}m"),
        };
    }
    let hours = (remaining_ms + HOUR / 2) / HOUR;
    match (hours / 24, hours % 24) {
        (days, 0) => format!("~{days}d"),
        (days, hours) => format!("~{days}d {hours}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    #[test]
    fn amounts_at_the_limits_of_a_decimal_give_no_estimate_not_a_panic() {
        let running = Running::default().after(0, Decimal::MAX, HOUR, Decimal::MIN);
        assert_eq!(running, Running::default());
        let settings = ForecastSettings::default();
        let ends = WindowEnds {
            first_at_ms: 0,
            first: Running {
                spent: Decimal::MIN,
                observed_ms: 0,
            },
            last_at_ms: 2 * DAY,
            last_total: Decimal::MAX,
            last: Running {
                spent: Decimal::MAX,
                observed_ms: 2 * DAY,
            },
        };
        let forecast = Forecast::from_ends(&ends, Decimal::MIN, &settings);
        assert!(
            matches!(forecast.estimate, Estimate::None(_)),
            "{forecast:?}"
        );
        let forecast = Forecast::from_ends(&ends, Decimal::MAX - Decimal::ONE, &settings);
        assert!(
            !matches!(forecast.estimate, Estimate::Reached),
            "{forecast:?}"
        );
    }

    #[test]
    fn a_window_starts_at_the_start_of_an_hour() {
        let week = Duration::from_secs(7 * 86_400);
        let last = 10 * DAY + 5 * HOUR + 47 * 60_000;
        assert_eq!(window_start(last, week), 3 * DAY + 5 * HOUR);
        // On the hour, it is the hour itself; before the epoch it still rounds down.
        assert_eq!(window_start(10 * DAY, week), 3 * DAY);
        assert_eq!(window_start(DAY + 1, week), -6 * DAY);
        // A window spanning all time saturates instead of overflowing.
        assert!(window_start(0, Duration::MAX) <= i64::MIN + HOUR);
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn samples(points: &[(i64, &str)]) -> Vec<(i64, Decimal)> {
        points.iter().map(|(at, total)| (*at, dec(total))).collect()
    }

    fn forecast(points: &[(i64, &str)], floor: &str) -> Forecast {
        Forecast::of_samples(&samples(points), dec(floor), &ForecastSettings::default())
            .expect("samples")
    }

    #[test]
    fn steady_spend_gives_its_rate_and_the_day_it_reaches_zero() {
        // 10 a day for three days, hourly, from 100: 70 left at 10 a day is 7 days.
        let points: Vec<(i64, Decimal)> = (0..=72)
            .map(|hour| {
                (
                    hour * HOUR,
                    dec("100") - Decimal::from(hour) * dec("10") / dec("24"),
                )
            })
            .collect();
        let forecast =
            Forecast::of_samples(&points, Decimal::ZERO, &ForecastSettings::default()).unwrap();
        // 10/24 per hour is a repeating decimal, rounded at 28 digits per sample; the rate is
        // still 10 a day to 25 places.
        let rate = forecast.spend_per_day.unwrap();
        assert!((rate - dec("10")).abs() < dec("1e-25"), "{rate}");
        let Estimate::RunsOut { at_ms } = forecast.estimate else {
            panic!("{forecast:?}")
        };
        assert!((at_ms - (72 * HOUR + 7 * DAY)).abs() <= 1, "{at_ms}");
        assert_eq!(forecast.observed, Duration::from_secs(72 * 3600));
        assert_eq!(
            human_remaining(forecast.remaining_ms(72 * HOUR).unwrap()),
            "~7d"
        );
    }

    #[test]
    fn an_exact_rate_stays_exact() {
        let forecast = forecast(&[(0, "50.00"), (DAY, "47.50"), (2 * DAY, "45.00")], "0");
        assert_eq!(forecast.spend_per_day, Some(dec("2.50")));
        assert_eq!(
            forecast.estimate,
            Estimate::RunsOut {
                at_ms: 2 * DAY + 18 * DAY
            }
        );
    }

    #[test]
    fn a_top_up_mid_window_is_neither_negative_spend_nor_a_reset() {
        // 2 a day, a top-up of 100 during the third day, then 2 a day again.
        let forecast = forecast(
            &[
                (0, "20"),
                (DAY, "18"),
                (2 * DAY, "16"),
                (3 * DAY, "114"),
                (4 * DAY, "112"),
                (5 * DAY, "110"),
            ],
            "0",
        );
        // The day of the top-up is left out: 8 spent over 4 observed days.
        assert_eq!(forecast.spend_per_day, Some(dec("2")));
        assert_eq!(forecast.observed, Duration::from_secs(4 * 86_400));
        assert_eq!(
            forecast.estimate,
            Estimate::RunsOut {
                at_ms: 5 * DAY + 55 * DAY
            }
        );
    }

    #[test]
    fn a_refund_is_left_out_like_a_top_up() {
        let with_refund = forecast(
            &[
                (0, "10.00"),
                (HOUR, "9.00"),
                (2 * HOUR, "9.40"),
                (3 * HOUR, "8.40"),
            ],
            "0",
        );
        assert_eq!(with_refund.spend_per_day, Some(dec("24")));
        assert_eq!(with_refund.observed, Duration::from_secs(2 * 3600));
    }

    #[test]
    fn a_gap_spreads_its_fall_over_its_length() {
        // Hourly samples, then a 46-hour gap (the exporter was down), then hourly again:
        // 1 per hour throughout. Per sample the gap's fall of 46 would look like 46 per hour.
        let forecast = forecast(
            &[
                (0, "200"),
                (HOUR, "199"),
                (2 * HOUR, "198"),
                (48 * HOUR, "152"),
                (49 * HOUR, "151"),
            ],
            "0",
        );
        assert_eq!(forecast.spend_per_day, Some(dec("24")));
        assert_eq!(
            forecast.estimate,
            Estimate::RunsOut {
                at_ms: 49 * HOUR + 151 * HOUR
            }
        );
    }

    #[test]
    fn a_single_sample_gives_no_estimate() {
        let forecast = forecast(&[(0, "10")], "0");
        assert_eq!(
            forecast.estimate,
            Estimate::None(NoEstimate::TooLittleHistory)
        );
        assert_eq!(forecast.spend_per_day, None);
        assert_eq!(forecast.remaining_ms(0), None);
    }

    #[test]
    fn too_little_observed_time_gives_no_estimate() {
        // Two samples 10 minutes apart: under the 1-hour minimum.
        let forecast = forecast(&[(0, "10"), (600_000, "9")], "0");
        assert_eq!(
            forecast.estimate,
            Estimate::None(NoEstimate::TooLittleHistory)
        );
        // A history of nothing but rises has no observed time at all.
        let rises = forecast_with_rises();
        assert_eq!(rises.estimate, Estimate::None(NoEstimate::TooLittleHistory));
    }

    fn forecast_with_rises() -> Forecast {
        forecast(&[(0, "1"), (DAY, "2"), (2 * DAY, "3")], "0")
    }

    #[test]
    fn no_spend_gives_no_estimate() {
        let forecast = forecast(&[(0, "10"), (DAY, "10"), (2 * DAY, "10")], "0");
        assert_eq!(forecast.estimate, Estimate::None(NoEstimate::NoSpend));
        assert_eq!(forecast.spend_per_day, Some(Decimal::ZERO));
    }

    #[test]
    fn a_negative_balance_has_already_reached_zero_and_still_has_a_rate() {
        let forecast = forecast(&[(0, "-1.00"), (DAY, "-3.00")], "0");
        assert_eq!(forecast.estimate, Estimate::Reached);
        assert_eq!(forecast.spend_per_day, Some(dec("2.00")));
        assert_eq!(forecast.remaining_ms(DAY), Some(0));
        // Falling from positive to negative counts the whole fall.
        let crossing = forecast_after_crossing();
        assert_eq!(crossing.spend_per_day, Some(dec("4.00")));
        assert_eq!(crossing.estimate, Estimate::Reached);
    }

    fn forecast_after_crossing() -> Forecast {
        forecast(&[(0, "1.00"), (DAY, "-3.00")], "0")
    }

    #[test]
    fn a_floor_above_zero_is_reached_sooner() {
        // `alert_below = 10`: 30 left above it at 5 a day is 6 days.
        let forecast = forecast(&[(0, "45"), (DAY, "40")], "10");
        assert_eq!(
            forecast.estimate,
            Estimate::RunsOut {
                at_ms: DAY + 6 * DAY
            }
        );
        let below = self::forecast(&[(0, "12"), (DAY, "9")], "10");
        assert_eq!(below.estimate, Estimate::Reached);
    }

    #[test]
    fn the_window_leaves_out_older_spend() {
        let settings = ForecastSettings {
            window: Duration::from_secs(2 * 86_400),
            ..ForecastSettings::default()
        };
        // Heavy spend 10 days ago, light spend in the last two days.
        let points = samples(&[
            (0, "1000"),
            (DAY, "500"),
            (8 * DAY, "500"),
            (9 * DAY, "499"),
            (10 * DAY, "498"),
        ]);
        let forecast = Forecast::of_samples(&points, Decimal::ZERO, &settings).unwrap();
        assert_eq!(forecast.spend_per_day, Some(dec("1")));
        assert_eq!(forecast.observed, Duration::from_secs(2 * 86_400));
    }

    #[test]
    fn a_rate_of_minute_spend_far_away_is_out_of_range_or_far() {
        let forecast = forecast(
            &[
                (0, "79228162514264337593543950335"),
                (DAY, "79228162514264337593543950334"),
            ],
            "0",
        );
        // 7.9e28 ms is past what a timestamp holds: no estimate rather than a wrong one.
        assert_eq!(forecast.estimate, Estimate::None(NoEstimate::OutOfRange));
        let far = self::forecast(&[(0, "1000000"), (DAY, "999999.99")], "0");
        assert_eq!(human_remaining(far.remaining_ms(DAY).unwrap()), ">10y");
    }

    #[test]
    fn running_totals_of_a_window_are_differences_of_the_whole_history() {
        let points = samples(&[(0, "9"), (HOUR, "7"), (2 * HOUR, "8"), (3 * HOUR, "5")]);
        let whole = Running::over(&points);
        assert_eq!(whole.spent, dec("5"));
        assert_eq!(whole.observed_ms, 2 * HOUR);
        let tail = Running::over(&points[2..]);
        let ends = WindowEnds::of(&points, Duration::from_secs(3600)).unwrap();
        assert_eq!(ends.first_at_ms, 2 * HOUR);
        assert_eq!(ends.last.spent - ends.first.spent, tail.spent);
        assert_eq!(
            ends.last.observed_ms - ends.first.observed_ms,
            tail.observed_ms
        );
    }

    #[test]
    fn out_of_order_or_equal_times_add_nothing() {
        let running = Running::default().after(HOUR, dec("5"), HOUR, dec("1"));
        assert_eq!(running, Running::default());
        let running = Running::default().after(HOUR, dec("5"), 0, dec("1"));
        assert_eq!(running, Running::default());
    }

    #[test]
    fn remaining_time_reads_as_people_say_it() {
        const MINUTE: i64 = 60_000;
        assert_eq!(human_remaining(0), "now");
        assert_eq!(human_remaining(20_000), "~1m");
        assert_eq!(human_remaining(12 * MINUTE), "~12m");
        assert_eq!(human_remaining(5 * HOUR + 20 * MINUTE), "~5h 20m");
        assert_eq!(human_remaining(5 * HOUR), "~5h");
        assert_eq!(human_remaining(3 * DAY + 4 * HOUR), "~3d 4h");
        assert_eq!(human_remaining(3 * DAY + 23 * HOUR + 50 * MINUTE), "~4d");
        assert_eq!(human_remaining(4000 * DAY), ">10y");
    }
}
