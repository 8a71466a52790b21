//! `--report FILE.html`: one self-contained page per run that a person can
//! hand to the bank or a supervisor: what was run, how every row ended, the
//! problems grouped with what to do about them, charts of the portfolio
//! and, for a real run, its pace.
//!
//! Everything is aggregated while the rows stream past, in memory that does
//! not grow with the file ([`Portfolio`], [`Problems`], [`Timeline`]); no
//! row is kept. The page has no script, loads nothing (a Content Security
//! Policy forbids it), and escapes every value that came from the input.
//! Its words come from the message catalogs, in the run's language.

mod charts;
pub mod format;
mod page;
pub mod portfolio;
pub mod problems;
mod text;
pub mod timeline;

pub use portfolio::{MappedFields, Portfolio};
pub use problems::Problems;
pub use timeline::Timeline;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The mark in every report's `<head>` that tells a report written by this
/// tool (which a later run may replace) from someone else's file.
pub const GENERATOR_META: &str = r#"<meta name="generator" content="wolkvox-import">"#;

/// What a run aggregated for its report.
#[derive(Debug, Clone)]
pub struct Report {
    pub portfolio: Portfolio,
    pub problems: Problems,
    /// A real run's pace; `None` for a dry run.
    pub timeline: Option<Timeline>,
    /// The input's fingerprint as its reader computed it while reading
    /// every byte (a CSV); otherwise it is read again for the page.
    pub input_read: Option<std::sync::Arc<std::sync::OnceLock<u64>>>,
}

impl Report {
    pub fn new(fields: MappedFields, timeline: Option<Timeline>) -> Report {
        Report {
            portfolio: Portfolio::new(fields),
            problems: Problems::default(),
            timeline,
            input_read: None,
        }
    }
}

/// What the page's header says about the run.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub input: PathBuf,
    /// The input's fingerprint (xxh3 of its bytes), when it could be read.
    pub input_fingerprint: Option<String>,
    pub mapping: Option<PathBuf>,
    pub mapping_fingerprint: u64,
    pub operation: String,
    /// The server's host (never a full URL: that may hold more than a host).
    pub server: Option<String>,
    /// A real run's mode, or the mode a dry run planned for.
    pub mode: Option<crate::import::send::Mode>,
    pub dry_run: bool,
    pub started: chrono::DateTime<chrono::Local>,
    pub ended: chrono::DateTime<chrono::Local>,
}

/// The page, as text.
pub fn render(report: &Report, summary: &crate::import::Summary, facts: &RunFacts) -> String {
    page::render(report, summary, facts)
}

/// Writes the page to `path`, whole or not at all: into a new file beside
/// it, synced, then renamed over it, so that not even a killed process
/// leaves half a page there. A device or a pipe (`/dev/null`) is written
/// as it is: there is no file to replace.
///
/// A write that fails (a full disk) removes the part written, and the
/// earlier report at `path` too, if any: this run was to replace it, and
/// left there it would be taken for this run's (the run's summary lists
/// the report file that is there).
pub fn write(
    path: &Path,
    report: &Report,
    summary: &crate::import::Summary,
    facts: &RunFacts,
) -> std::io::Result<()> {
    let page = render(report, summary, facts);
    save(path, |f| f.write_all(page.as_bytes()))
}

/// What [`write`] does with the page `fill` writes.
fn save(path: &Path, fill: impl FnOnce(&mut File) -> std::io::Result<()>) -> std::io::Result<()> {
    let saved = replace(path, fill);
    if saved.is_err() && std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        let _ = std::fs::remove_file(std::fs::canonicalize(path).as_deref().unwrap_or(path));
    }
    saved
}

/// Replaces `path` with what `fill` writes, whole or not at all.
fn replace(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let existing = std::fs::metadata(path).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return fill(&mut File::create(path)?);
    }
    // Through a link, the file it points to is replaced, not the link.
    let path = &std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let (tmp, mut file) = create_beside(path)?;
    if let Some(m) = &existing {
        let _ = file.set_permissions(m.permissions());
    }
    let written = fill(&mut file).and_then(|()| file.sync_all());
    drop(file);
    let done = written.and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// A new, hidden file in `path`'s folder, named after it and this process.
