use super::*;
use crate::results::Outcome;

fn new_run(scope: i64, output: &str) -> NewRun {
    NewRun {
        scope,
        started_at: now_ms(),
        input: "/in/cartera.csv".into(),
        input_fingerprint: "aa".into(),
        mapping: "/in/m.toml".into(),
        mapping_fingerprint: "bb".into(),
        mode: "sync".into(),
        output: output.into(),
        resumes: None,
    }
}

fn intent(row: u64, id: &str, kind: IntentKind, fp: u64) -> Intent {
    Intent {
        row,
        wolkvox_id: "R1".into(),
        obligation_id: id.into(),
        kind,
        body_fp: fp,
    }
}

fn sent(row: u64, id: &str, status: Status, crm: &str, fp: u64) -> Note {
    let mut o = Outcome::new(row, status, "R1", id);
    o.obligation_wolkvox_id = crm.into();
    o.attempts = 1;
    Note {
        outcome: o,
        logged: true,
        body_fp: fp,
        found: None,
        settles_doubt: matches!(status, Status::Created | Status::Updated),
    }
}

#[test]
fn a_new_ledger_remembers_what_went_in_across_openings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/ledger.sqlite");
    let (scope, run) = {
        let mut l = Ledger::open(&path).unwrap();
        let scope = l.scope("crm0001.wolkvox.com", "cobranza").unwrap();
        assert_eq!(
            l.scope("crm0001.wolkvox.com", "cobranza").unwrap(),
            scope,
            "a scope is recorded once"
        );
        let run = l
            .begin_run(&new_run(scope, "/out/r.csv"), 1, "box")
            .unwrap();
        l.record_intents(
            run,
            scope,
            &[
                intent(2, "A", IntentKind::Post, 11),
                intent(3, "B", IntentKind::Post, 12),
                intent(4, "C", IntentKind::Post, 13),
            ],
        )
        .unwrap();
        l.record_notes(
            run,
            scope,
            &[
                sent(2, "A", Status::Created, "1cb", 11),
                sent(3, "B", Status::Failed, "", 12),
            ],
        )
        .unwrap();
        (scope, run)
    };
    let l = Ledger::open_read_only(&path).unwrap().expect("exists");
    let known = l.load_known(scope).unwrap();
    assert_eq!(known.len(), 1, "only what the CRM accepted is known");
    let a = known.get(KeyHash::of("R1", "A")).unwrap();
    assert_eq!((a.fp, a.crm_id), (Some(11), "1cb"));
    assert!(known.get(KeyHash::of("R1", "B")).is_none());
    // C's intent has no outcome: in doubt, as a plain insert of body 13.
    let doubts = l.load_doubts(scope).unwrap();
    assert_eq!(doubts.len(), 1);
    assert_eq!(
        doubts[&KeyHash::of("R1", "C")],
        Doubt {
            insert: true,
            body_fp: Some(13),
            plain_insert: true
        }
    );
    let carried = l.load_carried(run).unwrap();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[&KeyHash::of("R1", "A")].crm_id, "1cb");
    assert_eq!(l.open_intents().unwrap().len(), 1);
    assert_eq!(l.integrity().unwrap(), Ok(()));
}

#[test]
fn a_later_answer_settles_what_an_earlier_run_left_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    let mut l = Ledger::open(&path).unwrap();
    let scope = l.scope("h", "op").unwrap();
    let first = l.begin_run(&new_run(scope, "/o"), 1, "box").unwrap();
    l.record_intents(first, scope, &[intent(2, "A", IntentKind::Post, 5)])
        .unwrap();
    let second = l.begin_run(&new_run(scope, "/o"), 1, "box").unwrap();
    l.record_intents(
        second,
        scope,
        &[intent(2, "A", IntentKind::LookupThenWrite, 5)],
    )
    .unwrap();
    // Both in doubt: a look-up-then-write says nothing about the body.
    let d = l.load_doubts(scope).unwrap()[&KeyHash::of("R1", "A")];
    assert_eq!(
        d,
        Doubt {
            insert: true,
            body_fp: None,
            plain_insert: false
        }
    );
    let third = l.begin_run(&new_run(scope, "/o"), 1, "box").unwrap();
    l.record_intents(third, scope, &[intent(2, "A", IntentKind::Post, 5)])
        .unwrap();
    l.record_notes(third, scope, &[sent(2, "A", Status::Created, "9cb", 5)])
        .unwrap();
    assert!(l.load_doubts(scope).unwrap().is_empty());
    assert!(l.open_intents().unwrap().is_empty());
}

