//! The page: a view of the run built from the aggregates, every word from
//! the catalogs, rendered by a compile-time template that escapes every
//! value it is given. Only the charts' SVG goes in as it is, and plotters
//! escapes the text inside it.

use super::charts;
use super::format;
use super::portfolio::Portfolio;
use super::problems::{Group, Kind, Shown};
use super::{Report, RunFacts};
use crate::i18n::{language, Lang};
use crate::import::send::Mode;
use crate::import::PlanCounts;
use crate::import::Summary;
use crate::results::Status;
use crate::tr;
use askama::Template;

/// A label and its value.
struct Fact {
    label: String,
    value: String,
    note: Option<String>,
}

impl Fact {
    fn new(label: String, value: String) -> Fact {
        Fact {
            label,
            value,
            note: None,
        }
    }
}

struct StatusRow {
    status: &'static str,
    label: String,
    count: String,
    share: String,
    color: String,
}

struct ExampleView {
    row: String,
    value: String,
    empty: bool,
    cut: Option<String>,
}

struct ProblemView {
    kind: &'static str,
    status: &'static str,
    rows: u64,
    column: Option<String>,
    what: String,
    value: Option<String>,
    count: String,
    message: Option<ExampleView>,
    fix: String,
    value_header: String,
    examples: Vec<ExampleView>,
    more: Option<String>,
}

struct ChartView {
    id: &'static str,
    title: String,
    svg: Option<String>,
    /// Shown instead of the chart: why it cannot be drawn.
    missing: Option<String>,
    note: Option<String>,
}

struct LargestRow {
    rank: usize,
    row: String,
    id: String,
    portfolio_type: String,
    balance: String,
}

struct Legend {
    color: String,
    label: String,
}

/// Fixed words of the page.
struct Words {
    run: String,
    outcome: String,
    status_col: String,
    rows_col: String,
    share_col: String,
    problems: String,
    fix: String,
    row: String,
    portfolio: String,
    largest: String,
    rank: String,
    obligation: String,
    portfolio_type: String,
    balance: String,
    timeline: String,
    footer: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    lang: &'static str,
    title: String,
    subtitle: String,
    exit_class: &'static str,
    exit_code: i32,
    exit_text: String,
    facts: Vec<Fact>,
    status_bar: Option<String>,
    statuses: Vec<StatusRow>,
    figures: Vec<Fact>,
    notes: Vec<String>,
    problems_intro: String,
    problems: Vec<ProblemView>,
    portfolio_intro: String,
    charts: Vec<ChartView>,
    largest: Vec<LargestRow>,
    largest_missing: Option<String>,
    /// The largest balances' table has a column of portfolio types.
    largest_types: bool,
    timeline: Option<ChartView>,
    timeline_legend: Vec<Legend>,
    w: Words,
}

/// Builds the page in the run's language.
pub(super) fn render(report: &Report, summary: &Summary, facts: &RunFacts) -> String {
    let lang = language();
    let page = Page {
        lang: lang.code(),
        title: if facts.dry_run {
            tr!("report-title-dry-run")
        } else {
            tr!("report-title-run")
        },
        subtitle: subtitle(facts),
        exit_class: match summary.exit_code() {
            0 => "ok",
            1 => "warn",
            _ => "bad",
        },
        exit_code: summary.exit_code(),
        exit_text: exit_meaning(summary.exit_code()),
        facts: header_facts(facts, lang),
        status_bar: None,
        statuses: Vec::new(),
        figures: Vec::new(),
        notes: Vec::new(),
        problems_intro: String::new(),
        problems: Vec::new(),
        portfolio_intro: String::new(),
        charts: Vec::new(),
        largest: Vec::new(),
        largest_missing: None,
        largest_types: false,
        timeline: None,
        timeline_legend: Vec::new(),
        w: words(),
    };
    let page = outcome(page, summary, lang);
    let page = problems(page, report, summary, lang);
    let page = portfolio(page, report, lang);
    let page = timeline(page, report, lang);
    page.render().expect("rendering into a String cannot fail")
}

