//! Before sending: one pass over the file (rows to send, changed rows on a
//! resume) and the token's quota.

use crate::crm::classify::{classify_answer, parse_token_information, TokenQuota, Verdict};
use crate::crm::client::{Client, Method};
use crate::import::history::{fingerprint, History, Prior};
use crate::import::rows::{Item, RowFeed};
use crate::import::{prepare, ImportSettings, Prepared, RunError};
use crate::mapping::BodyShape;

/// What a pass over the file found before sending.
pub(super) struct Scan {
    pub(super) to_send: u64,
    pub(super) changed: Vec<String>,
    pub(super) changed_count: u64,
}

/// Reads and maps the whole file once: counts the rows to send (for the
/// quota) and, when resuming, checks that rows already done would still be
/// sent with the same body.
pub(super) fn scan(settings: &ImportSettings, history: Option<&History>) -> Result<Scan, RunError> {
    let Prepared { source, plan } = prepare(settings, BodyShape::Full)?;
    let mut feed = RowFeed::new(source, plan.with_update_body(), &settings.mapping, false);
    let mut scan = Scan {
        to_send: 0,
        changed: Vec::new(),
        changed_count: 0,
    };
    let mut seen_done = 0usize;
    let note = |scan: &mut Scan, msg: String| {
        scan.changed_count += 1;
        if scan.changed.len() < 5 {
            scan.changed.push(msg);
        }
    };
    while let Some(item) = feed.next_item()? {
        let prior = history.map_or(Prior::Fresh, |h| h.prior(item.row()));
        match (item, prior) {
            (Item::Valid(v), Prior::Done { sent, .. }) => {
                seen_done += 1;
                if let Some((method, fp)) = sent {
                    let body = match method {
                        Method::Post => &v.mapped.body,
                        Method::Put => v.mapped.update_body.as_ref().unwrap_or(&v.mapped.body),
                    };
                    if fingerprint(body.as_bytes()) != fp {
                        note(&mut scan, format!("row {} would now be sent with a different body than the one that went in", v.row));
                    }
                }
            }
            (Item::Invalid { outcome, .. }, Prior::Done { .. }) => {
                seen_done += 1;
                note(
                    &mut scan,
                    format!(
                        "row {} went in before but is now invalid ({})",
                        outcome.row, outcome.error
                    ),
                );
            }
            (Item::Valid(_), _) => scan.to_send += 1,
            (Item::Invalid { .. }, _) => {}
        }
    }
    if let Some(h) = history {
        let missing = h.done_rows().saturating_sub(seen_done);
        if missing > 0 {
            note(
                &mut scan,
                format!("{missing} rows that went in before are no longer in the file"),
            );
        }
    }
    Ok(scan)
}

/// Reads the token's quota (one request) and logs it. `Err` is a reason to
/// stop before sending anything (bad token, quota already used up).
pub(super) async fn preflight(
    client: &Client,
    operation: &str,
) -> Result<Option<TokenQuota>, String> {
    let x = client.token_information(operation).await;
    let c = classify_answer(&x);
    match (&c.verdict, &x) {
        (Verdict::Done { .. }, Ok(resp)) => {
            let q = parse_token_information(resp);
            match q {
                Some(q) => tracing::info!(
                    token_limit = q.limit,
                    token_use_today = q.used_today,
                    hours_to_restart = q.hours_to_restart,
                    "token quota: {} of {} requests left today",
                    q.remaining(),
                    q.limit
                ),
                None => tracing::warn!("the token information answer has no token_limit; going on without a quota check"),
            }
            Ok(q)
        }
        // A stop that is no answer of the server (an untrusted
        // certificate) says what to do itself.
        (Verdict::StopRun { message, .. }, Err(_)) => Err(message.clone()),
        (Verdict::Redirected { .. }, _) => Err(c.verdict.describe()),
        (Verdict::StopRun { message, quota: false }, _) => Err(format!(
            "{message}: the server refused the token; check WOLKVOX_TOKEN or --token-file"
        )),
        (Verdict::StopRun { message, quota: true }, _) => Err(format!(
            "{message}: the token's daily quota is already used up; run again with --resume once it restarts"
        )),
        // The token endpoint missing means the base URL is wrong: every
        // request of the run would fail the same way.
        (_, Ok(resp)) if resp.status == 404 => Err(format!(
            "the server answered 404 for {}; check --server (the base should end in /server/API/v2/)",
            client.token_information_url()
        )),
        (v, _) => {
            tracing::warn!("could not read the token's quota ({}); going on without a quota check", v.describe());
            Ok(None)
        }
    }
}
