//! The token's quota, read before the first request of a run.

use crate::crm::classify::{classify_answer, parse_token_information, TokenQuota, Verdict};
use crate::crm::client::{Client, Exchange};
use crate::tr;

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
                    "{}",
                    tr!("quota-left", left = q.remaining(), limit = q.limit)
                ),
                None => tracing::warn!("{}", tr!("quota-no-limit")),
            }
            Ok(q)
        }
        // A stop that is no answer of the server (an untrusted
        // certificate) says what to do itself.
        (Verdict::StopRun { message, .. }, Err(_)) => Err(message.clone()),
        (Verdict::Redirected { .. } | Verdict::AuthRequired { .. }, _) => Err(c.verdict.describe()),
        (
            Verdict::StopRun {
                message,
                quota: false,
            },
            _,
        ) => Err(tr!("token-refused", message = message.as_str())),
        (
            Verdict::StopRun {
                message,
                quota: true,
            },
            _,
        ) => Err(tr!("quota-already-used", message = message.as_str())),
        // The token endpoint missing means the base URL is wrong: every
        // request of the run would fail the same way.
        (_, Ok(resp)) if resp.status == 404 => {
            Err(tr!("token-info-404", url = client.token_information_url()))
        }
        (v, _) => {
            tracing::warn!("{}", tr!("quota-unreadable", why = v.describe()));
            Ok(None)
        }
    }
}