fn words() -> Words {
    Words {
        run: tr!("report-section-run"),
        outcome: tr!("report-section-outcome"),
        status_col: tr!("report-col-status"),
        rows_col: tr!("report-col-rows"),
        share_col: tr!("report-col-share"),
        problems: tr!("report-section-problems"),
        fix: tr!("report-fix-label"),
        row: tr!("report-col-row"),
        portfolio: tr!("report-section-portfolio"),
        largest: tr!("report-chart-largest"),
        rank: tr!("report-col-rank"),
        obligation: tr!("report-col-obligation"),
        portfolio_type: tr!("report-col-portfolio-type"),
        balance: tr!("report-col-balance"),
        timeline: tr!("report-section-timeline"),
        footer: tr!("report-footer", version = env!("CARGO_PKG_VERSION")),
    }
}

fn subtitle(f: &RunFacts) -> String {
    let file = f
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| f.input.display().to_string());
    match (&f.server, f.dry_run) {
        (_, true) => tr!("report-subtitle-dry-run", file = file),
        (Some(server), false) => tr!("report-subtitle-run", file = file, server = server.clone()),
        (None, false) => file,
    }
}

fn exit_meaning(code: i32) -> String {
    match code {
        0 => tr!("report-exit-0"),
        1 => tr!("report-exit-1"),
        2 => tr!("report-exit-2"),
        3 => tr!("report-exit-3"),
        130 => tr!("report-exit-130"),
        _ => String::new(),
    }
}

fn mode_name(mode: Mode) -> String {
    match mode {
        Mode::Insert => tr!("report-mode-insert"),
        Mode::Sync => tr!("report-mode-sync"),
        Mode::Update => tr!("report-mode-update"),
        Mode::Upsert => tr!("report-mode-upsert"),
    }
}

fn header_facts(f: &RunFacts, lang: Lang) -> Vec<Fact> {
    let time = |t: &chrono::DateTime<chrono::Local>| t.format("%Y-%m-%d %H:%M:%S %:z").to_string();
    let elapsed = (f.ended - f.started).to_std().unwrap_or_default();
    let mut v = vec![
        Fact {
            label: tr!("report-fact-input"),
            value: f.input.display().to_string(),
            note: f
                .input_fingerprint
                .as_ref()
                .map(|fp| tr!("report-fact-fingerprint", fingerprint = fp.clone())),
        },
        Fact {
            label: tr!("report-fact-mapping"),
            value: f
                .mapping
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            note: Some(tr!(
                "report-fact-fingerprint",
                fingerprint = format!("{:016x}", f.mapping_fingerprint)
            )),
        },
        Fact::new(tr!("report-fact-operation"), f.operation.clone()),
        Fact::new(
            tr!("report-fact-server"),
            match (&f.server, f.dry_run) {
                (Some(s), false) => s.clone(),
                (Some(s), true) => tr!("report-fact-server-planned", server = s.clone()),
                (None, _) => tr!("report-fact-no-server"),
            },
        ),
    ];
    let mode = match (f.mode, f.dry_run) {
        (Some(m), false) => mode_name(m),
        (Some(m), true) => tr!("report-mode-dry-run-planned", mode = mode_name(m)),
        (None, true) => tr!("report-mode-dry-run"),
        (None, false) => String::new(),
    };
    v.push(Fact::new(tr!("report-fact-mode"), mode));
    v.push(Fact::new(tr!("report-fact-started"), time(&f.started)));
    v.push(Fact::new(tr!("report-fact-ended"), time(&f.ended)));
    v.push(Fact::new(
        tr!("report-fact-duration"),
        format::duration(lang, elapsed),
    ));
    v
}

fn status_label(s: Status) -> String {
    match s {
        Status::Valid => tr!("report-status-valid"),
        Status::Created => tr!("report-status-created"),
        Status::Updated => tr!("report-status-updated"),
        Status::Unchanged => tr!("report-status-unchanged"),
        Status::Invalid => tr!("report-status-invalid"),
        Status::Failed => tr!("report-status-failed"),
        Status::Uncertain => tr!("report-status-uncertain"),
        Status::NotSent => tr!("report-status-not-sent"),
    }
}

