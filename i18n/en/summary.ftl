summary-dry-run = Dry run
summary-import = Import
summary-head = { $title }: { $rows ->
    [one] 1 row
   *[other] { $rows } rows
} in { $seconds } s ({ $rate } rows/s)
summary-head-partial = { $title }: { $rows ->
    [one] 1 row
   *[other] { $rows } rows
}, { $processed } processed in { $seconds } s ({ $rate } rows/s)
summary-requests = { $requests ->
    [one] 1 request
   *[other] { $requests } requests
}
summary-per-obligation = ({ $ratio } per obligation written)
summary-retries = { $retries ->
    [one] 1 retry
   *[other] { $retries } retries
}, { $lookups ->
    [one] 1 look-up
   *[other] { $lookups } look-ups
}
summary-no-header = the file is empty: no header row, no data rows
summary-no-rows = the file has a header but no data rows
summary-carried = { $count ->
    [one] 1 row was already done by an earlier run (no request made)
   *[other] { $count } rows were already done by an earlier run (no request made)
}
summary-problems = most common problems:
summary-problem = { $count ->
    [one] 1 row
   *[other] { $count } rows
}, e.g. row { $row }: { $message }
summary-more-problems = … and { $count ->
    [one] 1 more kind
   *[other] { $count } more kinds
} of problem (see the error column of the results)
summary-plan = plan ({ $mode } mode): { $new } new, { $changed } changed, { $unchanged } unchanged, { $invalid } invalid; a real run would make about { $requests ->
    [one] 1 request
   *[other] { $requests } requests
}
summary-left-as-they-are = { $count ->
    [one] 1 changed obligation is in the CRM already: insert mode leaves it as it is, and a real run marks its row failed; --mode sync would update it
   *[other] { $count } changed obligations are in the CRM already: insert mode leaves them as they are, and a real run marks their rows failed; --mode sync would update them
}
summary-in-doubt = { $count ->
    [one] 1 obligation has an earlier request in doubt: it is looked up first
   *[other] { $count } obligations have an earlier request in doubt: each is looked up first
}
summary-vanished = vanished: { $count ->
    [one] 1 obligation known for this server and operation is not in the file
   *[other] { $count } obligations known for this server and operation are not in the file
} (a report only: nothing was sent for them)
summary-stopped = the run was stopped: { $why }
summary-interrupted = the run was interrupted; pass --resume to carry on
summary-ledger = ledger: { $path }
summary-results = results: { $path }
summary-payloads = payloads: { $path }
summary-rejects = rejects: { $path }
summary-vanished-file = vanished obligations: { $path }
summary-report = report: { $path }
progress-rows = rows
progress-eta = eta
progress-rate = { $rate } rows/s
progress-message = created { $created } · not ok { $failed }
