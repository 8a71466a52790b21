//! What a worker does after an answer: the one decision every write and
//! look-up goes through, as a pure function of the answer's verdict, so that
//! every retry, backoff, look-up and stop can be read (and tested) as a
//! table. The worker only carries the decision out.

use crate::crm::classify::{redirect_message, Lookup, Verdict};
use crate::crm::client::Method;
use crate::tr;
use std::time::Duration;

/// The next step after the answer to a write (insert or update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// The write went in: the CRM's id for the obligation.
    Done(String),
    /// The update went in; its answer carried no usable id, so the id
    /// already known for the obligation stands. `warning` when the answer
    /// carried something that is not an id.
    Updated { warning: Option<String> },
    /// The API refused the row: it fails, with the API's words; no retry.
    Refuse(String),
    /// Send the same request again after a backoff (`retry_after` when the
    /// server said how long), unless the retries are spent.
    Retry {
        why: String,
        retry_after: Option<Duration>,
    },
    /// The request may have gone in: look the obligation up before anything
    /// else is sent for it.
    LookUp(String),
    /// No request of this run can succeed: stop it. The row is `not_sent`
    /// when nothing reached the server, `uncertain` when it may have.
    StopRun { why: String, row_in_doubt: bool },
}

/// Decides what follows `verdict`, the answer to a write by `method`.
pub(super) fn decide(verdict: Verdict, method: Method) -> Action {
    match verdict {
        Verdict::Done { wolkvox_id } => Action::Done(wolkvox_id),
        Verdict::Refused { message } => Action::Refuse(message),
        Verdict::StopRun { message, quota } => Action::StopRun {
            why: if quota {
                tr!("quota-exceeded", message = message.as_str())
            } else {
                message
            },
            row_in_doubt: false,
        },
        // Refused before the API: nothing was stored.
        Verdict::AuthRequired { message } => Action::StopRun {
            why: message,
            row_in_doubt: false,
        },
        Verdict::Transient {
            message,
            retry_after,
        } => Action::Retry {
            why: message,
            retry_after,
        },
        // The server may have stored it before redirecting, and will
        // redirect every request: the row is in doubt (looked up by the next
        // run, never resent blindly) and this run stops.
        Verdict::Redirected { location } => Action::StopRun {
            why: redirect_message(&location),
            row_in_doubt: true,
        },
        // A success to an update: it went in. The obligation's id is known
        // already (the ledger's, or the look-up's that led to the update).
        Verdict::SuccessWithoutId { message, malformed } if method == Method::Put => {
            Action::Updated {
                warning: malformed.then_some(message),
            }
        }
        // A success without an id is not the API's answer to an insert: it
        // may or may not have gone in.
        Verdict::SuccessWithoutId { message, .. } => Action::LookUp(message),
        // An update repeated is the same update: no look-up needed.
        Verdict::InDoubt { message } if method == Method::Put => Action::Retry {
            why: message,
            retry_after: None,
        },
        Verdict::InDoubt { message } => Action::LookUp(message),
    }
}

/// The next step after the answer to a look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LookupAction {
    /// The CRM holds the obligation, with this id.
    Found(String),
    /// The CRM says it does not hold it: writing it cannot duplicate it.
    Absent,
    /// The answer says nothing either way: ask again after a backoff.
    Retry {
        why: String,
        retry_after: Option<Duration>,
        /// Only transient answers (overload) so far, for the breaker.
        transient: bool,
    },
    /// No request of this run can succeed: stop it.
    StopRun(String),
}

