//! What a valid row needs, given what the ledger knows of its obligation: the
//! one decision that makes the nightly job send only what is new or changed,
//! and never an insert twice. A pure function, used by the real run to route
//! each row and by the dry run to count the plan.

use crate::crm::client::Method;
use crate::import::send::Mode;
use crate::ledger::known::KnownObligation;
use crate::ledger::{Carried, Doubt};

/// What the ledger knows of one row's obligation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Knowledge<'a> {
    /// The obligation is known, with the body the CRM last accepted.
    pub known: Option<KnownObligation<'a>>,
    /// An earlier run's request for it is in doubt.
    pub doubt: Option<Doubt>,
    /// The run being resumed brought this row to its end.
    pub carried: Option<&'a Carried>,
}

/// The requests a row needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// Look the obligation up first: an upsert of an obligation the ledger
    /// does not know, or an earlier insert whose outcome is unknown.
    pub lookup_first: bool,
    /// The body fingerprint of an earlier insert in doubt: a look-up that
    /// finds the obligation proves that insert went in, with that body.
    pub doubt_fp: Option<u64>,
    /// The write when the obligation is not in the CRM (or without look-up).
    pub write: Method,
    /// The obligation was known to the ledger before this run.
    pub known: bool,
}

/// How a row is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage<'a> {
    /// The CRM already holds exactly this body: no request.
    Unchanged { crm_id: &'a str, db_id: u32 },
    /// Insert mode, and the CRM holds another body for this obligation: no
    /// request; `--mode sync` would update it.
    Exists { crm_id: &'a str, db_id: u32 },
    /// Done by the run being resumed, with this same body.
    Carried(&'a Carried),
    /// Requests are needed.
    Send(Action),
}

/// Plan counts, as the dry run reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    /// Obligations the ledger does not know: an insert each.
    pub new: u64,
    /// Known obligations whose body changed: an update each (sync mode).
    pub changed: u64,
    /// Known obligations with the same body: no request.
    pub unchanged: u64,
    /// Of the changed, those insert mode leaves as they are: no request,
    /// and the real run marks them failed (`--mode sync` updates them).
    pub left_as_they_are: u64,
    /// Earlier requests in doubt, each settled by a look-up first.
    pub in_doubt: u64,
    /// Requests a real run would make, without retries or the quota check.
    pub requests: u64,
}

impl PlanCounts {
    /// Counts one row's triage.
    pub fn count(&mut self, t: &Triage<'_>) {
        match t {
            Triage::Unchanged { .. } | Triage::Carried(_) => self.unchanged += 1,
            Triage::Exists { .. } => {
                self.changed += 1;
                self.left_as_they_are += 1;
            }
            Triage::Send(a) => {
                if a.known {
                    self.changed += 1;
                } else {
                    self.new += 1;
                }
                if a.doubt_fp.is_some() {
                    self.in_doubt += 1;
                }
                self.requests += 1 + u64::from(a.lookup_first);
            }
        }
    }
}

/// Decides what a valid row whose full body has fingerprint `fp` needs.
pub fn triage<'a>(mode: Mode, fp: u64, k: Knowledge<'a>) -> Triage<'a> {
    let doubt_matches = k.doubt.is_none_or(|d| d.body_fp == Some(fp));
    if let Some(known) = k.known {
        if known.fp == Some(fp) && doubt_matches {
            if let Some(c) = k.carried {
                return Triage::Carried(c);
            }
            return Triage::Unchanged {
                crm_id: known.crm_id,
                db_id: known.db_id,
            };
        }
        // It exists in the CRM: never insert it again.
        return match mode {
            Mode::Insert => Triage::Exists {
                crm_id: known.crm_id,
                db_id: known.db_id,
            },
            Mode::Sync | Mode::Upsert | Mode::Update => Triage::Send(Action {
                lookup_first: false,
                doubt_fp: None,
                write: Method::Put,
                known: true,
            }),
        };
    }
    let doubt_insert = k.doubt.filter(|d| d.insert);
    let write = match mode {
        Mode::Update => Method::Put,
        Mode::Insert | Mode::Sync | Mode::Upsert => Method::Post,
    };
    Triage::Send(Action {
        lookup_first: doubt_insert.is_some() || mode == Mode::Upsert,
        doubt_fp: doubt_insert
            .filter(|d| d.plain_insert)
            .and_then(|d| d.body_fp),
        write,
        known: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Status;

    fn known(fp: Option<u64>) -> Option<KnownObligation<'static>> {
        Some(KnownObligation {
            db_id: 7,
            fp,
            crm_id: "9cb",
        })
    }

    fn send(
        lookup_first: bool,
        doubt_fp: Option<u64>,
        write: Method,
        known: bool,
    ) -> Triage<'static> {
        Triage::Send(Action {
            lookup_first,
            doubt_fp,
            write,
            known,
        })
    }

    #[test]
    fn each_mode_against_each_state_of_the_ledger() {
        use Method::{Post, Put};
        let same = Knowledge {
            known: known(Some(1)),
            ..Knowledge::default()
        };
        let changed = Knowledge {
            known: known(Some(2)),
            ..Knowledge::default()
        };
        let content_unknown = Knowledge {
            known: known(None),
            ..Knowledge::default()
        };
        let new = Knowledge::default();
        let unchanged = Triage::Unchanged {
            crm_id: "9cb",
            db_id: 7,
        };
        let exists = Triage::Exists {
            crm_id: "9cb",
            db_id: 7,
        };
        // (mode, knowledge, expected) with the row's body fingerprint 1.
        let table = [
            (Mode::Insert, same, unchanged.clone()),
            (Mode::Insert, changed, exists.clone()),
            (Mode::Insert, content_unknown, exists.clone()),
            (Mode::Insert, new, send(false, None, Post, false)),
            (Mode::Sync, same, unchanged.clone()),
            (Mode::Sync, changed, send(false, None, Put, true)),
            (Mode::Sync, content_unknown, send(false, None, Put, true)),
            (Mode::Sync, new, send(false, None, Post, false)),
            (Mode::Upsert, same, unchanged.clone()),
            (Mode::Upsert, changed, send(false, None, Put, true)),
            (Mode::Upsert, new, send(true, None, Post, false)),
            (Mode::Update, same, unchanged.clone()),
            (Mode::Update, changed, send(false, None, Put, true)),
            (Mode::Update, new, send(false, None, Put, false)),
        ];
        for (mode, k, expected) in table {
            assert_eq!(triage(mode, 1, k), expected, "{mode:?} {k:?}");
        }
    }

    #[test]
    fn an_insert_in_doubt_is_looked_up_first_in_every_mode() {
        let k = Knowledge {
            doubt: Some(Doubt {
                insert: true,
                body_fp: Some(5),
                plain_insert: true,
            }),
            ..Knowledge::default()
        };
        for mode in [Mode::Insert, Mode::Sync, Mode::Upsert] {
            assert_eq!(triage(mode, 1, k), send(true, Some(5), Method::Post, false));
        }
        assert_eq!(
            triage(Mode::Update, 1, k),
            send(true, Some(5), Method::Put, false)
        );
        // After a look-up-then-write in doubt, finding the obligation proves
        // nothing about its body.
        let blind = Knowledge {
            doubt: Some(Doubt {
                insert: true,
                body_fp: None,
                plain_insert: false,
            }),
            ..Knowledge::default()
        };
        assert_eq!(
            triage(Mode::Sync, 1, blind),
            send(true, None, Method::Post, false)
        );
    }

    #[test]
    fn a_known_obligation_with_an_update_in_doubt_is_written_again_unless_both_match() {
        let doubt = |fp| Knowledge {
            known: known(Some(1)),
            doubt: Some(Doubt {
                insert: false,
                body_fp: Some(fp),
                plain_insert: false,
            }),
            carried: None,
        };
        assert!(matches!(
            triage(Mode::Sync, 1, doubt(1)),
            Triage::Unchanged { .. }
        ));
        assert_eq!(
            triage(Mode::Sync, 1, doubt(2)),
            send(false, None, Method::Put, true)
        );
        assert!(matches!(
            triage(Mode::Insert, 1, doubt(2)),
            Triage::Exists { .. }
        ));
    }

    #[test]
    fn a_resumed_row_is_carried_only_with_the_same_body() {
        let c = Carried {
            status: Status::Created,
            attempts: 2,
            crm_id: "9cb".into(),
            http_status: Some(200),
            api_code: Some("200".into()),
        };
        let k = Knowledge {
            known: known(Some(1)),
            doubt: None,
            carried: Some(&c),
        };
        assert_eq!(triage(Mode::Insert, 1, k), Triage::Carried(&c));
        assert!(matches!(triage(Mode::Insert, 2, k), Triage::Exists { .. }));
    }

    #[test]
    fn plan_counts_requests_per_mode() {
        let mut p = PlanCounts::default();
        p.count(&send(false, None, Method::Post, false));
        p.count(&send(true, None, Method::Post, false));
        p.count(&send(false, None, Method::Put, true));
        p.count(&Triage::Unchanged {
            crm_id: "",
            db_id: 1,
        });
        p.count(&Triage::Exists {
            crm_id: "",
            db_id: 1,
        });
        assert_eq!(
            p,
            PlanCounts {
                new: 2,
                changed: 2,
                unchanged: 1,
                left_as_they_are: 1,
                in_doubt: 0,
                requests: 4
            }
        );
    }
}
