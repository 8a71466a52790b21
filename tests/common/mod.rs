//! Shared helpers for the integration tests: each test works in its own
//! temporary folder and runs the real binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A temporary folder for one test, removed when dropped.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::Builder::new()
                .prefix("wolkvox-import-test")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (bytes as given: the tests choose encodings).
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write test file");
        p
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// A command for the binary, run in this folder, with no token or server
    /// inherited from the environment, and its own ledger and state folder
    /// in this folder: a test never touches the user's real state.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wolkvox-import"));
        c.args(args)
            .current_dir(self.root())
            .env_remove("WOLKVOX_TOKEN")
            .env_remove("WOLKVOX_SERVER")
            .env_remove("RUST_LOG")
            // English messages unless a test asks for Spanish (--lang es).
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("WOLKVOX_LEDGER", self.ledger())
            .env("XDG_STATE_HOME", self.path("state"))
            .env("HOME", self.path("home"));
        c
    }

    /// The ledger the binary uses when a test does not pass `--ledger`.
    pub fn ledger(&self) -> PathBuf {
        self.path("ledger.sqlite")
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run binary"))
    }
}

/// What a run of the binary printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One line of a results file, as data.
pub type ResultRow = BTreeMap<String, String>;

/// Reads a results CSV into rows keyed by column name, checking the header.
pub fn read_results(path: &Path) -> Vec<ResultRow> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "row",
            "status",
            "wolkvox_id",
            "obligation_id",
            "obligation_wolkvox_id",
            "attempts",
            "http_status",
            "api_code",
            "error"
        ]
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// `(row, status)` pairs of a results file, in file order.
pub fn statuses(path: &Path) -> Vec<(u64, String)> {
    read_results(path)
        .iter()
        .map(|r| (r["row"].parse().unwrap(), r["status"].clone()))
        .collect()
}

/// Reads a JSON Lines file.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// The shared corpus beside the repository. Outside CI a machine without it
/// skips the corpus checks with a notice; in CI (`CI` set, as CI services
/// and `.ci/run` do) a missing corpus fails the test, so the checks can never
/// pass by not running.
pub fn corpus_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        !in_ci(),
        "{} is absent: the corpus checks must run in CI",
        p.display()
    );
    eprintln!("notice: {} is absent; corpus checks skipped", p.display());
    None
}

/// True when the environment says this is a CI run: `CI` set to anything
/// but empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// How long a test waits for something that takes moments before it calls
/// it a hang. A guard against a test that never ends, never a measure of
/// speed: no test passes or fails by how fast the machine is.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Polls `ready` every millisecond until it holds. Not holding within
/// `HANG_GUARD` fails the test, naming `what` was awaited.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG_GUARD;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "waited {HANG_GUARD:?} for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The binary running in the background, its stdout and stderr read as they
/// come, so a test can wait on what it says (and a full pipe never stalls
/// it).
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().expect("piped"), stdout.clone()),
            collect(child.stderr.take().expect("piped"), stderr.clone()),
        ];
        Running {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr_since(0)
    }

    /// How many bytes the process wrote to stderr so far: a mark for
    /// `stderr_since`.
    pub fn stderr_mark(&self) -> usize {
        self.stderr.lock().unwrap().len()
    }

    /// What the process wrote to stderr after `mark`.
    pub fn stderr_since(&self, mark: usize) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()[mark..]).into_owned()
    }

    /// True until the process has ended.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Sends `sig` (e.g. `libc::SIGTERM`) to the process.
    #[cfg(unix)]
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: signalling our own child, which is not reaped before
        // `wait` or `kill` consume this value.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(r, 0, "kill({sig})");
    }

    /// Polls until the process's stderr holds `needle`. The process ending
    /// first, or `HANG_GUARD` passing, fails the test.
    pub fn wait_for_stderr(&mut self, needle: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        while !self.stderr().contains(needle) {
            assert!(
                self.is_running(),
                "the process ended before saying {needle:?}: {}",
                self.stderr()
            );
            assert!(
                Instant::now() < deadline,
                "waited {HANG_GUARD:?} for {needle:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// SIGKILL (no chance to clean up), then what it had printed.
    pub fn kill(mut self) -> Run {
        self.child.kill().expect("SIGKILL");
        self.finish()
    }

    /// Waits for the end. A process still running after `HANG_GUARD` is
    /// killed and fails the test.
    pub fn wait(mut self) -> Run {
        let deadline = Instant::now() + HANG_GUARD;
        while self.is_running() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let run = self.finish();
                panic!("still running after {HANG_GUARD:?}; killed it: {run:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.finish()
    }

    fn finish(&mut self) -> Run {
        let status = self.child.wait().expect("wait");
        for reader in self.readers.drain(..) {
            reader.join().expect("output reader");
        }
        let text =
            |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().unwrap()).into_owned();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: text(&self.stdout),
            stderr: text(&self.stderr),
        }
    }
}

/// Reads `from` to its end into `into`, as it comes.
fn collect(
    mut from: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// The fake CRM served in-process on 127.0.0.1 by a runtime this value owns,
/// so a test can run the binary on its own thread (blocking) while the
/// runtime's workers answer. Dropping it shuts the fake down and waits until
/// its port is released.
#[cfg(feature = "fake-crm")]
pub struct FakeServer {
    crm: Option<wolkvox_import::fake_crm::FakeCrm>,
    runtime: tokio::runtime::Runtime,
}

#[cfg(feature = "fake-crm")]
impl FakeServer {
    pub fn start(opts: wolkvox_import::fake_crm::FakeCrmOptions) -> FakeServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime");
        let addr = "127.0.0.1:0".parse().unwrap();
        let crm = runtime
            .block_on(wolkvox_import::fake_crm::FakeCrm::start(addr, opts))
            .expect("start the fake CRM");
        FakeServer {
            crm: Some(crm),
            runtime,
        }
    }

    fn crm(&self) -> &wolkvox_import::fake_crm::FakeCrm {
        self.crm.as_ref().expect("running")
    }

    /// e.g. "http://127.0.0.1:4321/server/API/v2/", for `--server`.
    pub fn base_url(&self) -> String {
        self.crm().base_url()
    }

    pub fn stats(&self) -> wolkvox_import::fake_crm::FakeCrmStats {
        self.crm().stats()
    }

    /// One entry per stored insert or update, in order.
    pub fn ledger(&self) -> Vec<serde_json::Value> {
        self.crm().ledger_entries()
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.crm().local_addr()
    }

    /// Stops the fake (abandoning requests in flight, as a server that goes
    /// away does) and starts it again on the same address with `opts`, so
    /// the importer sees the same server. Give both the same
    /// `FakeCrmOptions::ledger` file for the new one to hold what the old one
    /// stored.
    pub fn restart(&mut self, opts: wolkvox_import::fake_crm::FakeCrmOptions) {
        let addr = self.local_addr();
        if let Some(crm) = self.crm.take() {
            self.runtime.block_on(crm.shutdown());
        }
        let crm = self
            .runtime
            .block_on(wolkvox_import::fake_crm::FakeCrm::start(addr, opts))
            .expect("restart the fake CRM on the same address");
        self.crm = Some(crm);
    }
}

#[cfg(feature = "fake-crm")]
impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(crm) = self.crm.take() {
            self.runtime.block_on(crm.shutdown());
        }
    }
}

/// Every file under `root` (recursively) whose bytes contain `needle`.
pub fn files_containing(root: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    found.push(path);
                }
            }
        }
    }
    found
}
