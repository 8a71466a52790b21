//! How the fake behaves: its options, which are also the `fake-crm`
//! subcommand's flags, and how `code` is written.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};

use crate::import::send::parse_duration;

/// The token the fake accepts unless told otherwise: the one every rehearsal
/// in the README uses, so anyone who reaches the fake knows it.
pub const DEFAULT_TOKEN: &str = "fake-token";

/// How the `code` member of JSON answers is written.
///
/// The real API is inconsistent about it, so a client must accept both;
/// `Mixed` makes sure it does within one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum CodeStyle {
    /// As a number: "code": 200
    #[default]
    Number,
    /// As a string: "code": "200"
    String,
    /// Either, chosen per answer from the seeded RNG
    Mixed,
}

/// How the fake behaves. Start from `Default` and change what a test needs;
/// the `fake-crm` subcommand reads the same options from its flags, and their
/// defaults are the ones written there.
///
/// The fault rates are slices of one uniform roll per insert, update or query
/// request, taken in field order (fail, throttle, busy, html, malformed,
/// failing code, drop after commit, slow), so each rate is the real share of
/// requests that get that fault as long as the rates add up to at most 1;
/// beyond that the later kinds only get what is left.
#[derive(Clone, PartialEq, Args)]
pub struct FakeCrmOptions {
    /// The only token the fake accepts (the value of the Wolkvox-Token header).
    #[arg(long, default_value = DEFAULT_TOKEN)]
    pub token: String,
    /// JSON Lines record of every insert and update accepted, replayed at start
    /// [default: none, the fake forgets everything when it stops].
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Requests allowed before TOKEN LIMIT EXCEEDED [default: no limit].
    ///
    /// The "day" is the life of the fake.
    #[arg(long)]
    pub daily_limit: Option<u64>,
    /// Requests allowed in flight per token before the simultaneous-requests 403.
    ///
    /// The real API allows 2. At least 1.
    #[arg(long, default_value = "2", value_parser = parse_in_flight)]
    pub max_in_flight: usize,
    /// Fixed delay before each answer, e.g. 20ms.
    ///
    /// Added to every request that passed the token, concurrency and quota
    /// checks, while it holds its in-flight slot, so concurrency limits can
    /// be hit.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub latency: Duration,
    /// Share of requests answered 503 with a JSON envelope; nothing is stored.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Share of requests answered 429 with Retry-After: 1; nothing is stored.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub throttle_rate: f64,
    /// Share of requests answered with the simultaneous-requests 403, without
    /// real concurrency; nothing is stored.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub busy_rate: f64,
    /// Share of requests answered with an HTML maintenance page (503); nothing
    /// is stored.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub html_rate: f64,
    /// Share of requests answered 200 with a body that is not JSON; nothing is
    /// stored.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub malformed_rate: f64,
    /// Share of requests answered HTTP 200 carrying the failing code "503";
    /// nothing is stored.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub failing_code_rate: f64,
    /// Share of requests stored and then dropped without an answer.
    ///
    /// The request is carried out (an insert or update is stored and written
    /// to the ledger), then the connection is closed without a single byte of
    /// answer. Queries and refused bodies get the same treatment.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub drop_after_commit_rate: f64,
    /// Share of requests stored and then answered only after the slow delay.
    ///
    /// The request keeps its in-flight slot meanwhile, as on a stuck server.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub slow_rate: f64,
    /// Delay of the slow answers; meant to be longer than the client's timeout.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub slow_delay: Duration,
    /// How the JSON "code" is written.
    #[arg(long, value_enum, default_value_t = CodeStyle::Number)]
    pub code_style: CodeStyle,
    /// Seed of the one random generator behind faults and mixed codes: the
    /// same seed gives the same faults.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The defaults of the flags: they are written once, on the fields.
impl Default for FakeCrmOptions {
    fn default() -> Self {
        Flags::try_parse_from(["fake-crm"])
            .expect("every option has a valid default")
            .options
    }
}

/// The options alone as a command line.
#[derive(Parser)]
#[command(name = "fake-crm")]
struct Flags {
    #[command(flatten)]
    options: FakeCrmOptions,
}

/// A share of requests: a number from 0 to 1.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "\"{s}\" is not a share of requests; write a number from 0 to 1, e.g. 0.05"
        )),
    }
}

fn parse_in_flight(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "\"{s}\" is not a number of requests; write 1 or more (the real API allows 2)"
        )),
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

    fn parse(flags: &[&str]) -> Result<FakeCrmOptions, String> {
        let args = std::iter::once("fake-crm").chain(flags.iter().copied());
        Flags::try_parse_from(args)
            .map(|f| f.options)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_defaults_are_a_well_behaved_api_on_the_known_token() {
        let d = FakeCrmOptions::default();
        assert_eq!(d.token, "fake-token");
        assert_eq!(d.ledger, None);
        assert_eq!(d.daily_limit, None);
        assert_eq!(d.max_in_flight, 2);
        assert_eq!(d.latency, Duration::ZERO);
        assert_eq!(d.fault_table().map(|(rate, _)| rate), [0.0; 8]);
        assert_eq!(d.slow_delay, Duration::from_secs(60));
        assert_eq!(d.code_style, CodeStyle::Number);
        assert_eq!(d.seed, 0);
    }

    #[test]
    fn each_flag_sets_its_option() {
        let o = parse(&[
            "--token",
            "t0ken",
            "--ledger",
            "l.jsonl",
            "--daily-limit",
            "50",
            "--max-in-flight",
            "3",
            "--latency",
            "20ms",
            "--fail-rate",
            "0.01",
            "--throttle-rate",
            "0.02",
            "--busy-rate",
            "0.03",
            "--html-rate",
            "0.04",
            "--malformed-rate",
            "0.05",
            "--failing-code-rate",
            "0.06",
            "--drop-after-commit-rate",
            "0.07",
            "--slow-rate",
            "0.08",
            "--slow-delay",
            "2s",
            "--code-style",
            "mixed",
            "--seed",
            "42",
        ])
        .unwrap();
        assert_eq!(o.token, "t0ken");
        assert_eq!(o.ledger, Some(PathBuf::from("l.jsonl")));
        assert_eq!(o.daily_limit, Some(50));
        assert_eq!(o.max_in_flight, 3);
        assert_eq!(o.latency, Duration::from_millis(20));
        assert_eq!(
            o.fault_table().map(|(rate, _)| rate),
            [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08]
        );
        assert_eq!(o.slow_delay, Duration::from_secs(2));
        assert_eq!(o.code_style, CodeStyle::Mixed);
        assert_eq!(o.seed, 42);
        assert_eq!(
            parse(&["--code-style", "string"]).unwrap().code_style,
            CodeStyle::String
        );
    }

    #[test]
    fn flags_out_of_range_are_refused_saying_what_to_write() {
        for (flags, says) in [
            (&["--fail-rate", "1.5"][..], "from 0 to 1"),
            (&["--slow-rate", "NaN"], "from 0 to 1"),
            (&["--busy-rate=-0.1"], "from 0 to 1"),
            (&["--max-in-flight", "0"], "1 or more"),
            (&["--latency", "soon"], "is not a duration"),
            (&["--code-style", "text"], "number, string, mixed"),
        ] {
            let err = parse(flags)
                .err()
                .unwrap_or_else(|| panic!("{flags:?} accepted"));
            let flag = flags[0].split('=').next().unwrap();
            assert!(err.contains(flag) && err.contains(says), "{flags:?}: {err}");
        }
    }

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
