//! The end-of-run summary: rows per status, requests, time, the most common
//! errors with an example row each, and the exit code they imply.

use crate::results::{Line, Outcome, Status};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How a run ended, row by row, in numbers.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub dry_run: bool,
    /// Rows per status.
    pub counts: BTreeMap<Status, u64>,
    /// HTTP requests made (all attempts, look-ups and the quota check included).
    pub requests: u64,
    /// Writes sent again after a transient answer or an answer in doubt.
    pub retries: u64,
    /// Look-ups (`queryObligation`) made.
    pub lookups: u64,
    /// The token's quota as read before the first request, when it was.
    pub quota: Option<crate::crm::classify::TokenQuota>,
    pub elapsed: Duration,
    /// Why the run stopped early (authentication, quota, failures), if it did.
    pub stopped: Option<String>,
    /// Ctrl-C or SIGTERM ended the run.
    pub interrupted: bool,
    /// The mode of a real run.
    pub mode: Option<super::send::Mode>,
    /// Rows done in an earlier run and skipped by this one (`--resume`).
    pub carried_over: u64,
    /// Known obligations of this server and operation that the file no
    /// longer lists (when the whole file was read).
    pub vanished: Option<u64>,
    /// The ledger this run read (a dry run) or wrote.
    pub ledger: Option<std::path::PathBuf>,
    /// A dry run's plan: what a real run would send, by the ledger.
    pub plan: Option<(super::send::Mode, super::triage::PlanCounts)>,
    /// Error pattern → (rows, first row, first message).
    errors: HashMap<String, (u64, u64, String)>,
}

impl Summary {
    pub fn new(dry_run: bool) -> Summary {
        Summary {
            dry_run,
            ..Summary::default()
        }
    }

    pub fn count(&mut self, o: &Outcome) {
        self.count_line(&o.line());
    }

    pub fn count_line(&mut self, o: &Line<'_>) {
        *self.counts.entry(o.status).or_default() += 1;
        if !o.error.is_empty() && !o.status.is_success() {
            let key = error_pattern(o.error);
            let e = self
                .errors
                .entry(key)
                .or_insert_with(|| (0, o.row, o.error.to_string()));
            e.0 += 1;
        }
    }

    pub fn rows(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn get(&self, s: Status) -> u64 {
        self.counts.get(&s).copied().unwrap_or(0)
    }

    /// The most common errors, most frequent first: (rows, example row, message).
    pub fn top_errors(&self, n: usize) -> Vec<(u64, u64, &str)> {
        let mut v: Vec<(u64, u64, &str)> = self
            .errors
            .values()
            .map(|(c, r, m)| (*c, *r, m.as_str()))
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        v.truncate(n);
        v
    }

    /// The exit code the contract gives this outcome.
    pub fn exit_code(&self) -> i32 {
        use super::exit;
        if self.interrupted {
            exit::INTERRUPTED
        } else if self.stopped.is_some() {
            exit::STOPPED
        } else if self.counts.iter().any(|(s, n)| !s.is_success() && *n > 0) {
            exit::SOME_ROWS_FAILED
        } else {
            exit::OK
        }
    }

    pub fn rows_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.rows() as f64 / secs
        } else {
            0.0
        }
    }

    /// The summary as one structured log event, last of a JSON-logged run.
    pub fn log_json(&self, output: &std::path::Path) {
        tracing::info!(
            event = "summary",
            dry_run = self.dry_run,
            rows = self.rows(),
            valid = self.get(Status::Valid),
            created = self.get(Status::Created),
            updated = self.get(Status::Updated),
            unchanged = self.get(Status::Unchanged),
            invalid = self.get(Status::Invalid),
            failed = self.get(Status::Failed),
            uncertain = self.get(Status::Uncertain),
            not_sent = self.get(Status::NotSent),
            carried_over = self.carried_over,
            vanished = self.vanished,
            ledger = %self.ledger.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
            plan_new = self.plan.map(|p| p.1.new),
            plan_changed = self.plan.map(|p| p.1.changed),
            plan_unchanged = self.plan.map(|p| p.1.unchanged),
            plan_requests = self.plan.map(|p| p.1.requests),
            requests = self.requests,
            retries = self.retries,
            lookups = self.lookups,
            elapsed_s = self.elapsed.as_secs_f64(),
            rows_per_s = self.rows_per_second(),
            stopped = self.stopped.as_deref().unwrap_or(""),
            interrupted = self.interrupted,
            exit_code = self.exit_code(),
            results = %output.display(),
            "summary"
        );
    }

    /// The summary for people, several lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let title = if self.dry_run { "Dry run" } else { "Import" };
        let rows = self.rows();
        out.push_str(&format!(
            "{title}: {rows} rows in {:.1} s ({:.0} rows/s)",
            self.elapsed.as_secs_f64(),
            self.rows_per_second()
        ));
        if !self.dry_run {
            out.push_str(&format!(", {} requests", self.requests));
            let done = (self.get(Status::Created) + self.get(Status::Updated))
                .saturating_sub(self.carried_over);
            if done > 0 {
                out.push_str(&format!(
                    " ({:.2} per obligation written)",
                    self.requests as f64 / done as f64
                ));
            }
            if self.retries > 0 || self.lookups > 0 {
                out.push_str(&format!(
                    ", {} retries, {} look-ups",
                    self.retries, self.lookups
                ));
            }
        }
        out.push('\n');
        if rows == 0 {
            out.push_str("  the file has a header but no data rows\n");
        }
        if self.carried_over > 0 {
            out.push_str(&format!(
                "  {} rows were already done by an earlier run (no request made)\n",
                self.carried_over
            ));
        }
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter(|s| self.get(**s) > 0)
            .map(|s| format!("{} {}", s.as_str(), self.get(*s)))
            .collect();
        if !parts.is_empty() {
            out.push_str(&format!("  {}\n", parts.join(", ")));
        }
        let top = self.top_errors(5);
        if !top.is_empty() {
            out.push_str("  most common problems:\n");
            for (n, row, msg) in top {
                let rows_word = if n == 1 { "row" } else { "rows" };
                out.push_str(&format!("    {n} {rows_word}, e.g. row {row}: {msg}\n"));
            }
            if self.errors.len() > 5 {
                out.push_str(&format!(
                    "    … and {} more kinds of problem (see the error column of the results)\n",
                    self.errors.len() - 5
                ));
            }
        }
        if let Some((mode, p)) = &self.plan {
            out.push_str(&format!(
                "  plan ({} mode): {} new, {} changed, {} unchanged, {} invalid; a real run would make about {} requests\n",
                mode.as_str(),
                p.new,
                p.changed,
                p.unchanged,
                self.get(Status::Invalid),
                p.requests
            ));
            if p.in_doubt > 0 {
                out.push_str(&format!(
                    "  {} obligations have an earlier request in doubt: each is looked up first\n",
                    p.in_doubt
                ));
            }
        }
        if let (Some(n), Some(super::send::Mode::Sync)) = (self.vanished, self.mode) {
            if n > 0 {
                out.push_str(&format!(
                    "  vanished: {n} obligations known for this server and operation are not in the file (a report only: nothing was sent for them)\n"
                ));
            }
        }
        if let Some(why) = &self.stopped {
            out.push_str(&format!("  the run was stopped: {why}\n"));
        }
        if self.interrupted {
            out.push_str("  the run was interrupted; pass --resume to carry on\n");
        }
        if let Some(l) = &self.ledger {
            out.push_str(&format!("  ledger: {}\n", l.display()));
        }
        out
    }
}