/// Decides what follows a look-up's answer.
pub(super) fn decide_lookup(lookup: Lookup) -> LookupAction {
    match lookup {
        Lookup::Found { wolkvox_id } => LookupAction::Found(wolkvox_id),
        Lookup::NotFound => LookupAction::Absent,
        Lookup::Unknown(Verdict::StopRun { message, .. } | Verdict::AuthRequired { message }) => {
            LookupAction::StopRun(message)
        }
        Lookup::Unknown(Verdict::Transient {
            message,
            retry_after,
        }) => LookupAction::Retry {
            why: message,
            retry_after,
            transient: true,
        },
        Lookup::Unknown(other) => LookupAction::Retry {
            why: other.describe(),
            retry_after: None,
            transient: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient(m: &str, ra: Option<u64>) -> Verdict {
        Verdict::Transient {
            message: m.into(),
            retry_after: ra.map(Duration::from_secs),
        }
    }

    #[test]
    fn every_verdict_of_a_write_has_one_next_step() {
        use Method::{Post, Put};
        let table: Vec<(Verdict, Method, Action)> = vec![
            (
                Verdict::Done {
                    wolkvox_id: "9cb".into(),
                },
                Post,
                Action::Done("9cb".into()),
            ),
            (
                Verdict::Refused {
                    message: "SOME PARAMETERS ARE REQUIRED".into(),
                },
                Post,
                Action::Refuse("SOME PARAMETERS ARE REQUIRED".into()),
            ),
            (
                transient("503", Some(3)),
                Post,
                Action::Retry {
                    why: "503".into(),
                    retry_after: Some(Duration::from_secs(3)),
                },
            ),
            (
                transient("busy", None),
                Put,
                Action::Retry {
                    why: "busy".into(),
                    retry_after: None,
                },
            ),
            // A lost answer to an insert: look before any resend.
            (
                Verdict::InDoubt {
                    message: "timeout".into(),
                },
                Post,
                Action::LookUp("timeout".into()),
            ),
            // A lost answer to an update: the same update again.
            (
                Verdict::InDoubt {
                    message: "timeout".into(),
                },
                Put,
                Action::Retry {
                    why: "timeout".into(),
                    retry_after: None,
                },
            ),
            // A success without an id: an insert is looked up, an update
            // is done (its id is known).
            (
                Verdict::SuccessWithoutId {
                    message: "no id".into(),
                    malformed: false,
                },
                Post,
                Action::LookUp("no id".into()),
            ),
            (
                Verdict::SuccessWithoutId {
                    message: "no id".into(),
                    malformed: false,
                },
                Put,
                Action::Updated { warning: None },
            ),
            (
                Verdict::SuccessWithoutId {
                    message: "an empty id".into(),
                    malformed: true,
                },
                Put,
                Action::Updated {
                    warning: Some("an empty id".into()),
                },
            ),
            (
                Verdict::StopRun {
                    message: "PLEASE VALIDATE TOKEN".into(),
                    quota: false,
                },
                Post,
                Action::StopRun {
                    why: "PLEASE VALIDATE TOKEN".into(),
                    row_in_doubt: false,
                },
            ),
        ];
        for (verdict, method, expected) in table {
            assert_eq!(decide(verdict.clone(), method), expected, "{verdict:?}");
        }
        let proxy = decide(
            Verdict::AuthRequired {
                message: "a proxy asks for authentication".into(),
            },
            Put,
        );
        assert_eq!(
            proxy,
            Action::StopRun {
                why: "a proxy asks for authentication".into(),
                row_in_doubt: false
            }
        );
        let quota = decide(
            Verdict::StopRun {
                message: "TOKEN LIMIT EXCEEDED".into(),
                quota: true,
            },
            Post,
        );
        assert!(
            matches!(&quota, Action::StopRun { why, row_in_doubt: false } if why.contains("--resume")),
            "{quota:?}"
        );
        let redirect = decide(
            Verdict::Redirected {
                location: "https://elsewhere/".into(),
            },
            Post,
        );
        assert!(
            matches!(&redirect, Action::StopRun { why, row_in_doubt: true } if why.contains("https://elsewhere/")),
            "{redirect:?}"
        );
    }

    #[test]
    fn a_lookup_is_believed_only_when_it_says_found_or_not_found() {
        assert_eq!(
            decide_lookup(Lookup::Found {
                wolkvox_id: "9cb".into()
            }),
            LookupAction::Found("9cb".into())
        );
        assert_eq!(decide_lookup(Lookup::NotFound), LookupAction::Absent);
        assert_eq!(
            decide_lookup(Lookup::Unknown(transient("503", Some(1)))),
            LookupAction::Retry {
                why: "503".into(),
                retry_after: Some(Duration::from_secs(1)),
                transient: true
            }
        );
        // A refused look-up says nothing about the obligation: never "absent".
        let refused = decide_lookup(Lookup::Unknown(Verdict::Refused {
            message: "code 400".into(),
        }));
        assert!(
            matches!(
                refused,
                LookupAction::Retry {
                    transient: false,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert!(matches!(
            decide_lookup(Lookup::Unknown(Verdict::StopRun {
                message: "PLEASE VALIDATE TOKEN".into(),
                quota: false
            })),
            LookupAction::StopRun(_)
        ));
    }
}