fn outcome(mut page: Page, s: &Summary, lang: Lang) -> Page {
    let total = s.rows();
    let counts: Vec<(Status, u64)> = Status::ALL
        .iter()
        .map(|st| (*st, s.get(*st)))
        .filter(|(_, n)| *n > 0)
        .collect();
    page.status_bar = charts::status_bar(&counts).ok().filter(|_| total > 0);
    page.statuses = counts
        .iter()
        .map(|(st, n)| StatusRow {
            status: st.as_str(),
            label: status_label(*st),
            count: format::int(lang, *n),
            share: format!(
                "{} %",
                format::decimal(lang, *n as f64 * 100.0 / total.max(1) as f64, 1)
            ),
            color: charts::css(charts::status_color(*st)),
        })
        .collect();
    if s.no_header {
        page.notes.push(tr!("report-note-no-header"));
    } else if total == 0 {
        page.notes.push(tr!("report-note-no-rows"));
    }
    if s.dry_run {
        match &s.plan {
            Some((mode, p)) => {
                page.notes
                    .push(tr!("report-plan-intro", mode = mode_name(*mode)));
                page.figures = plan_figures(p, lang);
            }
            None => page.notes.push(tr!("report-plan-none")),
        }
    } else {
        page.figures = send_figures(s, lang);
        if s.carried_over > 0 {
            page.notes.push(tr!(
                "report-note-carried",
                count = s.carried_over,
                shown = format::int(lang, s.carried_over)
            ));
        }
    }
    if let Some(why) = &s.stopped {
        page.notes
            .push(tr!("report-note-stopped", why = why.clone()));
    }
    if s.interrupted {
        page.notes.push(tr!("report-note-interrupted"));
    }
    page
}

/// What a real run would send, as a dry run with a ledger counted it.
fn plan_figures(p: &PlanCounts, lang: Lang) -> Vec<Fact> {
    let mut figures = vec![
        Fact::new(tr!("report-plan-new"), format::int(lang, p.new)),
        Fact::new(tr!("report-plan-changed"), format::int(lang, p.changed)),
        Fact::new(tr!("report-plan-unchanged"), format::int(lang, p.unchanged)),
        Fact::new(tr!("report-plan-requests"), format::int(lang, p.requests)),
    ];
    if p.in_doubt > 0 {
        figures.push(Fact::new(
            tr!("report-plan-in-doubt"),
            format::int(lang, p.in_doubt),
        ));
    }
    figures
}

/// What a real run spent: requests, retries, look-ups and the quota.
fn send_figures(s: &Summary, lang: Lang) -> Vec<Fact> {
    let written = (s.get(Status::Created) + s.get(Status::Updated)).saturating_sub(s.carried_over);
    let mut figures = vec![
        Fact::new(tr!("report-fig-requests"), format::int(lang, s.requests)),
        Fact::new(
            tr!("report-fig-per-obligation"),
            if written > 0 {
                format::decimal(lang, s.requests as f64 / written as f64, 2)
            } else {
                "—".into()
            },
        ),
        Fact::new(tr!("report-fig-retries"), format::int(lang, s.retries)),
        Fact::new(tr!("report-fig-lookups"), format::int(lang, s.lookups)),
    ];
    figures.push(match s.quota {
        Some(q) => {
            let used = quota_used(q, s.requests);
            Fact {
                label: tr!("report-fig-quota"),
                value: tr!(
                    "report-fig-quota-value",
                    used = format::int(lang, used),
                    limit = format::int(lang, q.limit),
                    left = format::int(lang, q.limit.saturating_sub(used))
                ),
                note: Some(tr!("report-fig-quota-note")),
            }
        }
        None => Fact::new(tr!("report-fig-quota"), tr!("report-fig-quota-unknown")),
    });
    figures
}

/// The token's requests used today by the end of the run: as read, plus
/// this run's requests but the reading itself, which costs one request and
/// counts itself in the use it answers (that is how the run's budget is
/// capped too: what the answer says is left, no more).
fn quota_used(q: crate::crm::TokenQuota, requests: u64) -> u64 {
    q.used_today.saturating_add(requests.saturating_sub(1))
}

