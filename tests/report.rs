//! `--report`: the page of a run, opened in a real browser.
//!
//! Headless Chromium (Debian's `chromium`) renders the report of the bundled
//! sample's dry run and of a rehearsal against the fake CRM with every
//! network request made to fail, and the tests check what a person would
//! see: the counts per status and per problem equal the results file's,
//! every chart is drawn, the screenshot is not blank, nothing is wider than
//! the window, and the page's Content-Security-Policy blocks any load. Where
//! `/usr/bin/chromium` is absent the browser checks are skipped, with a
//! notice, except in CI (`.ci/run` installs it), where its absence fails the
//! test; the checks of the file itself always run.

mod common;

use common::{in_ci, read_results, FakeServer, ResultRow, Run, Workdir};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wolkvox_import::fake_crm::FakeCrmOptions;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The width the page must fit in.
const WIDTH: u32 = 1280;

/// The charts every report with a mapped portfolio draws.
const PORTFOLIO_CHARTS: [&str; 5] = [
    "status",
    "dpd-obligations",
    "dpd-balance",
    "balance-by-type",
    "balance-histogram",
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Headless Chromium with a fresh profile per run.
struct Browser {
    profiles: Workdir,
    runs: AtomicUsize,
}

impl Browser {
    fn find() -> Option<Browser> {
        if Path::new(CHROMIUM).exists() {
            Some(Browser {
                profiles: Workdir::new(),
                runs: AtomicUsize::new(0),
            })
        } else {
            assert!(
                !in_ci(),
                "{CHROMIUM} is absent: the report's browser checks must run in CI"
            );
            eprintln!(
                "notice: {CHROMIUM} is absent: the browser checks of the report are SKIPPED \
                 (install Debian's chromium package to run them)"
            );
            None
        }
    }

    /// Runs Chromium on `page` with `args`; `offline` makes every network
    /// request fail (an unreachable proxy, names that do not resolve).
    /// Returns stdout.
    fn run(&self, page: &Path, args: &[&str], offline: bool) -> String {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        let profile = self.profiles.path(&format!("profile-{n}"));
        let mut cmd = Command::new(CHROMIUM);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
        if offline {
            cmd.args([
                "--proxy-server=http://127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND",
            ]);
        }
        cmd.args(args)
            .arg(format!("file://{}", page.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start chromium");
        let mut out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        loop {
            match child.try_wait().unwrap() {
                Some(_) => break,
                None if started.elapsed() > Duration::from_secs(60) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("chromium did not finish within 60 s on {}", page.display());
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        reader.join().unwrap()
    }

    /// The DOM after load, rendered with networking disabled.
    fn dump_dom(&self, page: &Path) -> String {
        let dom = self.run(
            page,
            &[&format!("--window-size={WIDTH},900"), "--dump-dom"],
            true,
        );
        assert!(
            dom.contains("</html>"),
            "no DOM for {}: {dom}",
            page.display()
        );
        dom
    }

    /// A screenshot `WIDTH` wide, with networking disabled.
    fn screenshot(&self, page: &Path, png: &Path) {
        self.run(
            page,
            &[
                &format!("--window-size={WIDTH},1600"),
                &format!("--screenshot={}", png.display()),
            ],
            true,
        );
        assert!(png.exists(), "no screenshot of {}", page.display());
    }
}

/// The attributes and text of every element `<TAG ...>` that carries
/// `marker`, up to its closing tag: (the opening tag, the inner HTML).
fn elements<'a>(dom: &'a str, tag: &str, marker: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{tag} ");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = dom[at..].find(&open).map(|i| i + at) {
        let tag_end = i + dom[i..].find('>').unwrap();
        let head = &dom[i..=tag_end];
        let end = tag_end + dom[tag_end..].find(&close).expect("closed");
        if head.contains(marker) {
            out.push((head, &dom[tag_end + 1..end]));
        }
        at = tag_end;
    }
    out
}

fn attr<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let i = head.find(&key)? + key.len();
    Some(&head[i..i + head[i..].find('"')?])
}

/// The digits of a number as the page writes it (`1.234`, `1,234`).
fn number(text: &str) -> u64 {
    let digits: String = text
        .chars()
        .take_while(|c| !c.is_alphabetic())
        .filter(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number in {text:?}"))
}

/// The text inside the first element of class `class` in `html`.
fn text_of<'a>(html: &'a str, class: &str) -> &'a str {
    let key = format!("class=\"{class}\"");
    let i = html
        .find(&key)
        .unwrap_or_else(|| panic!("no .{class} in {html}"))
        + key.len();
    let start = i + html[i..].find('>').unwrap() + 1;
    &html[start..start + html[start..].find('<').unwrap()]
}

/// Rows per status in the results file.
fn status_counts(results: &[ResultRow]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in results {
        *m.entry(r["status"].clone()).or_default() += 1;
    }
    m
}

/// The problems a results file holds: one per bad cell of an invalid row
/// (the mapping joins them with `; column "`, or `; columna "` in Spanish:
/// `column` is the word the run's language says it with), one per failed
/// or uncertain row.
fn problem_parts(results: &[ResultRow], status: &str, column: &str) -> u64 {
    results
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| match status {
            "invalid" => 1 + r["error"].matches(&format!("; {column} \"")).count() as u64,
            _ => 1,
        })
        .sum()
}

