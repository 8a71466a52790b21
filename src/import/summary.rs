//! The end-of-run summary: rows per status, requests, time, the most common
//! errors with an example row each, and the exit code they imply.

use crate::problem::{Kind, Problem};
use crate::results::{Line, Outcome, Status};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How a run ended, row by row, in numbers.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// A dry run: nothing was sent.
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
    pub quota: Option<crate::crm::TokenQuota>,
    /// From the start of the run to its end.
    pub elapsed: Duration,
    /// Why the run stopped early (authentication, quota, failures), if it did.
    pub stopped: Option<String>,
    /// Ctrl-C or SIGTERM ended the run.
    pub interrupted: bool,
    /// The input was an empty file: no header, so no rows either.
    pub no_header: bool,
    /// The mode of a real run.
    pub mode: Option<super::send::Mode>,
    /// The server's host: the one a real run sent to, or the one a dry
    /// run planned for from the ledger.
    pub server: Option<String>,
    /// Rows done in an earlier run and skipped by this one (`--resume`).
    pub carried_over: u64,
    /// Known obligations of this server and operation that the file no
    /// longer lists (when the whole file was read).
    pub vanished: Option<u64>,
    /// The ledger this run read (a dry run) or wrote.
    pub ledger: Option<std::path::PathBuf>,
    /// A dry run's plan: what a real run would send, by the ledger.
    pub plan: Option<(super::send::Mode, super::triage::PlanCounts)>,
    /// Why the plan counts every valid row as new (no ledger yet, or one
    /// that knows nothing of this server and operation).
    pub plan_note: Option<String>,
    /// Kind of error ([`error_key`]) → (rows, first row, first message).
    errors: HashMap<String, (u64, u64, String)>,
}

impl Summary {
    /// An empty summary.
    pub fn new(dry_run: bool) -> Summary {
        Summary {
            dry_run,
            ..Summary::default()
        }
    }

    /// Counts a row that ended.
    pub fn count(&mut self, o: &Outcome) {
        self.count_line(&o.line());
    }

    /// Counts a row that ended, by its results line.
    pub fn count_line(&mut self, o: &Line<'_>) {
        self.count_row(o, &[]);
    }

    /// Counts a row that ended, by its results line and, for an invalid
    /// row, its problems as data (what the most common errors group by).
    pub fn count_row(&mut self, o: &Line<'_>, problems: &[Problem]) {
        *self.counts.entry(o.status).or_default() += 1;
        if !o.error.is_empty() && !o.status.is_success() {
            let key = error_key(o, problems);
            let e = self
                .errors
                .entry(key)
                .or_insert_with(|| (0, o.row, o.error.to_string()));
            e.0 += 1;
        }
    }

    /// Rows counted, whatever their status.
    pub fn rows(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Rows that ended with status `s`.
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

    /// Rows counted per second of the run.
    pub fn rows_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.processed() as f64 / secs
        } else {
            0.0
        }
    }

    /// The rows this run got to: all but those left `not_sent` by a stop
    /// or an interruption, so the rate of a cut-short run is its real pace.
    pub fn processed(&self) -> u64 {
        self.rows().saturating_sub(self.get(Status::NotSent))
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
            plan_left_as_they_are = self.plan.map(|p| p.1.left_as_they_are),
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
        use crate::tr;
        let mut out = String::new();
        self.render_head(&mut out);
        out.push('\n');
        let mut line = |text: String| {
            out.push_str("  ");
            out.push_str(&text);
            out.push('\n');
        };
        if self.no_header {
            line(tr!("summary-no-header"));
        } else if self.rows() == 0 {
            line(tr!("summary-no-rows"));
        }
        if self.carried_over > 0 {
            line(tr!("summary-carried", count = self.carried_over));
        }
        // Status names are the results file's own words: never translated.
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter(|s| self.get(**s) > 0)
            .map(|s| format!("{} {}", s.as_str(), self.get(*s)))
            .collect();
        if !parts.is_empty() {
            line(parts.join(", "));
        }
        self.render_problems(&mut line);
        if let Some((mode, p)) = &self.plan {
            line(tr!(
                "summary-plan",
                mode = mode.as_str(),
                new = p.new,
                changed = p.changed,
                unchanged = p.unchanged,
                invalid = self.get(Status::Invalid),
                requests = p.requests
            ));
            if p.left_as_they_are > 0 {
                line(tr!("summary-left-as-they-are", count = p.left_as_they_are));
            }
            if p.in_doubt > 0 {
                line(tr!("summary-in-doubt", count = p.in_doubt));
            }
            if let Some(note) = &self.plan_note {
                line(note.clone());
            }
        }
        if let (Some(n), Some(super::send::Mode::Sync)) = (self.vanished, self.mode) {
            if n > 0 {
                line(tr!("summary-vanished", count = n));
            }
        }
        if let Some(why) = &self.stopped {
            line(tr!("summary-stopped", why = why.as_str()));
        }
        if self.interrupted {
            line(tr!("summary-interrupted"));
        }
        if let Some(l) = &self.ledger {
            line(tr!("summary-ledger", path = l.display().to_string()));
        }
        out
    }

    /// The first line: how many rows, how fast and, for a real run, how
    /// many requests they took.
    fn render_head(&self, out: &mut String) {
        use crate::tr;
        let title = if self.dry_run {
            tr!("summary-dry-run")
        } else {
            tr!("summary-import")
        };
        let seconds = format!("{:.1}", self.elapsed.as_secs_f64());
        let rate = format!("{:.0}", self.rows_per_second());
        out.push_str(&if self.processed() < self.rows() {
            tr!(
                "summary-head-partial",
                title = title,
                rows = self.rows(),
                processed = self.processed(),
                seconds = seconds,
                rate = rate
            )
        } else {
            tr!(
                "summary-head",
                title = title,
                rows = self.rows(),
                seconds = seconds,
                rate = rate
            )
        });
        if self.dry_run {
            return;
        }
        out.push_str(", ");
        out.push_str(&tr!("summary-requests", requests = self.requests));
        let done = (self.get(Status::Created) + self.get(Status::Updated))
            .saturating_sub(self.carried_over);
        if done > 0 {
            let ratio = format!("{:.2}", self.requests as f64 / done as f64);
            out.push(' ');
            out.push_str(&tr!("summary-per-obligation", ratio = ratio));
        }
        if self.retries > 0 || self.lookups > 0 {
            out.push_str(", ");
            out.push_str(&tr!(
                "summary-retries",
                retries = self.retries,
                lookups = self.lookups
            ));
        }
    }

    /// The most common problems, five at most, each with an example row.
    fn render_problems(&self, line: &mut impl FnMut(String)) {
        use crate::tr;
        let top = self.top_errors(5);
        if top.is_empty() {
            return;
        }
        line(tr!("summary-problems"));
        for (n, row, msg) in top {
            line(format!(
                "  {}",
                tr!("summary-problem", count = n, row = row, message = msg)
            ));
        }
        if self.errors.len() > 5 {
            line(format!(
                "  {}",
                tr!(
                    "summary-more-problems",
                    count = (self.errors.len() - 5) as u64
                )
            ));
        }
    }
}

