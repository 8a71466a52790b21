//! Misbehaviour on demand: which fault a request gets, drawn from one
//! seeded RNG so that a seed replays a run, and what each fault looks like
//! on the wire.

use std::sync::Mutex;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{lock, FakeCrmOptions, Shared};

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n\
<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to \
maintenance downtime. Please try again later.</p></body></html>\n";
/// Cut where a proxy cutting a real answer short would leave it.
const MALFORMED_BODY: &str = "{\"code\": 200, \"error\"";

/// One kind of misbehaviour per `*_rate` option; see each rate for what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    Fail,
    Throttle,
    Busy,
    Html,
    Malformed,
    FailingCode,
    DropAfterCommit,
    Slow,
}

impl FakeCrmOptions {
    /// The rates with their faults, in the order a roll is sliced.
    pub(super) fn fault_table(&self) -> [(f64, Fault); 8] {
        [
            (self.fail_rate, Fault::Fail),
            (self.throttle_rate, Fault::Throttle),
            (self.busy_rate, Fault::Busy),
            (self.html_rate, Fault::Html),
            (self.malformed_rate, Fault::Malformed),
            (self.failing_code_rate, Fault::FailingCode),
            (self.drop_after_commit_rate, Fault::DropAfterCommit),
            (self.slow_rate, Fault::Slow),
        ]
    }
}

/// The one RNG behind faults and `CodeStyle::Mixed`, seeded from the
/// options, with the fault table it draws from.
pub(super) struct Dice {
    rng: Mutex<SmallRng>,
    table: [(f64, Fault); 8],
}

impl Dice {
    pub(super) fn new(opts: &FakeCrmOptions) -> Dice {
        Dice {
            rng: Mutex::new(SmallRng::seed_from_u64(opts.seed)),
            table: opts.fault_table(),
        }
    }

    /// The fault for one request, if any: one roll, sliced by the rates in
    /// table order.
    pub(super) fn draw_fault(&self) -> Option<Fault> {
        let table = self.table;
        // Without faults, leave the RNG to `CodeStyle::Mixed` so its sequence
        // does not depend on how many requests were made.
        if table.iter().all(|(rate, _)| *rate <= 0.0) {
            return None;
        }
        let roll: f64 = lock(&self.rng).random();
        let mut edge = 0.0;
        for (rate, fault) in table {
            edge += rate;
            if roll < edge {
                return Some(fault);
            }
        }
        None
    }

    /// Heads or tails, for `CodeStyle::Mixed`.
    pub(super) fn coin(&self) -> bool {
        lock(&self.rng).random_bool(0.5)
    }
}

impl Shared {
    /// Answers for the faults that replace the request entirely.
    pub(super) fn fault_response(&self, fault: Fault) -> Option<Response> {
        let resp = match fault {
            Fault::Fail => self.refusal(StatusCode::SERVICE_UNAVAILABLE, "SERVICE UNAVAILABLE"),
            Fault::Throttle => {
                let mut resp = self.refusal(StatusCode::TOO_MANY_REQUESTS, "TOO MANY REQUESTS");
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                resp
            }
            Fault::Busy => self.busy(),
            Fault::Html => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                MAINTENANCE_PAGE,
            )
                .into_response(),
            Fault::Malformed => json_response(StatusCode::OK, MALFORMED_BODY.as_bytes().to_vec()),
            Fault::FailingCode => json_response(
                StatusCode::OK,
                // Always a string: that is how the real API writes it here.
                br#"{"code":"503","error":"SERVICE TEMPORARILY UNAVAILABLE","msg":"SERVICE TEMPORARILY UNAVAILABLE","data":null}"#
                    .to_vec(),
            ),
            Fault::DropAfterCommit | Fault::Slow => return None,
        };
        Some(resp)
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_crm::api::{INSERT_PATH, TOKEN_INFO_PATH};
    use crate::fake_crm::test_client::*;
    use crate::fake_crm::FakeCrm;
    use serde_json::{json, Value};
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    async fn with_fault(opts: FakeCrmOptions) -> (FakeCrm, Reply) {
        let crm = start(opts).await;
        let reply = insert(&crm, &obligation("rec1", "OB-1")).await;
        (crm, reply)
    }

