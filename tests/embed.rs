//! The embedding example runs as a test: an import started inside a Tokio
//! program, cancelled halfway, then run again, stores each obligation in the
//! CRM exactly once.

mod common;

#[path = "../examples/embed.rs"]
#[allow(dead_code)]
mod embed;

use common::{read_results, Workdir};
use std::collections::BTreeMap;
use std::time::Duration;
use wolkvox_import::crm::Token;
use wolkvox_import::fake_crm::{FakeCrm, FakeCrmOptions};

const TOKEN: &str = "embed-test-token";
const ROWS: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_import_cancelled_halfway_then_rerun_stores_each_obligation_once() {
    let wd = Workdir::new();
    let mut csv = String::from("registro,obligacion,saldo\n");
    for i in 0..ROWS {
        csv.push_str(&format!("R{},{i:04},{}\n", i % 4, 1000 + i));
    }
    wd.write("cartera.csv", csv);
    wd.write(
        "m.toml",
        "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"registro\"\nid = \"obligacion\"\ntotal_balance = { column = \"saldo\", type = \"number\" }\n",
    );
    // A little latency, so rows are still in flight when the run is cancelled.
    let fake = FakeCrm::start(
        "127.0.0.1:0".parse().unwrap(),
        FakeCrmOptions {
            token: TOKEN.into(),
            latency: Duration::from_millis(5),
            ..FakeCrmOptions::default()
        },
    )
    .await
    .unwrap();
    let job = embed::Job {
        input: wd.path("cartera.csv"),
        mapping: wd.path("m.toml"),
        server: fake.base_url(),
        ledger: wd.path("embed.ledger.sqlite"),
        output: wd.path("results.csv"),
        token: Token::new(TOKEN).unwrap(),
        cancel_after: 20,
    };
    let (first, second) = embed::run_twice(&job).await.expect("both runs start");
    assert!(first.interrupted, "the first run was cancelled");
    assert_eq!(first.exit_code(), 130);
    let created_first = first.get(wolkvox_import::results::Status::Created);
    assert!(
        (20..ROWS as u64).contains(&created_first),
        "cancelled after 20 rows, before the end: {created_first}"
    );
    assert_eq!(second.exit_code(), 0, "{}", second.render());
    // Every obligation stored once: the second run sent only the rest.
    let mut stored: BTreeMap<String, u32> = BTreeMap::new();
    for e in fake.ledger_entries() {
        *stored
            .entry(e["obligation"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(stored.len(), ROWS, "every obligation stored");
    assert!(stored.values().all(|&n| n == 1), "none twice: {stored:?}");
    let results = read_results(&wd.path("results.csv"));
    assert_eq!(results.len(), ROWS);
    let created = results.iter().filter(|r| r["status"] == "created").count() as u64;
    let unchanged = results
        .iter()
        .filter(|r| r["status"] == "unchanged")
        .count() as u64;
    assert_eq!(created + unchanged, ROWS as u64, "{results:?}");
    assert_eq!(
        unchanged, created_first,
        "what the first run sent is not sent again"
    );
    fake.shutdown().await;
}