/// What the most common errors are grouped by: an invalid row's problems
/// by kind and column; a failed or uncertain row by its kind; the API's own
/// refusal by its text with the values it quotes and its numbers left out,
/// so that `"abc" is not allowed` and `"x1" is not allowed` are one.
fn error_key(o: &Line<'_>, problems: &[Problem]) -> String {
    if !problems.is_empty() {
        let mut key = String::new();
        for p in problems {
            key.push_str(p.kind.slug());
            key.push(':');
            key.push_str(p.column.as_deref().unwrap_or(""));
            key.push('\n');
        }
        return key;
    }
    match o.kind {
        Some(k) if k != Kind::Refused => k.slug().to_string(),
        _ => {
            let mut out = String::with_capacity(o.error.len());
            let mut in_quote = false;
            for c in o.error.chars() {
                if c == '"' {
                    in_quote = !in_quote;
                    out.push(c);
                } else if !in_quote && !c.is_ascii_digit() {
                    out.push(c);
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_group_by_kind_and_column_whatever_the_words() {
        let cell = |kind, column: &str, value: &str| {
            Problem::in_cell(kind, column, Some(value.into()), format!("\"{value}\" ..."))
        };
        let mut s = Summary::new(true);
        // Worded in any language: the key is the kind and the column.
        let rows = [
            (
                2,
                vec![cell(Kind::NotANumber, "Saldo", "abc")],
                "columna \"Saldo\": \"abc\" no es",
            ),
            (
                3,
                vec![cell(Kind::NotANumber, "Saldo", "x1")],
                "columna \"Saldo\": \"x1\" no es",
            ),
            (
                4,
                vec![cell(Kind::NotANumber, "Mora", "abc")],
                "columna \"Mora\": \"abc\" no es",
            ),
            (
                5,
                vec![cell(Kind::NotADate, "Saldo", "abc")],
                "columna \"Saldo\": \"abc\" no es",
            ),
        ];
        for (row, problems, error) in &rows {
            let line = Line {
                error,
                ..Line::new(*row, Status::Invalid, "R", "O")
            };
            s.count_row(&line, problems);
        }
        assert_eq!(
            s.top_errors(5),
            vec![
                (2, 2, "columna \"Saldo\": \"abc\" no es"),
                (1, 4, "columna \"Mora\": \"abc\" no es"),
                (1, 5, "columna \"Saldo\": \"abc\" no es"),
            ]
        );
        // Failed rows group by their kind; the API's refusals by their text
        // without the values and numbers in it.
        let failed = |row, kind, error| {
            Outcome::new(row, Status::Failed, "R", "O")
                .with_kind(kind)
                .with_error(error)
        };
        let mut s = Summary::new(false);
        s.count(&failed(2, Kind::GaveUp, "se rindió tras 6 intentos"));
        s.count(&failed(
            3,
            Kind::GaveUp,
            "se rindió tras 2 intentos: HTTP 503",
        ));
        s.count(&failed(
            4,
            Kind::Refused,
            "the API refused it: \"abc\" is not allowed (400)",
        ));
        s.count(&failed(
            5,
            Kind::Refused,
            "the API refused it: \"x\" is not allowed (401)",
        ));
        s.count(&failed(
            6,
            Kind::Refused,
            "the API refused it: SOME PARAMETERS ARE REQUIRED",
        ));
        let top: Vec<_> = s
            .top_errors(5)
            .into_iter()
            .map(|(n, r, _)| (n, r))
            .collect();
        assert_eq!(top, vec![(2, 2), (2, 4), (1, 6)]);
    }

    #[test]
    fn a_cut_short_runs_rate_counts_only_the_rows_it_got_to() {
        let mut s = Summary::new(false);
        for row in 2..82 {
            s.count(&Outcome::new(row, Status::Created, "R", "O"));
        }
        for row in 82..2002 {
            s.count(&Outcome::new(row, Status::NotSent, "R", "O"));
        }
        s.elapsed = Duration::from_secs(4);
        s.interrupted = true;
        assert_eq!(s.processed(), 80);
        assert_eq!(s.rows_per_second(), 20.0);
        let text = s.render();
        assert!(
            text.contains("2000 rows, 80 processed in 4.0 s (20 rows/s)"),
            "{text}"
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