fn kind_words(kind: Kind) -> (String, String) {
    match kind {
        Kind::Empty => (tr!("report-kind-empty"), tr!("report-fix-empty")),
        Kind::NotANumber => (tr!("report-kind-not-number"), tr!("report-fix-not-number")),
        Kind::DecimalSeparator => (
            tr!("report-kind-decimal-separator"),
            tr!("report-fix-decimal-separator"),
        ),
        Kind::NotWhole => (tr!("report-kind-not-whole"), tr!("report-fix-not-whole")),
        Kind::ImpossibleDate => (
            tr!("report-kind-impossible-date"),
            tr!("report-fix-impossible-date"),
        ),
        Kind::NotADate => (tr!("report-kind-not-date"), tr!("report-fix-not-date")),
        Kind::ErrorValue => (
            tr!("report-kind-error-value"),
            tr!("report-fix-error-value"),
        ),
        Kind::WrongType => (tr!("report-kind-wrong-type"), tr!("report-fix-wrong-type")),
        Kind::NotInLookup => (
            tr!("report-kind-not-in-lookup"),
            tr!("report-fix-not-in-lookup"),
        ),
        Kind::LookupNoKey => (
            tr!("report-kind-lookup-no-key"),
            tr!("report-fix-lookup-no-key"),
        ),
        Kind::LookupKeyRounded => (
            tr!("report-kind-lookup-key-rounded"),
            tr!("report-fix-lookup-key-rounded"),
        ),
        Kind::LookupValue => (
            tr!("report-kind-lookup-value"),
            tr!("report-fix-lookup-value"),
        ),
        Kind::LookupValueEmpty => (
            tr!("report-kind-lookup-value-empty"),
            tr!("report-fix-lookup-value-empty"),
        ),
        Kind::Scientific => (tr!("report-kind-scientific"), tr!("report-fix-scientific")),
        Kind::Cell => (tr!("report-kind-cell"), tr!("report-fix-cell")),
        Kind::RowWidth => (tr!("report-kind-row-width"), tr!("report-fix-row-width")),
        Kind::Encoding => (tr!("report-kind-encoding"), tr!("report-fix-encoding")),
        Kind::ForcedEncoding => (
            tr!("report-kind-forced-encoding"),
            tr!("report-fix-forced-encoding"),
        ),
        Kind::UnclosedQuote => (
            tr!("report-kind-unclosed-quote"),
            tr!("report-fix-unclosed-quote"),
        ),
        Kind::Duplicate => (tr!("report-kind-duplicate"), tr!("report-fix-duplicate")),
        Kind::Row => (tr!("report-kind-row"), tr!("report-fix-row")),
        Kind::Exists => (tr!("report-kind-exists"), tr!("report-fix-exists")),
        Kind::GaveUp => (tr!("report-kind-gave-up"), tr!("report-fix-gave-up")),
        Kind::Uncertain => (tr!("report-kind-uncertain"), tr!("report-fix-uncertain")),
        Kind::Refused => (tr!("report-kind-refused"), tr!("report-fix-refused")),
        Kind::Other => (tr!("report-kind-other"), tr!("report-fix-other")),
    }
}

fn shown(lang: Lang, v: &Shown) -> ExampleView {
    ExampleView {
        row: String::new(),
        empty: v.text.trim().is_empty(),
        value: v.text.clone(),
        cut: v
            .cut_from
            .map(|n| tr!("report-cut", chars = format::int(lang, n as u64))),
    }
}