/// What a person sees in the page equals what the results file says;
/// `column` is the word the run's language names a column with.
fn check_page_against_results(dom: &str, results: &[ResultRow], charts: &[&str], column: &str) {
    // Counts per status, as shown in the table.
    let shown: BTreeMap<String, u64> = elements(dom, "tr", "data-status=")
        .into_iter()
        .map(|(head, inner)| {
            (
                attr(head, "data-status").unwrap().to_string(),
                number(text_of(inner, "num status-count")),
            )
        })
        .collect();
    assert_eq!(
        shown,
        status_counts(results),
        "status counts shown vs the results file"
    );

    // Problems: each group's count as shown; every example row is a row of
    // that status in the results, naming the group's column; the groups add
    // up to every problem in the results.
    let by_row: BTreeMap<u64, &ResultRow> = results
        .iter()
        .map(|r| (r["row"].parse().unwrap(), r))
        .collect();
    let mut per_status: BTreeMap<String, u64> = BTreeMap::new();
    let groups = elements(dom, "article", "class=\"problem\"");
    for (head, inner) in &groups {
        let status = attr(head, "data-status").unwrap();
        let rows: u64 = attr(head, "data-rows").unwrap().parse().unwrap();
        assert_eq!(
            number(text_of(inner, "count")),
            rows,
            "shown count of {head}"
        );
        *per_status.entry(status.to_string()).or_default() += rows;
        let examples = elements(inner, "td", "example-row");
        assert!(
            !examples.is_empty() && examples.len() as u64 <= rows.min(5),
            "{head}"
        );
        for (_, row) in examples {
            let r = by_row[&number(row)];
            assert_eq!(r["status"], status, "row {row} under {head}");
            if let Some(col) = attr(head, "data-column") {
                assert!(
                    r["error"].contains(&format!("{column} \"{col}\"")),
                    "row {row}: {}",
                    r["error"]
                );
            }
        }
    }
    for status in ["invalid", "failed", "uncertain"] {
        assert_eq!(
            per_status.get(status).copied().unwrap_or(0),
            problem_parts(results, status, column),
            "{status} problems shown vs the results file"
        );
    }

    // Every chart drawn, as SVG.
    for chart in charts {
        let figure = elements(dom, "figure", &format!("data-chart=\"{chart}\""));
        assert_eq!(figure.len(), 1, "chart {chart}");
        assert!(figure[0].1.contains("<svg"), "chart {chart} has no SVG");
        assert!(figure[0].1.contains("<rect"), "chart {chart} draws nothing");
    }
    assert!(
        !dom.contains("data-missing="),
        "a chart says its field is not mapped"
    );
}

/// The screenshot is `WIDTH` wide and not blank: a good share of it is ink,
/// in many colours (text, the bars of the charts).
fn check_screenshot(png: &Path) {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.width, WIDTH, "screenshot width");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels = buf[..info.line_size * info.height as usize].chunks(channels);
    let mut ink = 0u64;
    let mut total = 0u64;
    let mut colours = std::collections::HashSet::new();
    for p in pixels {
        total += 1;
        if p[0] < 200 || p[1] < 200 || p[2] < 200 {
            ink += 1;
        }
        colours.insert((p[0] >> 4, p[1] >> 4, p[2] >> 4));
    }
    let share = ink as f64 / total as f64;
    assert!(
        share > 0.02,
        "the screenshot is blank: {:.2}% ink",
        share * 100.0
    );
    assert!(
        colours.len() > 20,
        "the screenshot has {} colours",
        colours.len()
    );
}

