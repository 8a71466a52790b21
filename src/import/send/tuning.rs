//! How hard a run pushes the API: concurrency, rate, retries, the mode.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// How hard to push the API.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Requests in flight at most (the API allows 2 per token).
    pub concurrency: usize,
    /// Minimum spacing between requests, from `--rate`.
    pub rate: Option<Rate>,
    /// Retries of a transient failure per row, after the first attempt.
    pub max_retries: u32,
    /// Bound on each request, send to end of answer.
    pub timeout: Duration,
    /// Consecutive rows that fail only transiently before the run stops.
    pub breaker: u32,
    /// First backoff step; doubles each retry up to `backoff_cap`.
    pub backoff_base: Duration,
    /// Longest backoff step.
    pub backoff_cap: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            concurrency: 2,
            rate: None,
            max_retries: 5,
            timeout: Duration::from_secs(30),
            breaker: 20,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
        }
    }
}

/// What each row asks of the CRM, judged against the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// POST obligations the ledger does not know; never insert one twice.
    Insert,
    /// POST new obligations, PUT changed ones, send nothing for unchanged ones.
    Sync,
    /// PUT the mapped fields of every row whose body changed.
    Update,
    /// Like sync, but look an obligation the ledger does not know up first.
    Upsert,
}

impl Mode {
    /// The mode's name, as `--mode` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Insert => "insert",
            Mode::Sync => "sync",
            Mode::Update => "update",
            Mode::Upsert => "upsert",
        }
    }
}

/// Parses a duration as humantime writes it (`30s`, `500ms`, `2m`,
/// `1h 30m`), or a bare number of seconds (`30`, `1.5`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || crate::tr!("duration-bad", value = s);
    let too_long = || crate::tr!("duration-too-long", value = s);
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let n: f64 = t.parse().map_err(|_| bad())?;
        return Duration::try_from_secs_f64(n).map_err(|_| too_long());
    }
    humantime::parse_duration(t).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => too_long(),
        _ => bad(),
    })
}

/// The shortest time limit a request may be given (`--timeout`): below it
/// no answer arrives in time, not even from this machine, and every row
/// would end in doubt.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(100);

/// The longest a single request may be given (`--timeout`): the API
/// answers in well under a minute.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// `--timeout`: a duration from [`MIN_TIMEOUT`] to [`MAX_TIMEOUT`].
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let t = parse_duration(s).map_err(|e| format!("--timeout: {e}"))?;
    check_timeout(t, s.trim())?;
    Ok(t)
}

/// Whether `timeout` lies from [`MIN_TIMEOUT`] to [`MAX_TIMEOUT`];
/// `written` is how the user wrote it, for the message.
pub(crate) fn check_timeout(timeout: Duration, written: &str) -> Result<(), String> {
    if timeout < MIN_TIMEOUT {
        return Err(crate::tr!(
            "timeout-too-short",
            value = written,
            min = humantime::format_duration(MIN_TIMEOUT).to_string()
        ));
    }
    if timeout > MAX_TIMEOUT {
        return Err(crate::tr!("timeout-too-long", value = written));
    }
    Ok(())
}

/// A request rate: `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed...
    pub count: u32,
    /// ...in this much time.
    pub per: Duration,
}

impl Rate {
    /// Parses `N/s`, `N/min` or `N/h` (also `N/sec`, `N/m`, `N/hour`).
    pub fn parse(s: &str) -> Result<Rate, String> {
        let bad = || crate::tr!("rate-bad", value = s);
        let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(crate::tr!("rate-zero", value = s));
        }
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Ok(Rate { count, per })
    }

    /// Evenly spaced, no burst: "30/s" means one request every 33 ms.
    pub(super) fn limiter(&self) -> DefaultDirectRateLimiter {
        let period = self.per / self.count;
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .expect("period is positive")
            .allow_burst(NonZeroU32::MIN);
        RateLimiter::direct(quota)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration(" 45 ").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn durations_are_bounded_without_a_panic() {
        let e = parse_duration("99999999999999999999").unwrap_err();
        assert!(e.contains("too long"), "{e}");
        assert!(parse_duration("1e400").is_err());
        let e = parse_duration("99999999999999999999s").unwrap_err();
        assert!(e.contains("too long"), "{e}");
        assert!(parse_timeout("99999999999999999999").is_err());
        let e = parse_timeout("2h").unwrap_err();
        assert!(e.contains("1h"), "{e}");
        assert_eq!(parse_timeout("1h").unwrap(), MAX_TIMEOUT);
        let e = parse_timeout("0s").unwrap_err();
        assert!(
            e.contains("--timeout 0s is too short") && e.contains("100ms"),
            "{e}"
        );
        assert!(parse_timeout("99ms").is_err());
        assert_eq!(parse_timeout("100ms").unwrap(), MIN_TIMEOUT);
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("30/s").unwrap(),
            Rate {
                count: 30,
                per: Duration::from_secs(1)
            }
        );
        assert_eq!(
            Rate::parse("100/min").unwrap(),
            Rate {
                count: 100,
                per: Duration::from_secs(60)
            }
        );
        assert_eq!(
            Rate::parse(" 5 / h ").unwrap().per,
            Duration::from_secs(3600)
        );
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("fast").unwrap_err().contains("N/s"));
        assert!(Rate::parse("3/day").is_err());
    }
}
