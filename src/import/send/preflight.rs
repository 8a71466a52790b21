//! The token's quota, read before the first request of a run.

use crate::crm::classify::{classify_answer, parse_token_information, TokenQuota, Verdict};
use crate::crm::client::{Client, Exchange};

/// Judges the answer to the token's information and logs the quota. `Err`
/// is a reason to stop before sending anything (bad token, quota already
/// used up, wrong address).
pub(super) fn preflight(client: &Client, x: Exchange) -> Result<Option<TokenQuota>, String> {
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
