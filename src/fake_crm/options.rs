//! How the fake behaves: its options and how `code` is written.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// How the `code` member of JSON answers is written.
///
/// The real API is inconsistent about it, so a client must accept both;
/// `Mixed` makes sure it does within one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeStyle {
    /// `"code": 200`
    #[default]
    Number,
    /// `"code": "200"`
    String,
    /// Either, chosen per answer from the seeded RNG.
    Mixed,
}

/// How the fake behaves. Start from `Default` and change what a test needs.
///
/// The fault rates are slices of one uniform roll per insert, update or query
/// request, taken in field order (fail, throttle, busy, html, malformed,
/// failing code, drop after commit, slow), so each rate is the real share of
/// requests that get that fault as long as the rates add up to at most 1;
/// beyond that the later kinds only get what is left.
#[derive(Clone)]
pub struct FakeCrmOptions {
    /// The only value of `Wolkvox-Token` that is accepted.
    pub token: String,
    /// Requests allowed per "day" (the life of this fake); `None` for no limit.
    pub daily_limit: Option<u64>,
    /// Requests the token may have in flight at once before the extra ones
    /// are refused; the real API allows 2. Must be at least 1.
    pub max_in_flight: usize,
    /// Added to every request that passed auth, quota and concurrency checks,
    /// while it holds its in-flight slot, so concurrency limits can be hit.
    pub latency: Duration,
    /// 503 with a JSON envelope; nothing stored.
    pub fail_rate: f64,
    /// 429 with `Retry-After: 1`; nothing stored.
    pub throttle_rate: f64,
    /// The 403 "simultaneous requests" answer without real concurrency.
    pub busy_rate: f64,
    /// 503 with an HTML maintenance page; nothing stored.
    pub html_rate: f64,
    /// 200 whose body is not JSON; nothing stored.
    pub malformed_rate: f64,
    /// 200 whose envelope says `"code": "503"`; nothing stored.
    pub failing_code_rate: f64,
    /// The request is carried out (an insert or update is stored and written
    /// to the ledger), then the connection is closed without a single byte of
    /// answer. Queries and refused bodies get the same treatment.
    pub drop_after_commit_rate: f64,
    /// The request is carried out, then answered only after `slow_delay`,
    /// keeping its in-flight slot meanwhile as a stuck server would.
    pub slow_rate: f64,
    /// See `slow_rate`; meant to be longer than the client's timeout.
    pub slow_delay: Duration,
    /// How `code` is written in JSON answers.
    pub code_style: CodeStyle,
    /// Seeds the one RNG behind faults and `CodeStyle::Mixed`.
    pub seed: u64,
    /// JSON Lines file of accepted inserts and updates, replayed at start.
    pub ledger: Option<PathBuf>,
}

impl Default for FakeCrmOptions {
    fn default() -> Self {
        FakeCrmOptions {
            token: "fake-token".to_string(),
            daily_limit: None,
            max_in_flight: 2,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            throttle_rate: 0.0,
            busy_rate: 0.0,
            html_rate: 0.0,
            malformed_rate: 0.0,
            failing_code_rate: 0.0,
            drop_after_commit_rate: 0.0,
            slow_rate: 0.0,
            slow_delay: Duration::from_secs(60),
            code_style: CodeStyle::Number,
            seed: 0,
            ledger: None,
        }
    }
}

/// Written by hand so that options can be logged without leaking the token.
impl fmt::Debug for FakeCrmOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeCrmOptions")
            .field("token", &"<redacted>")
            .field("daily_limit", &self.daily_limit)
            .field("max_in_flight", &self.max_in_flight)
            .field("latency", &self.latency)
            .field("fail_rate", &self.fail_rate)
            .field("throttle_rate", &self.throttle_rate)
            .field("busy_rate", &self.busy_rate)
            .field("html_rate", &self.html_rate)
            .field("malformed_rate", &self.malformed_rate)
            .field("failing_code_rate", &self.failing_code_rate)
            .field("drop_after_commit_rate", &self.drop_after_commit_rate)
            .field("slow_rate", &self.slow_rate)
            .field("slow_delay", &self.slow_delay)
            .field("code_style", &self.code_style)
            .field("seed", &self.seed)
            .field("ledger", &self.ledger)
            .finish()
    }
}

impl FakeCrmOptions {
    pub(super) fn validate(&self) -> io::Result<()> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        if self.max_in_flight == 0 {
            return Err(invalid("max_in_flight must be at least 1".into()));
        }
        for (rate, fault) in self.fault_table() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(invalid(format!(
                    "{fault:?} rate must be between 0 and 1, got {rate}"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_crm::FakeCrm;

    #[tokio::test]
    async fn invalid_options_are_refused() {
        for opts in [
            FakeCrmOptions {
                max_in_flight: 0,
                ..Default::default()
            },
            FakeCrmOptions {
                fail_rate: 1.5,
                ..Default::default()
            },
            FakeCrmOptions {
                slow_rate: f64::NAN,
                ..Default::default()
            },
        ] {
            let err = FakeCrm::start("127.0.0.1:0".parse().unwrap(), opts)
                .await
                .err()
                .unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        let debug = format!(
            "{:?}",
            FakeCrmOptions {
                token: "s3cret".into(),
                ..Default::default()
            }
        );
        assert!(!debug.contains("s3cret"));
    }
}