/// Groups messages that differ only in the values they quote:
/// `column "Saldo": "abc" is not a number` and `column "Saldo": "x" is not a
/// number` are one pattern. The first quoted string (the column) is kept.
fn error_pattern(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for part in msg.split("; ") {
        if !out.is_empty() {
            out.push_str("; ");
        }
        // Keep the column's name (the first quoted string of a cell error).
        let keep = if part.starts_with("column \"") { 2 } else { 0 };
        let mut quotes = 0;
        let mut in_quote = false;
        for c in part.chars() {
            if c == '"' {
                quotes += 1;
                in_quote = !in_quote;
                out.push(c);
                if in_quote && quotes > keep {
                    out.push('…');
                }
                continue;
            }
            if in_quote && quotes > keep {
                continue;
            }
            if !in_quote && part.starts_with("duplicate of row") && c.is_ascii_digit() {
                continue;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_group_by_column_and_problem() {
        assert_eq!(
            error_pattern("column \"Saldo\": \"abc\" is not a number"),
            error_pattern("column \"Saldo\": \"x1\" is not a number")
        );
        assert_ne!(
            error_pattern("column \"Saldo\": \"abc\" is not a number"),
            error_pattern("column \"Mora\": \"abc\" is not a number")
        );
        assert_eq!(
            error_pattern("duplicate of row 4 (same wolkvox_id \"a\" and id \"b\")"),
            error_pattern("duplicate of row 19 (same wolkvox_id \"c\" and id \"d\")")
        );
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        let mut s = Summary::new(true);
        assert_eq!(s.exit_code(), 0);
        s.count(&Outcome::new(2, Status::Valid, "a", "b"));
        assert_eq!(s.exit_code(), 0);
        s.count(&Outcome::new(3, Status::Invalid, "a", "c").with_error("column \"X\" is empty"));
        assert_eq!(s.exit_code(), 1);
        s.stopped = Some("token".into());
        assert_eq!(s.exit_code(), 3);
        s.interrupted = true;
        assert_eq!(s.exit_code(), 130);
        let text = s.render();
        assert!(text.contains("valid 1, invalid 1"), "{text}");
        assert!(
            text.contains("1 row, e.g. row 3: column \"X\" is empty"),
            "{text}"
        );
    }
}