#[test]
fn the_run_record_keeps_counts_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    let mut l = Ledger::open(&path).unwrap();
    let scope = l.scope("h", "op").unwrap();
    let run = l.begin_run(&new_run(scope, "/o"), 77, "box").unwrap();
    let mut counts = HashMap::new();
    counts.insert(Status::Created, 3);
    counts.insert(Status::Unchanged, 5);
    l.end_run(
        run,
        &RunEnd {
            counts,
            requests: 4,
            vanished: Some(2),
            exit_code: 0,
            stop_reason: None,
            seen: None,
        },
    )
    .unwrap();
    let runs = l.runs(10).unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!((r.pid, r.exit_code, r.requests), (77, Some(0), Some(4)));
    assert!(r.counts.contains(&(Status::Created, 3)));
    assert!(r.counts.contains(&(Status::Unchanged, 5)));
    assert_eq!(
        l.last_run_for_output(scope, "/o").unwrap().map(|p| p.id),
        Some(run)
    );
    assert!(l.last_run_for_output(scope, "/other").unwrap().is_none());
}

#[test]
fn files_that_are_not_ledgers_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(
        &garbage,
        b"this is not a database at all, just some text".repeat(100),
    )
    .unwrap();
    let before = std::fs::read(&garbage).unwrap();
    let e = Ledger::open(&garbage).err().expect("refused");
    assert!(e.message.contains("not a ledger"), "{e}");
    assert!(Ledger::open_read_only(&garbage).is_err());
    assert_eq!(std::fs::read(&garbage).unwrap(), before);

    let other = dir.path().join("other.sqlite");
    {
        let c = Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let before = std::fs::read(&other).unwrap();
    let e = Ledger::open(&other).err().expect("refused");
    assert!(e.message.contains("another application"), "{e}");
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn reading_never_creates_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.sqlite");
    assert!(Ledger::open_read_only(&path).unwrap().is_none());
    assert!(!path.exists());
}

#[test]
fn fingerprints_are_stable_across_builds() {
    // Fixed values: a change here would make every known obligation look
    // changed to the next run.
    assert_eq!(fingerprint(b""), 0x2d06_8005_38d3_94c2);
    assert_eq!(
        fingerprint(b"{\"id\":\"1\"}"),
        fingerprint(b"{\"id\":\"1\"}")
    );
    assert_ne!(
        fingerprint(b"{\"id\":\"1\"}"),
        fingerprint(b"{\"id\":\"2\"}")
    );
}

#[test]
fn last_seen_comes_from_the_newest_run_whose_file_listed_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
    let scope = l.scope("h", "op").unwrap();
    let end = |seen: Option<seen::IdRanges>| RunEnd {
        seen,
        ..RunEnd::default()
    };
    // Night 1 creates A and B.
    let r1 = l.begin_run(&new_run(scope, "/o"), 1, "box").unwrap();
    l.record_intents(
        r1,
        scope,
        &[
            intent(2, "A", IntentKind::Post, 1),
            intent(3, "B", IntentKind::Post, 2),
        ],
    )
    .unwrap();
    l.record_notes(
        r1,
        scope,
        &[
            sent(2, "A", Status::Created, "1cb", 1),
            sent(3, "B", Status::Created, "2cb", 2),
        ],
    )
    .unwrap();
    l.end_run(r1, &end(Some(seen::IdRanges::default())))
        .unwrap();
    let known = l.load_known(scope).unwrap();
    let (a, b) = (
        known.get(KeyHash::of("R1", "A")).unwrap().db_id,
        known.get(KeyHash::of("R1", "B")).unwrap().db_id,
    );
    // Night 2 lists both, unchanged; night 3 lists only A.
    let mut new2 = new_run(scope, "/o");
    new2.started_at += 1_000;
    let r2 = l.begin_run(&new2, 1, "box").unwrap();
    l.end_run(r2, &end(Some(seen::IdRanges::from_ids(vec![a, b]))))
        .unwrap();
    let mut new3 = new_run(scope, "/o");
    new3.started_at += 2_000;
    let r3 = l.begin_run(&new3, 1, "box").unwrap();
    l.end_run(r3, &end(Some(seen::IdRanges::from_ids(vec![a]))))
        .unwrap();
    let rows = l.obligations_by_id(&[a, b]).unwrap();
    assert_eq!(rows[0].last_seen_at, Some(new3.started_at), "A: night 3");
    assert_eq!(rows[1].last_seen_at, Some(new2.started_at), "B: night 2");
    let mut exported = Vec::new();
    l.for_each_obligation(None, None, |o| {
        exported.push((o.obligation_id.clone(), o.last_seen_at));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        exported,
        vec![
            ("A".to_string(), Some(new3.started_at)),
            ("B".to_string(), Some(new2.started_at))
        ]
    );
}