fn problem_view(g: &Group, lang: Lang) -> ProblemView {
    let (what, fix) = match (g.kind, &g.lookup) {
        // Which file: a mapping may look keys up in several.
        (Kind::NotInLookup, Some(file)) => (
            tr!("report-kind-not-in-lookup-file", file = file.as_str()),
            tr!("report-fix-not-in-lookup-file", file = file.as_str()),
        ),
        _ => kind_words(g.kind),
    };
    let first_value = g
        .examples
        .first()
        .filter(|_| g.kind.shows_cell() && g.kind != Kind::Empty)
        .map(|e| e.value.clone())
        .filter(|v| !v.text.is_empty())
        .map(|v| match v.cut_from {
            // The heading quotes the value short; the examples have it whole.
            Some(_) => format!("{}…", v.text.chars().take(40).collect::<String>()),
            None if v.text.chars().count() > 40 => {
                format!("{}…", v.text.chars().take(40).collect::<String>())
            }
            None => v.text,
        });
    let examples = g
        .examples
        .iter()
        .map(|e| ExampleView {
            row: format::int(lang, e.row),
            ..shown(lang, &e.value)
        })
        .collect::<Vec<_>>();
    let more = (g.rows > examples.len() as u64).then(|| {
        let n = g.rows - examples.len() as u64;
        tr!(
            "report-problem-more",
            count = n,
            shown = format::int(lang, n)
        )
    });
    ProblemView {
        kind: g.kind.slug(),
        status: g.status.as_str(),
        rows: g.rows,
        column: g.column.clone(),
        what,
        value: first_value,
        count: tr!(
            "report-rows",
            count = g.rows,
            shown = format::int(lang, g.rows)
        ),
        message: g.message.as_ref().map(|m| shown(lang, m)),
        fix,
        value_header: if g.kind.shows_cell() {
            tr!("report-col-cell")
        } else {
            tr!("report-col-record-obligation")
        },
        examples,
        more,
    }
}

fn problems(mut page: Page, report: &Report, s: &Summary, lang: Lang) -> Page {
    let p = &report.problems;
    page.problems = p
        .groups()
        .into_iter()
        .map(|g| problem_view(g, lang))
        .collect();
    page.problems_intro = if p.rows == 0 {
        tr!("report-problems-none")
    } else {
        tr!(
            "report-problems-intro",
            invalid = format::int(lang, s.get(Status::Invalid)),
            failed = format::int(lang, s.get(Status::Failed) + s.get(Status::Uncertain)),
            kinds = page.problems.len()
        )
    };
    page
}

fn portfolio(mut page: Page, report: &Report, lang: Lang) -> Page {
    let p = &report.portfolio;
    let f = p.fields;
    // Without a total_balance field every balance is "none", not zero:
    // no sum of them is shown.
    page.portfolio_intro = if f.total_balance {
        tr!(
            "report-portfolio-intro",
            count = p.obligations,
            obligations = format::int(lang, p.obligations),
            balance = format::amount(lang, p.balance.value())
        )
    } else {
        tr!(
            "report-portfolio-intro-no-balance",
            count = p.obligations,
            obligations = format::int(lang, p.obligations)
        )
    };
    page.charts = portfolio_charts(p, lang);
    page.largest_types = f.portfolio_type;
    if !f.total_balance {
        page.largest_missing = unmapped("total_balance");
    } else if p.largest.items().is_empty() {
        page.largest_missing = Some(tr!("report-chart-no-rows"));
    }
    page.largest = p
        .largest
        .items()
        .iter()
        .enumerate()
        .map(|(i, m)| LargestRow {
            rank: i + 1,
            row: format::int(lang, m.row),
            id: m.id.clone(),
            portfolio_type: m.portfolio_type.clone().unwrap_or_default(),
            balance: format::amount(lang, m.balance),
        })
        .collect();
    page
}

/// The note for a chart whose field the mapping does not fill.
fn unmapped(field: &str) -> Option<String> {
    Some(tr!("report-chart-unmapped", field = field.to_string()))
}

/// The note for `n` obligations left out of a chart because `field` could
/// not be read.
fn unread(lang: Lang, n: u64, field: &str) -> Option<String> {
    (n > 0).then(|| {
        tr!(
            "report-chart-unread",
            count = n,
            shown = format::int(lang, n),
            field = field.to_string()
        )
    })
}