    /// Sends the insert of obligation `id` of record `rec1` with the
    /// token, raw: the test reads what comes back (or does not).
    async fn send_insert(crm: &FakeCrm, id: &str) -> tokio::net::TcpStream {
        let body = obligation("rec1", id);
        connect_and_send(
            crm.local_addr(),
            "POST",
            INSERT_PATH,
            Some(TOKEN),
            Some(&body),
        )
        .await
    }

    #[tokio::test]
    async fn answer_faults_store_nothing() {
        let (crm, r) = with_fault(FakeCrmOptions {
            fail_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 503);
        assert_eq!(r.json()["error"], json!("SERVICE UNAVAILABLE"));
        assert_eq!(r.json()["code"], json!(503));
        // Token information is never faulted.
        let path = format!("{TOKEN_INFO_PATH}?operation=op1");
        assert_eq!(
            call(&crm, "GET", &path, Some(TOKEN), None).await.status,
            200
        );
        assert_eq!(crm.stats().faults, 1);
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            throttle_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            busy_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(
            r.json()["msg"],
            json!("EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)")
        );
        assert_eq!(crm.stats().rejected_busy, 0, "injected, not real");
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            html_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 503);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.body.contains("<html>"));
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            malformed_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 200);
        assert!(serde_json::from_str::<Value>(&r.body).is_err());
        assert!(crm.ledger_entries().is_empty());
        crm.shutdown().await;

        let (crm, r) = with_fault(FakeCrmOptions {
            failing_code_rate: 1.0,
            ..Default::default()
        })
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["code"], json!("503"));
        assert_eq!(r.json()["error"], json!("SERVICE TEMPORARILY UNAVAILABLE"));
        assert!(crm.ledger_entries().is_empty());
        assert_eq!(crm.stats().inserts, 0);
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn drop_after_commit_stores_and_sends_zero_bytes() {
        let crm = start(FakeCrmOptions {
            drop_after_commit_rate: 1.0,
            ..Default::default()
        })
        .await;
        let mut stream = send_insert(&crm, "OB-1").await;
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), read_all(&mut stream, &mut raw))
            .await
            .expect("connection closed promptly");
        assert!(raw.is_empty(), "got {:?}", String::from_utf8_lossy(&raw));
        let ledger = crm.ledger_entries();
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger[0]["obligation"], json!("OB-1"));
        let stats = crm.stats();
        assert_eq!((stats.drops, stats.faults, stats.inserts), (1, 1, 1));
        // The in-flight slot was given back when the connection went away.
        let deadline = Instant::now() + Duration::from_secs(1);
        while crm.shared.in_flight.load(Ordering::SeqCst) != 0 {
            assert!(Instant::now() < deadline, "in-flight slot leaked");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn slow_answer_is_stored_first_and_answered_late() {
        let crm = start(FakeCrmOptions {
            slow_rate: 1.0,
            slow_delay: Duration::from_millis(400),
            ..Default::default()
        })
        .await;
        let started = Instant::now();
        let mut stream = send_insert(&crm, "OB-1").await;
        let mut raw = Vec::new();
        let early =
            tokio::time::timeout(Duration::from_millis(150), read_all(&mut stream, &mut raw)).await;
        assert!(early.is_err(), "a 150 ms client timeout must fire");
        assert!(raw.is_empty());
        assert_eq!(crm.ledger_entries().len(), 1, "stored before the delay");
        tokio::time::timeout(Duration::from_secs(5), read_all(&mut stream, &mut raw))
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400));
        let reply = parse(&raw);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["msg"], json!("Succesfully create record"));
        crm.shutdown().await;
    }

    #[tokio::test]
    async fn same_seed_gives_same_faults() {
        let mut runs = Vec::new();
        for _ in 0..2 {
            let crm = start(FakeCrmOptions {
                fail_rate: 0.5,
                seed: 42,
                ..Default::default()
            })
            .await;
            let mut statuses = Vec::new();
            for i in 0..12 {
                statuses.push(insert(&crm, &obligation("r", &i.to_string())).await.status);
            }
            crm.shutdown().await;
            runs.push(statuses);
        }
        assert_eq!(runs[0], runs[1]);
        assert!(
            runs[0].contains(&200) && runs[0].contains(&503),
            "{:?}",
            runs[0]
        );
    }
}