fn create_beside(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let name = path.file_name().unwrap_or(path.as_os_str());
    for n in 0..100 {
        let mut tmp = std::ffi::OsString::from(".");
        tmp.push(name);
        tmp.push(format!(".{}-{n}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp);
        match File::options().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free name for a temporary file beside the report",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Summary;
    use crate::mapping::ReportFields;
    use crate::problem::{Kind, Problem};
    use crate::results::{Outcome, Status};

    const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quoted' \"double\"";

    pub(super) fn facts() -> RunFacts {
        let now = chrono::Local::now();
        RunFacts {
            input: PathBuf::from("carteras/<script>alert(1)</script>.csv"),
            input_fingerprint: Some("0123456789abcdef".into()),
            mapping: Some(PathBuf::from("m&m.toml")),
            mapping_fingerprint: 42,
            operation: "cobranza\"><b>".into(),
            server: Some("crm0001.wolkvox.com".into()),
            mode: Some(crate::import::send::Mode::Insert),
            dry_run: false,
            started: now,
            ended: now,
        }
    }

    /// A report whose every input-borne value is hostile, with a 5 MB cell.
    pub(super) fn hostile() -> (Report, Summary) {
        let mut summary = Summary::new(false);
        let mut report = Report::new(
            MappedFields {
                total_balance: true,
                days_delay: true,
                portfolio_type: true,
            },
            Some(Timeline::new(std::time::Instant::now())),
        );
        let f = ReportFields {
            total_balance: Some(1234.5),
            days_delay: Some(45),
            portfolio_type: Some(HOSTILE.into()),
        };
        report.portfolio.add_fields(2, HOSTILE, &f);
        summary.count(&Outcome::new(2, Status::Created, "R", HOSTILE));
        let big = "A".repeat(5 * 1024 * 1024);
        let problems = [
            (Kind::NotANumber, "Saldo Total", HOSTILE.to_string()),
            (Kind::NotANumber, "Saldo Total", big),
            (
                Kind::ImpossibleDate,
                "Fecha\"><script>x</script>",
                HOSTILE.to_string(),
            ),
        ];
        for (i, (kind, column, value)) in problems.into_iter().enumerate() {
            let detail = format!("\"{value}\" is wrong");
            let p = Problem::in_cell(kind, column, Some(value), detail);
            let o =
                Outcome::new(3 + i as u64, Status::Invalid, HOSTILE, HOSTILE).with_error(p.text());
            summary.count(&o);
            report.problems.add(&o.line(), &[p]);
        }
        let o = Outcome::new(9, Status::Failed, "R", "OB")
            .with_error(format!("SOME PARAMETERS ARE REQUIRED: {HOSTILE}"))
            .with_kind(Kind::Refused);
        summary.count(&o);
        report.problems.add(&o.line(), &[]);
        (report, summary)
    }

    /// Numeric and named character references alike, as named ones.
    fn named_refs(page: &str) -> String {
        page.replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;")
            .replace("&#34;", "&quot;")
            .replace("&#38;", "&amp;")
    }

    #[test]
    fn hostile_cells_are_escaped_and_huge_ones_cut() {
        let (report, summary) = hostile();
        let page = render(&report, &summary, &facts());
        // The page has no script of its own: any "<script" came from a cell.
        assert!(
            !page.to_lowercase().contains("<script"),
            "an unescaped <script> reached the page"
        );
        let page = named_refs(&page);
        // Shown, escaped: in the problems, the largest balances (HTML) and
        // the chart of types (SVG text).
        assert!(page.matches("&lt;script&gt;alert(").count() >= 4);
        assert!(!page.contains("cobranza\"><b>"), "a quote broke out");
        assert!(page.contains("cobranza&quot;&gt;&lt;b&gt;"));
        assert!(!page.contains("m&m.toml"), "& must be escaped");
        assert!(page.contains("m&amp;m.toml"));
        assert!(page.contains("data-column=\"Fecha&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        // The 5 MB cell: cut, with a mark saying how long it was.
        assert!(page.len() < 300_000, "the page is {} bytes", page.len());
        assert!(page.contains(&"A".repeat(problems::MAX_CELL_CHARS)));
        assert!(!page.contains(&"A".repeat(problems::MAX_CELL_CHARS + 1)));
        assert!(page.contains("[cut: the cell has 5,242,880 characters]"));
    }

    #[test]
    fn the_page_loads_nothing_and_is_recognised_as_ours() {
        let (report, summary) = hostile();
        let page = render(&report, &summary, &facts());
        assert!(page.starts_with("<!DOCTYPE html>"));
        let head = &page[..page.find("</head>").unwrap()];
        assert!(head.contains(GENERATOR_META));
        assert!(
            head.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
        );
        let lower = page.to_lowercase();
        for loads in [
            "src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object", "<embed",
            "srcset",
        ] {
            assert!(!lower.contains(loads), "the page holds {loads}");
        }
        // Every chart drawn, the timeline too.
        for chart in [
            "status",
            "dpd-obligations",
            "dpd-balance",
            "balance-by-type",
            "balance-histogram",
            "timeline",
        ] {
            let at = page
                .find(&format!("data-chart=\"{chart}\""))
                .unwrap_or_else(|| panic!("no {chart}"));
            assert!(page[at..].contains("<svg"), "{chart}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.html");
        write(&path, &report, &summary, &facts()).unwrap();
        assert!(crate::outputs::written_by_us(
            &path,
            crate::outputs::OutputKind::Report
        ));
        assert!(!crate::outputs::written_by_us(
            &path,
            crate::outputs::OutputKind::Results
        ));
    }

    /// A file that takes `room` bytes more, then fails as a full disk does.
    struct FullDisk<'a> {
        file: &'a mut File,
        room: usize,
    }

    impl Write for FullDisk<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
            }
            let n = self.file.write(&buf[..buf.len().min(self.room)])?;
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.file.flush()
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_report_is_written_whole_or_not_at_all() {
        let (report, summary) = hostile();
        let page = render(&report, &summary, &facts());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.html");
        let full = |f: &mut File| {
            FullDisk {
                file: f,
                room: 4096,
            }
            .write_all(page.as_bytes())
        };

        // A disk that fills up halfway: no file, and nothing of it left.
        let e = save(&path, full).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
        assert!(!path.exists(), "a partial report was left");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

        // Written whole, and no temporary file left.
        write(&path, &report, &summary, &facts()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
        assert_eq!(names(dir.path()), ["r.html"]);
        // Replaced whole or not at all: while the page is written, the
        // earlier one is still there.
        let e = replace(&path, |f| {
            assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
            full(f)
        })
        .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
        assert_eq!(names(dir.path()), ["r.html"]);
        // A run whose page cannot be written leaves no report, not the
        // earlier run's, to be taken for its own.
        let e = save(&path, full).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
        assert!(!path.exists(), "an earlier report was left");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

        // The run's message names the report and the cause.
        let shown = crate::tr!(
            "report-unwritable",
            path = path.display().to_string(),
            why = crate::source::open_error(&e)
        );
        assert!(shown.contains(&path.display().to_string()), "{shown}");
        assert!(shown.contains(&e.to_string()), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn a_report_through_a_link_or_into_a_pipe_replaces_neither() {
        let (report, summary) = hostile();
        let page = render(&report, &summary, &facts());
        let dir = tempfile::tempdir().unwrap();
        // A link: the file it points to gets the page; the link stays.
        let target = dir.path().join("target.html");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.html");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, &report, &summary, &facts()).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), page);
        assert_eq!(names(dir.path()), ["link.html", "target.html"]);

        // A pipe is written into, not replaced by a file.
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write(&fifo, &report, &summary, &facts()).unwrap();
        assert_eq!(reader.join().unwrap(), page);
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }

    /// A dry run's page of `rows` valid rows without any report field.
    fn page_of(fields: MappedFields, rows: u64, f: &ReportFields) -> String {
        let mut report = Report::new(fields, None);
        let mut summary = Summary::new(true);
        for row in 2..2 + rows {
            report.portfolio.add_fields(row, "OB", f);
            summary.count(&Outcome::new(row, Status::Valid, "R", "OB"));
        }
        let mut facts = facts();
        facts.dry_run = true;
        render(&report, &summary, &facts)
    }

    #[test]
    fn nothing_is_derived_from_a_field_that_is_not_mapped() {
        let none = MappedFields::default();
        let page = page_of(none, 20, &ReportFields::default());
        let portfolio = &page[page.find("id=\"portfolio\"").unwrap()..];
        // No balance at all, not a balance of zero.
        assert!(!portfolio.contains("total balance of"), "{portfolio}");
        assert!(!portfolio.contains("0.00"), "{portfolio}");
        assert!(portfolio.contains(
            "20 valid obligations. The mapping has no total_balance field, so no balance is shown."
        ));
        // A chart that cannot be drawn for an unmapped field says so, and
        // nothing of rows "left out" for want of it.
        assert!(!portfolio.contains("left out"), "{portfolio}");
        assert!(!portfolio.contains("class=\"note\""), "{portfolio}");
        for (chart, field) in [
            ("dpd-obligations", "days_delay"),
            ("dpd-balance", "days_delay"),
            ("balance-by-type", "portfolio_type"),
            ("balance-histogram", "total_balance"),
            ("largest", "total_balance"),
        ] {
            let at = portfolio
                .find(&format!("data-missing=\"{chart}\">"))
                .unwrap_or_else(|| panic!("{chart} is not said missing"));
            assert!(
                portfolio[at..].starts_with(&format!(
                    "data-missing=\"{chart}\">The mapping has no {field} field"
                )),
                "{chart}"
            );
        }

        // Balances mapped, types not: the largest balances have no column
        // of types; rows without a readable days_delay, mapped, are told.
        let some = MappedFields {
            total_balance: true,
            days_delay: true,
            portfolio_type: false,
        };
        let f = ReportFields {
            total_balance: Some(1500.0),
            ..ReportFields::default()
        };
        let page = page_of(some, 3, &f);
        assert!(page.contains("3 valid obligations, with a total balance of 4,500.00."));
        assert!(page.contains("3 rows without a readable days_delay are left out."));
        let largest = &page[page.find("<table class=\"largest\">").unwrap()..];
        let largest = &largest[..largest.find("</table>").unwrap()];
        assert!(largest.contains("<th>Obligation</th>"));
        assert!(!largest.contains("Portfolio type"), "{largest}");
        assert_eq!(largest.matches("<tr>").count(), 4);
        assert_eq!(largest.matches("<td").count(), 3 * 4, "{largest}");
    }

    #[test]
    fn an_unmapped_field_is_said_not_drawn_empty() {
        let mut report = Report::new(
            MappedFields {
                total_balance: true,
                days_delay: false,
                portfolio_type: false,
            },
            None,
        );
        let f = ReportFields {
            total_balance: Some(10.0),
            ..ReportFields::default()
        };
        report.portfolio.add_fields(2, "A", &f);
        let mut summary = Summary::new(true);
        summary.count(&Outcome::new(2, Status::Valid, "R", "A"));
        let mut facts = facts();
        facts.dry_run = true;
        let page = render(&report, &summary, &facts);
        for chart in ["dpd-obligations", "dpd-balance", "balance-by-type"] {
            assert!(
                page.contains(&format!("data-missing=\"{chart}\"")),
                "{chart}"
            );
        }
        assert!(page.contains("no days_delay field"));
        assert!(page.contains("no portfolio_type field"));
        let at = page.find("data-chart=\"balance-histogram\"").unwrap();
        assert!(page[at..].starts_with("data-chart=\"balance-histogram\">\n<figcaption>"));
        assert!(page[at..page[at..].find("</figure>").unwrap() + at].contains("<svg"));
        assert!(!page.contains("data-chart=\"timeline\""));
    }
}