/// The first of `fields` the mapping does not fill, if any.
fn first_unmapped(fields: &[(bool, &'static str)]) -> Option<&'static str> {
    fields.iter().find(|(ok, _)| !ok).map(|(_, name)| *name)
}

/// One chart: drawn when its fields are mapped and there are obligations,
/// else the reason it is not. Its note (rows left out for want of a
/// readable value) only goes with mapped fields: with none, every row
/// lacks the value, and the reason is that the field is not mapped.
fn chart(
    p: &Portfolio,
    id: &'static str,
    title: String,
    fields: &[(bool, &'static str)],
    draw: &dyn Fn() -> Result<String, String>,
    note: Option<String>,
) -> ChartView {
    let (svg, missing, note) = match first_unmapped(fields) {
        Some(field) => (None, unmapped(field), None),
        None if p.obligations == 0 => (None, Some(tr!("report-chart-no-rows")), note),
        None => match draw() {
            Ok(svg) => (Some(svg), None, note),
            Err(e) => (None, Some(tr!("report-chart-failed", why = e)), note),
        },
    };
    ChartView {
        id,
        title,
        svg,
        missing,
        note,
    }
}

fn portfolio_charts(p: &Portfolio, lang: Lang) -> Vec<ChartView> {
    let f = p.fields;
    let y_obligations = tr!("report-axis-obligations");
    let y_balance = tr!("report-axis-balance");
    vec![
        chart(
            p,
            "dpd-obligations",
            tr!("report-chart-dpd-obligations"),
            &[(f.days_delay, "days_delay")],
            &|| charts::dpd_obligations(p, lang, &y_obligations),
            unread(lang, p.no_dpd.obligations, "days_delay"),
        ),
        chart(
            p,
            "dpd-balance",
            tr!("report-chart-dpd-balance"),
            &[
                (f.days_delay, "days_delay"),
                (f.total_balance, "total_balance"),
            ],
            &|| charts::dpd_balance(p, lang, &y_balance),
            None,
        ),
        chart(
            p,
            "balance-by-type",
            tr!("report-chart-by-type"),
            &[
                (f.portfolio_type, "portfolio_type"),
                (f.total_balance, "total_balance"),
            ],
            &|| {
                charts::balance_by_type(
                    p,
                    lang,
                    &tr!("report-chart-other-types"),
                    &tr!("report-chart-no-type"),
                )
            },
            None,
        ),
        chart(
            p,
            "balance-histogram",
            tr!("report-chart-histogram"),
            &[(f.total_balance, "total_balance")],
            &|| charts::balance_histogram(&p.histogram, lang, &y_obligations),
            histogram_note(p, lang),
        ),
    ]
}

/// What the histogram leaves out: balances not read, and balances outside
/// its range.
fn histogram_note(p: &Portfolio, lang: Lang) -> Option<String> {
    let h = &p.histogram;
    let outside = unread(lang, p.no_balance, "total_balance");
    match (h.below + h.above, outside) {
        (0, o) => o,
        (n, o) => Some(
            [
                o.unwrap_or_default(),
                tr!(
                    "report-chart-histogram-outside",
                    count = n,
                    shown = format::int(lang, n)
                ),
            ]
            .join(" ")
            .trim()
            .to_string(),
        ),
    }
}

fn timeline(mut page: Page, report: &Report, lang: Lang) -> Page {
    let Some(t) = &report.timeline else {
        return page;
    };
    let per = format::duration(lang, t.width());
    let svg = charts::timeline(t, lang, &tr!("report-axis-rows-per-minute"));
    let (retries, throttled): (u64, u64) = t
        .slots()
        .iter()
        .fold((0, 0), |a, s| (a.0 + s.retries, a.1 + s.throttled));
    page.timeline = Some(ChartView {
        id: "timeline",
        title: tr!("report-chart-timeline", interval = per),
        missing: svg
            .as_ref()
            .err()
            .map(|e| tr!("report-chart-failed", why = e.clone())),
        svg: svg.ok(),
        note: Some(tr!(
            "report-timeline-note",
            retries = format::int(lang, retries),
            throttled = format::int(lang, throttled)
        )),
    });
    let [sent, settled, retry, throttle] = charts::timeline_colors();
    page.timeline_legend = vec![
        Legend {
            color: sent,
            label: tr!("report-timeline-sent"),
        },
        Legend {
            color: settled,
            label: tr!("report-timeline-settled"),
        },
        Legend {
            color: retry,
            label: tr!("report-timeline-retries"),
        },
        Legend {
            color: throttle,
            label: tr!("report-timeline-throttled"),
        },
    ];
    page
}
