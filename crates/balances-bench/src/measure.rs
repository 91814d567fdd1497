//! Readings of a process's resources from `/proc` (Linux), and sample statistics. Where
//! `/proc` is missing the readings are `None`, and the rows that need them say so.

use serde::{Deserialize, Serialize};

/// What a process used: peak resident memory and CPU time (user + system).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Usage {
    pub peak_rss_kib: Option<u64>,
    pub cpu_ms: Option<f64>,
}

/// This process's usage so far.
pub fn own_usage() -> Usage {
    Usage {
        peak_rss_kib: status_field("/proc/self/status", "VmHWM:"),
        cpu_ms: cpu_ms("/proc/self/stat"),
    }
}

/// Current resident memory of `pid`, in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    status_field(&format!("/proc/{pid}/status"), "VmRSS:").map(|kib| kib as f64 / 1024.0)
}

/// CPU time of `pid` (user + system), in ms.
pub fn process_cpu_ms(pid: u32) -> Option<f64> {
    cpu_ms(&format!("/proc/{pid}/stat"))
}

fn status_field(path: &str, field: &str) -> Option<u64> {
    parse_status_kib(&std::fs::read_to_string(path).ok()?, field)
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM:    20844 kB`).
pub fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn cpu_ms(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let ticks = stat_field(&stat, 14)? + stat_field(&stat, 15)?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks as f64 * 10.0)
}

/// Field `n` (1-based, as `man 5 proc` numbers them) of `/proc/<pid>/stat`, counted after
/// the parenthesised command name, which may contain spaces.
pub fn stat_field(stat: &str, n: usize) -> Option<u64> {
    let after_name = stat.rsplit_once(')')?.1;
    after_name
        .split_whitespace()
        .nth(n.checked_sub(3)?)?
        .parse()
        .ok()
}

/// Minimum, median and maximum of a set of samples.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| s.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            min: *sorted.first()?,
            median: sorted[sorted.len() / 2],
            max: *sorted.last()?,
        })
    }
}

/// The machine a report was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: Option<String>,
    pub cores: usize,
    pub memory_mib: Option<u64>,
    pub kernel: Option<String>,
    pub os: &'static str,
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Self {
            cpu: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned()),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_mib: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| parse_status_kib(&m, "MemTotal:"))
                .map(|kib| kib / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|k| k.trim().to_owned()),
            os: std::env::consts::OS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_stat_fields_are_read_past_odd_command_names() {
        let status = "Name:\tbalances\nVmHWM:\t   20844 kB\nVmRSS:\t   18000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(20844));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
        let stat = "4242 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0";
        assert_eq!(stat_field(stat, 14), Some(250));
        assert_eq!(stat_field(stat, 15), Some(31));
        assert_eq!(stat_field(stat, 99), None);
    }

    #[test]
    fn stats_are_min_median_max_ignoring_nan() {
        assert_eq!(
            Stats::of(&[3.0, 1.0, f64::NAN, 2.0]),
            Some(Stats {
                min: 1.0,
                median: 2.0,
                max: 3.0
            })
        );
        assert_eq!(Stats::of(&[]), None);
    }
}