/// The page laid out at `WIDTH` is no wider than the window: a copy with a
/// one-line script that writes the widths into the DOM (the page itself
/// has no script, and its policy would refuse one).
fn check_width(browser: &Browser, wd: &Workdir, page: &Path) {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = html
        .replacen("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
        .replacen(
            "</body>",
            "<script>var d = document.documentElement; document.body.setAttribute('data-layout', [d.scrollWidth, d.clientWidth, window.innerWidth].join(' '));</script></body>",
            1,
        );
    let copy = wd.write("layout-probe.html", probe);
    let dom = browser.dump_dom(&copy);
    let layout = attr(&dom[dom.find("<body").unwrap()..], "data-layout").expect("the probe ran");
    let w: Vec<u32> = layout.split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(w[2], WIDTH, "the window is {WIDTH} px wide: {layout}");
    assert!(
        w[0] <= w[1],
        "the page is {} px wide in a {} px window",
        w[0],
        w[1]
    );
}

/// Every text of every chart lies inside its chart as the browser sets it,
/// in its own font: a copy with a one-line script that writes the texts
/// found outside into the DOM.
fn check_text_inside_charts(browser: &Browser, wd: &Workdir, page: &Path) {
    let html = std::fs::read_to_string(page).unwrap();
    let script = "<script>var bad = []; \
        document.querySelectorAll('figure svg').forEach(function (s) { \
          var r = s.getBoundingClientRect(); \
          s.querySelectorAll('text').forEach(function (t) { \
            var b = t.getBoundingClientRect(); \
            if (t.textContent.trim() && (b.left < r.left - 0.5 || b.right > r.right + 0.5 \
                || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5)) \
              bad.push(t.textContent.trim() + ' at ' + Math.round(b.left - r.left) + '..' \
                + Math.round(b.right - r.left) + ' of ' + Math.round(r.width)); \
          }); \
        }); \
        document.body.setAttribute('data-outside', bad.length + ': ' + bad.join(' | '));\
        </script></body>";
    let probe = html
        .replacen(
            "default-src 'none';",
            "default-src 'none'; script-src 'unsafe-inline';",
            1,
        )
        .replacen("</body>", script, 1);
    let copy = wd.write("text-probe.html", probe);
    let dom = browser.dump_dom(&copy);
    let outside = attr(&dom[dom.find("<body").unwrap()..], "data-outside").expect("the probe ran");
    assert_eq!(
        outside,
        "0: ",
        "texts outside their chart in {}",
        page.display()
    );
}

/// A server on loopback that counts the connections it is asked for.
struct Probe {
    port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Probe {
    fn start() -> Probe {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        h.fetch_add(1, Ordering::SeqCst);
                        let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
                        let _ = conn.read(&mut [0u8; 1024]);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Probe { port, hits, stop }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The policy in the page's head is what stops a load: the same page with
/// an image and a style sheet on a loopback server asks that server for
/// nothing, and does once the policy is taken out (so the probe would see
/// a load if one were made).
fn check_policy_blocks_loads(browser: &Browser, wd: &Workdir, page: &Path) {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = Probe::start();
    let loads = format!(
        "<img src=\"http://127.0.0.1:{0}/probe.png\" alt=\"\"><link rel=\"stylesheet\" href=\"http://127.0.0.1:{0}/probe.css\"></body>",
        probe.port
    );
    let with_policy = wd.write("policy-kept.html", html.replacen("</body>", &loads, 1));
    browser.run(
        &with_policy,
        &[&format!("--window-size={WIDTH},900"), "--dump-dom"],
        false,
    );
    assert_eq!(
        probe.hits.load(Ordering::SeqCst),
        0,
        "the policy let a load through"
    );

    let csp = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp + html[csp..].find('>').unwrap() + 1;
    let without = format!("{}{}", &html[..csp], &html[csp_end..]).replacen("</body>", &loads, 1);
    let without_policy = wd.write("policy-removed.html", without);
    browser.run(
        &without_policy,
        &[&format!("--window-size={WIDTH},900"), "--dump-dom"],
        false,
    );
    assert!(
        probe.hits.load(Ordering::SeqCst) > 0,
        "the probe saw no load even without the policy"
    );
}

/// What every report file holds, browser or not.
fn check_file(page: &Path) -> String {
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<meta name=\"generator\" content=\"wolkvox-import\">"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none';"));
    let lower = html.to_lowercase();
    for loads in [
        "<script", "src=", "href=", "url(", "@import", "<link", "<img",
    ] {
        assert!(!lower.contains(loads), "the report holds {loads}");
    }
    html
}

#[test]
fn the_samples_dry_run_report_shows_what_the_results_say() {
    let wd = Workdir::new();
    let run = wd.run(&[
        "--lang",
        "es",
        "import",
        repo("samples/cartera.csv").to_str().unwrap(),
        "--mapping",
        repo("mappings/cartera.toml").to_str().unwrap(),
        "--dry-run",
        "--output",
        "results.csv",
        "--report",
        "report.html",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let page = wd.path("report.html");
    let html = check_file(&page);
    assert!(html.contains("<html lang=\"es\">"));
    assert!(
        html.contains("Obligaciones por días de mora"),
        "the page is in Spanish"
    );
    // The sample's six bad rows, each its own kind, headed like
    // "Fecha Vencimiento: impossible date (31/02/2024), 212 rows".
    assert!(html.contains("<span class=\"column\">Fecha Vencimiento</span>: fecha imposible (<span class=\"value\">31/02/2024</span>)"));
    let results = read_results(&wd.path("results.csv"));

    let Some(browser) = Browser::find() else {
        return;
    };
    let started = Instant::now();
    let dom = browser.dump_dom(&page);
    check_page_against_results(&dom, &results, &PORTFOLIO_CHARTS, "columna");
    assert_eq!(elements(&dom, "article", "class=\"problem\"").len(), 6);
    let png = wd.path("report.png");
    browser.screenshot(&page, &png);
    check_screenshot(&png);
    check_width(&browser, &wd, &page);
    check_text_inside_charts(&browser, &wd, &page);
    check_policy_blocks_loads(&browser, &wd, &page);
    eprintln!(
        "browser checks of the sample's report: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

const TOKEN: &str = "report-token";

const MAPPING: &str = r#"
[request]
operation = "cobranza"

[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligacion"
name = "Producto"
total_balance = { column = "Saldo Total", type = "number" }
portfolio_type = "Tipo Cartera"
expiring_date = { column = "Fecha Vencimiento", type = "date", formats = ["%d/%m/%Y"] }
days_delay = { column = "Dias Mora", type = "integer" }
"#;

/// `rows` obligations; `changed` ones (1-based) get another balance, `bad`
/// ones an impossible due date.
fn portfolio(rows: usize, changed: &[usize], bad: &[usize]) -> String {
    let mut out = String::from("ID Registro,Nro Obligacion,Producto,Saldo Total,Tipo Cartera,Fecha Vencimiento,Dias Mora\n");
    let types = ["Consumo", "Vivienda", "Comercial", "Microcrédito"];
    for i in 1..=rows {
        let balance =
            (i * i * 7919) % 90_000_000 + 150_000 + if changed.contains(&i) { 1 } else { 0 };
        let due = if bad.contains(&i) {
            "31/02/2024".to_string()
        } else {
            format!("{:02}/05/2024", 1 + i % 28)
        };
        out.push_str(&format!(
            "REC-{},OB-{i:05},Tarjeta {i},{balance}.25,{},{due},{}\n",
            i % 9,
            types[i % types.len()],
            (i * 37) % 500
        ));
    }
    out
}

/// `import input` sent to `fake` under [`TOKEN`], messages in `lang`,
/// results in `output` and the page in `report`, then `extra`.
fn send_with_report(
    wd: &Workdir,
    fake: &FakeServer,
    lang: &str,
    [input, output, report]: [&str; 3],
    extra: &[&str],
) -> Run {
    let base = fake.base_url();
    let mut args = vec![
        "--lang",
        lang,
        "import",
        input,
        "--mapping",
        "map.toml",
        "--server",
        &base,
        "--output",
        output,
        "--report",
        report,
    ];
    args.extend_from_slice(extra);
    let mut cmd = wd.command(&args);
    cmd.env("WOLKVOX_TOKEN", TOKEN);
    Run::from(cmd.output().unwrap())
}

#[test]
fn a_rehearsals_report_shows_its_outcome_and_pace() {
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        busy_rate: 0.15,
        seed: 11,
        ..Default::default()
    });
    let wd = Workdir::new();
    wd.write("map.toml", MAPPING);
    let base = fake.base_url();
    let import = |input: &str, report: &str| {
        let output = format!("{input}.results.csv");
        send_with_report(&wd, &fake, "en", [input, &output, report], &[])
    };
    // Yesterday's file sent the first 20; today's changes two of them and
    // has three bad dates among the new ones.
    wd.write("yesterday.csv", portfolio(20, &[], &[]));
    let first = import("yesterday.csv", "yesterday.html");
    assert_eq!(first.code, 0, "{first:?}");
    wd.write("today.csv", portfolio(60, &[4, 7], &[25, 33, 51]));
    let requests_before = fake.stats().requests;
    let run = import("today.csv", "today.html");
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("today.csv.results.csv"));
    let counts = status_counts(&results);
    assert_eq!(counts["unchanged"], 18);
    assert_eq!(
        counts["failed"], 2,
        "insert mode met two changed obligations"
    );
    assert_eq!(counts["invalid"], 3);
    assert_eq!(counts["created"], 37);

    let page = wd.path("today.html");
    let html = check_file(&page);
    assert!(html.contains("<html lang=\"en\">"));
    let requests = fake.stats().requests - requests_before;
    let shown = elements(&html, "dl", "class=\"facts figures\"")[0].1;
    let made = &shown[shown.find("Requests made</dt><dd>").unwrap() + 22..];
    assert_eq!(
        number(made),
        requests,
        "requests shown vs what the fake counted"
    );

    // A dry run without --server plans for the one server the ledger
    // knows, and its report names it as planned, not as sent to.
    let dry = common::Run::from(
        wd.command(&[
            "--lang",
            "en",
            "import",
            "today.csv",
            "--mapping",
            "map.toml",
            "--dry-run",
            "--output",
            "dry.results.csv",
            "--report",
            "dry.html",
        ])
        .output()
        .unwrap(),
    );
    assert_eq!(dry.code, 1, "{dry:?}");
    let dry_html = check_file(&wd.path("dry.html"));
    let host = reqwest::Url::parse(&base).unwrap();
    let host = host.host_str().unwrap();
    assert!(
        dry_html.contains(&format!(
            "<dt>Server</dt><dd>{host} (dry run: nothing was sent)</dd>"
        )),
        "{}",
        elements(&dry_html, "dl", "class=\"facts\"")
            .first()
            .map_or("", |e| e.1)
    );
    assert!(
        dry_html.contains("dry run, planned for insert"),
        "{dry_html}"
    );

    let Some(browser) = Browser::find() else {
        return;
    };
    let started = Instant::now();
    let dom = browser.dump_dom(&page);
    let mut charts = PORTFOLIO_CHARTS.to_vec();
    charts.push("timeline");
    check_page_against_results(&dom, &results, &charts, "column");
    let exists = elements(&dom, "article", "data-kind=\"exists\"");
    assert_eq!(attr(exists[0].0, "data-rows"), Some("2"));
    let png = wd.path("today.png");
    browser.screenshot(&page, &png);
    check_screenshot(&png);
    check_width(&browser, &wd, &page);
    check_text_inside_charts(&browser, &wd, &page);
    eprintln!(
        "browser checks of the rehearsal's report: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_report_path_is_checked_like_the_other_outputs() {
    let wd = Workdir::new();
    let args = |report: &str, force: bool| {
        let mut a = vec![
            "import".to_string(),
            repo("samples/cartera.csv").display().to_string(),
            "--mapping".into(),
            repo("mappings/cartera.toml").display().to_string(),
            "--dry-run".into(),
            "--output".into(),
            "results.csv".into(),
            "--report".into(),
            report.into(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let run = |a: Vec<String>| wd.run(&a.iter().map(String::as_str).collect::<Vec<_>>());

    wd.write(
        "notes.html",
        "<!DOCTYPE html><html><head><title>Mis notas</title></head></html>\n",
    );
    let refused = run(args("notes.html", false));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("--report") && refused.stderr.contains("--force"),
        "{refused:?}"
    );
    assert!(
        wd.read("notes.html").contains("Mis notas"),
        "the file was left alone"
    );

    assert_eq!(run(args("notes.html", true)).code, 1);
    check_file(&wd.path("notes.html"));
    // Our own report is replaced without --force.
    assert_eq!(run(args("notes.html", false)).code, 1);
    let same = run(args("results.csv", false));
    assert_eq!(same.code, 2, "{same:?}");
    assert!(same.stderr.contains("--output and --report"), "{same:?}");
}

#[test]
fn rows_the_workers_give_up_on_are_grouped_as_such_in_spanish() {
    // Every request answered 503: each row is tried twice, then given up.
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        fail_rate: 1.0,
        ..Default::default()
    });
    let wd = Workdir::new();
    wd.write("map.toml", MAPPING);
    wd.write("cartera.csv", portfolio(3, &[], &[2]));
    let run = send_with_report(
        &wd,
        &fake,
        "es",
        ["cartera.csv", "results.csv", "report.html"],
        &["--max-retries", "1", "--breaker", "10"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(status_counts(&results)["failed"], 2, "{results:?}");
    for r in results.iter().filter(|r| r["status"] == "failed") {
        assert!(
            r["error"].starts_with("se abandonó tras 2 intentos"),
            "{r:?}"
        );
    }
    let html = check_file(&wd.path("report.html"));
    let group = |kind: &str| {
        elements(&html, "article", &format!("data-kind=\"{kind}\""))
            .iter()
            .map(|(head, _)| {
                (
                    attr(head, "data-status").unwrap().to_string(),
                    attr(head, "data-rows").unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(group("gave-up"), [("failed".to_string(), "2".to_string())]);
    assert_eq!(
        group("impossible-date"),
        [("invalid".to_string(), "1".to_string())]
    );
    assert!(group("refused").is_empty(), "{html}");
    // What the page says of the group is Spanish too.
    let gave_up = elements(&html, "article", "data-kind=\"gave-up\"");
    assert!(
        gave_up[0]
            .1
            .contains("el servidor siguió fallando tras varios intentos"),
        "{}",
        gave_up[0].1
    );
}

/// The page names the input by the xxh3 of its bytes: taken as a CSV is
/// read (raw bytes, before any decoding, a BOM included), or by reading a
/// workbook again.
#[test]
fn the_page_names_the_input_by_the_fingerprint_of_its_bytes() {
    let wd = Workdir::new();
    wd.write(
        "m.toml",
        "[source]\nencoding = \"windows-1252\"\n[request]\noperation = \"cobranza\"\n\
         [fields]\nwolkvox_id = \"Registro\"\nid = \"Nro\"\n",
    );
    let mut csv = b"Registro;Nro;Ciudad\r\n".to_vec();
    for i in 0..3000 {
        csv.extend_from_slice(format!("R{i};{i};Bogot").as_bytes());
        csv.push(0xE1); // á in Windows-1252
        csv.extend_from_slice(b"\r\n");
    }
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "Registro").unwrap();
    sheet.write_string(0, 1, "Nro").unwrap();
    sheet.write_string(1, 0, "R1").unwrap();
    sheet.write_string(1, 1, "7").unwrap();
    let xlsx = wb.save_to_buffer().unwrap();
    let cases = [
        ("cartera.csv", csv),
        ("bom.csv", {
            let mut b = b"\xEF\xBB\xBF".to_vec();
            b.extend_from_slice(b"Registro;Nro\nR1;1\nR1;2\n");
            b
        }),
        ("cartera.xlsx", xlsx),
    ];
    for (name, bytes) in cases {
        let input = wd.write(name, &bytes);
        let mapping = if name != "cartera.csv" {
            wd.write(
                "m8.toml",
                "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"Registro\"\nid = \"Nro\"\n",
            )
        } else {
            wd.path("m.toml")
        };
        let page = format!("{name}.html");
        let run = wd.run(&[
            "import",
            input.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--dry-run",
            "-o",
            &format!("{name}.results.csv"),
            "--report",
            &page,
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        let expected = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes));
        assert!(
            wd.read(&page).contains(&format!("fingerprint {expected}")),
            "{name}: the page should name the input by {expected}"
        );
    }
}

/// What the server itself says of the token's use today, asked once the
/// run is over; the question costs one request, which its answer counts.
fn server_quota_used(fake: &FakeServer) -> u64 {
    use std::io::Write;
    let mut conn = std::net::TcpStream::connect(fake.local_addr()).unwrap();
    write!(
        conn,
        "GET /server/API/v2/token/tokenInformation.php?operation=cobranza HTTP/1.1\r\n\
         Host: 127.0.0.1\r\nwolkvox-token: {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let body = &answer[answer.find("\r\n\r\n").expect("an HTTP answer") + 4..];
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{answer}"));
    v["data"]["token_use_today"]
        .as_u64()
        .expect("token_use_today")
        - 1
}

/// The quota as an English page shows it: (used, limit, left).
fn quota_shown(html: &str) -> (u64, u64, u64) {
    let figures = elements(html, "dl", "class=\"facts figures\"")[0].1;
    let key = "daily quota</dt><dd>";
    let at = figures
        .find(key)
        .unwrap_or_else(|| panic!("no quota in {figures}"))
        + key.len();
    let value = &figures[at..at + figures[at..].find('<').unwrap()];
    let n: Vec<u64> = value
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace(',', "").parse().unwrap())
        .collect();
    assert!(
        value.contains(" used; ") && n.len() == 3,
        "the quota reads {value:?}"
    );
    (n[0], n[1], n[2])
}

/// The quota the page shows is the server's own count: the reading before
/// the first request counts itself, and is not counted again among the
/// run's requests; a second run starts from what the first used.
#[test]
fn the_quota_shown_is_what_the_server_counted() {
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        daily_limit: Some(100),
        ..Default::default()
    });
    let wd = Workdir::new();
    wd.write("map.toml", MAPPING);
    let import = |input: &str| {
        let (output, report) = (format!("{input}.results.csv"), format!("{input}.html"));
        send_with_report(&wd, &fake, "en", [input, &output, &report], &[])
    };
    wd.write("ten.csv", portfolio(10, &[], &[]));
    let run = import("ten.csv");
    assert_eq!(run.code, 0, "{run:?}");
    // The reading and ten inserts.
    assert_eq!(server_quota_used(&fake), 11);
    assert_eq!(quota_shown(&wd.read("ten.csv.html")), (11, 100, 89));

    // The same ten and five more: the reading (which cost the question
    // asked above too) and five inserts.
    wd.write("fifteen.csv", portfolio(15, &[], &[]));
    let run = import("fifteen.csv");
    assert_eq!(run.code, 0, "{run:?}");
    let used = server_quota_used(&fake);
    assert_eq!(used, 11 + 1 + 1 + 5);
    assert_eq!(
        quota_shown(&wd.read("fifteen.csv.html")),
        (used, 100, 100 - used)
    );
}

/// A run that uses the whole quota shows it used, not more.
#[test]
fn a_quota_used_up_is_shown_whole_not_more() {
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        daily_limit: Some(10),
        ..Default::default()
    });
    let wd = Workdir::new();
    wd.write("map.toml", MAPPING);
    wd.write("cartera.csv", portfolio(30, &[], &[]));
    let run = send_with_report(
        &wd,
        &fake,
        "en",
        ["cartera.csv", "results.csv", "report.html"],
        &[],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let counts = status_counts(&read_results(&wd.path("results.csv")));
    assert_eq!(counts["created"], 9, "{counts:?}");
    assert_eq!(fake.stats().requests, 10);
    assert_eq!(quota_shown(&wd.read("report.html")), (10, 10, 0));
}

/// Portfolio types of any length are named inside their chart: cut to the
/// room left of their bars, whole in a tooltip; and no chart's text, with
/// amounts in the trillions, falls outside it in a real browser.
#[test]
fn long_portfolio_types_stay_inside_their_chart() {
    let wd = Workdir::new();
    wd.write("map.toml", MAPPING);
    let types = [
        "Consumo",
        &"W".repeat(70),
        "Libranza pensionados Colpensiones y Fuerzas Militares de Colombia",
        "消費者ローン（個人向け）長期延滞債権の回収",
        "Tarjeta <b>\"Oro\"</b> & 'Platino' empresarial internacional",
    ];
    let mut csv = String::from(
        "ID Registro,Nro Obligacion,Producto,Saldo Total,Tipo Cartera,Fecha Vencimiento,Dias Mora\n",
    );
    for i in 0..40 {
        let t = types[i % types.len()].replace('"', "\"\"");
        csv.push_str(&format!(
            "REC-{i},OB-{i:05},Tarjeta,{}.50,\"{t}\",01/05/2024,{}\n",
            90_000_000_000u64 * (1 + i as u64 % 7),
            i * 29 % 700
        ));
    }
    wd.write("cartera.csv", csv);
    let run = wd.run(&[
        "--lang",
        "es",
        "import",
        "cartera.csv",
        "--mapping",
        "map.toml",
        "--dry-run",
        "--output",
        "results.csv",
        "--report",
        "report.html",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let page = wd.path("report.html");
    let html = check_file(&page);
    let figure = elements(&html, "figure", "data-chart=\"balance-by-type\"")[0].1;
    let names: Vec<&str> = figure
        .match_indices("<g class=\"type-label\">")
        .map(|(at, _)| &figure[at..at + figure[at..].find("</g>").unwrap()])
        .collect();
    assert_eq!(names.len(), types.len(), "{figure}");
    // The short name whole; the long ones cut, each whole in its tooltip.
    assert!(names
        .iter()
        .any(|n| n.ends_with(">Consumo</text>") && !n.contains("<title>")));
    for long in &types[1..] {
        let escaped = long
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        let name = names
            .iter()
            .find(|n| n.contains(&format!("<title>{escaped}</title>")))
            .unwrap_or_else(|| panic!("no tooltip for {long}: {figure}"));
        assert!(name.ends_with("…</text>"), "{name}");
    }
    assert!(!figure.contains("<b>"), "{figure}");

    let Some(browser) = Browser::find() else {
        return;
    };
    check_text_inside_charts(&browser, &wd, &page);
}

/// The pace chart's `<svg>`: its bars and marks, nothing else of the page.
fn pace_chart(html: &str) -> &str {
    let section = elements(html, "section", "id=\"timeline\"")
        .first()
        .unwrap_or_else(|| panic!("no pace chart in the page"))
        .1;
    let at = section.find("<svg").expect("the pace chart's svg");
    &section[at..at + section[at..].find("</svg>").expect("a whole svg")]
}

/// True when the pace chart draws a bar of rows settled without a
/// request: in their colour, the one the legend gives them.
fn draws_settled_rows(html: &str) -> bool {
    let section = elements(html, "section", "id=\"timeline\"")[0].1;
    let legend = &section[section.find("class=\"legend\"").expect("a legend")..];
    let colour = legend
        .split("background: ")
        .nth(2)
        .and_then(|s| s.split('"').next())
        .expect("the legend's second colour")
        .to_ascii_lowercase();
    assert!(
        section.contains("Rows settled without a request"),
        "{section}"
    );
    pace_chart(html)
        .to_ascii_lowercase()
        .contains(&format!("fill=\"{colour}\""))
}

/// Rows a run never got to (`not_sent`, after a signal or a spent quota)
/// are not drawn as rows settled without a request, and the page words an
/// interruption by any signal as the summary does, not as a Ctrl-C.
#[cfg(unix)]
#[test]
fn rows_never_sent_are_not_in_the_pace_and_a_signal_is_not_called_ctrl_c() {
    let fake = FakeServer::start(FakeCrmOptions {
        token: TOKEN.into(),
        latency: Duration::from_millis(5),
        ..Default::default()
    });
    let wd = Workdir::new();
    wd.write("map.toml", MAPPING);
    wd.write("cartera.csv", portfolio(400, &[], &[]));
    let import = |report: &str, extra: &[&str]| {
        let base = fake.base_url();
        let mut args = vec![
            "import",
            "cartera.csv",
            "--mapping",
            "map.toml",
            "--server",
            &base,
            "--output",
            "results.csv",
            "--report",
            report,
        ];
        args.extend_from_slice(extra);
        let mut cmd = wd.command(&args);
        cmd.env("WOLKVOX_TOKEN", TOKEN);
        cmd
    };
    let mut child = common::Running::spawn(import("hup.html", &[]));
    common::wait_until("20 obligations stored", || {
        assert!(child.is_running(), "ended early: {}", child.stderr());
        fake.stats().inserts >= 20
    });
    child.signal(libc::SIGHUP);
    let run = child.wait();
    assert_eq!(run.code, 130, "{run:?}");
    assert!(
        run.stderr.contains("the run was interrupted"),
        "{}",
        run.stderr
    );
    let counts = status_counts(&read_results(&wd.path("results.csv")));
    assert!(
        counts.get("not_sent").copied().unwrap_or(0) > 0,
        "{counts:?}"
    );
    let html = check_file(&wd.path("hup.html"));
    assert!(
        html.contains(
            "Exit code 130: the run was interrupted (Ctrl-C, SIGTERM or SIGHUP) after finishing the requests in flight"
        ),
        "{}",
        &html[..html.len().min(3000)]
    );
    assert!(!html.contains("interrupted with Ctrl-C"));
    // Every row valid, none done earlier: none settled without a request.
    assert!(
        !draws_settled_rows(&html),
        "not_sent rows drawn as settled: {}",
        pace_chart(&html)
    );

    // Resumed: the rows done by the run it carries on are settled rows.
    let run = Run::from(import("resumed.html", &["--resume"]).output().unwrap());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(draws_settled_rows(&check_file(&wd.path("resumed.html"))));
}
