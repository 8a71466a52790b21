no-server = no server: pass --server crm0001.wolkvox.com (the host you see in the browser) or set WOLKVOX_SERVER
resume-dry-run = --resume continues a run that sends; a dry run sends nothing (drop --resume)
noun-input-file = the input file
noun-mapping-file = the mapping file
noun-ledger = the ledger
noun-lookup-file = the lookup file of [lookups.{ $name }]
noun-ledger-file = a file kept beside the ledger { $ledger } (its journal or its lock)
noun-token-file = the token file (--token-file)
noun-ca-cert-file = the certificate file (--ca-cert)
operation-empty = --operation is empty
no-operation = { $mapping }: no operation: set {"["}request] operation = "..." in the mapping or pass --operation
operation-placeholder = { $mapping }: {"["}request] operation is still "{ $placeholder }"; set it to your CRM operation before sending
operation-placeholder-flag = --operation "{ $placeholder }" is the placeholder that mapping init writes: give your CRM operation before sending
task-failed = the run's reading task failed: { $why }
ledger-new = starting a new ledger at { $path }: this run cannot know what earlier runs sent. If an earlier ledger was lost, run once with --mode upsert to rebuild it
resuming = resuming the run of { $started } that wrote { $output }: rows it brought to their end are not sent again
resume-input-changed = the input differs from the run being resumed; rows are matched by obligation, and changed ones are handled as --mode { $mode } handles them
resume-nothing = no earlier run wrote { $output }; starting a new run
doubts-at-start = { $count ->
    [one] 1 earlier insert's outcome is unknown: the obligation is looked up before anything is sent for it
   *[other] { $count } earlier inserts' outcomes are unknown: each obligation is looked up before anything is sent for it
}
doubts-at-start-updates = { $count ->
    [one] 1 earlier update's outcome is unknown: it is not looked up; the update is sent again if the row still needs it (an update repeated changes nothing more)
   *[other] { $count } earlier updates' outcomes are unknown: they are not looked up; each update is sent again if its row still needs it (an update repeated changes nothing more)
}
max-requests-reached = --max-requests { $max } reached
quota-restart-hours = in about { $hours } hours
quota-restart-tomorrow = tomorrow
quota-used-up = the token's daily quota ({ $limit } requests) is used up; run again with --resume after it restarts { $restart }
unreachable = cannot reach the server { $host }: { $why }. Nothing was sent; check --server, the network, the name server and any proxy, then run again
server-gone = the server { $host } stopped accepting connections ({ $why }); nothing more is sent. Run again with --resume once it is back
not-sent-cannot-connect = not sent: { $attempts ->
    [one] its one attempt did not reach
   *[other] none of its { $attempts } attempts reached
} the server ({ $why })
not-sent-stopped = not sent: the run was stopped ({ $why })
not-sent-interrupted = not sent: the run was interrupted
not-sent = not sent
uncertain = sent, but whether obligation "{ $id }" of record "{ $record }" went in is unknown ({ $why }); check it in the CRM, or run again (--resume continues this run): the next run looks it up before sending anything for it
gave-up = gave up after { $attempts } attempts: { $why }
lookups-failing = the look-ups kept failing: { $why }
lookup-stopped-before = the run stopped before the look-up could answer
server-unreachable-short = the server cannot be reached
lookup-stopped-during = the run stopped during the look-up
exists-found = obligation "{ $id }" of record "{ $record }" is already in the CRM with other values (an earlier run sent them); use --mode sync to update it
quota-left = token quota: { $left } of { $limit } requests left today
quota-no-limit = the token information answer has no token_limit; going on without a quota check
token-refused = { $message }: the server refused the token; check WOLKVOX_TOKEN or --token-file
quota-already-used = { $message }: the token's daily quota is already used up; run again with --resume once it restarts
token-info-404 = the server answered 404 for { $url }; check --server (the base should end in /server/API/v2/)
quota-unreadable = could not read the token's quota ({ $why }); going on without a quota check
quota-exceeded = { $message }: the token's daily quota is used up; run again with --resume once it restarts
interrupted-draining = interrupted: finishing the requests in flight, then writing the results
signal-again = press Ctrl-C again to leave at once
signal-again-named = { $signal } received; a second signal (SIGTERM, SIGHUP or Ctrl-C) leaves at once
signal-leaving = leaving at once; run again with --resume to finish
the-mapping-named = the mapping { $path }
the-mapping = the mapping
mapping-does-not-fit = { $input }: { $mapping } does not fit the file's header (row { $row }):
rejects-overwrite-input = --rejects { $rejects } would overwrite the input file { $input }
input-empty = { $input } is empty: it has no header row, so the mapping's columns could not be checked; nothing to import (pass --expect-rows N to make this an error)
no-data-rows = { $input } has a header but no data rows: nothing to import (pass --expect-rows N to make this an error)
report-unwritable = cannot write the report { $path }: { $why }
expect-rows = { $rows ->
    [one] 1 data row
   *[other] { $rows } data rows
}, fewer than --expect-rows { $expected }; nothing was sent (is the export complete?)
plan-many-servers = the ledger knows operation "{ $operation }" on { $count } servers ({ $servers }); pass --server to see the plan for one
run-blocking-in-async = import::run_blocking was called from async code; await import::run instead
runtime-failed = cannot start the async runtime: { $why }
operation-placeholder-dry = { $mapping }: {"["}request] operation is still "{ $placeholder }"; set it to your CRM operation, or sending will refuse to start
operation-placeholder-flag-dry = --operation "{ $placeholder }" is the placeholder that mapping init writes: give your CRM operation, or sending will refuse to start
duration-bad = "{ $value }" is not a duration; write e.g. 30s, 500ms or 2m
duration-too-long = "{ $value }" is far too long a duration
timeout-too-short = --timeout { $value } is too short: a request needs at least { $min } to be answered, or every row ends in doubt; the default is 30s
timeout-too-long = --timeout { $value } is more than the 1h a single request may be given; the API answers in well under a minute
ledger-empty-option = --ledger is empty
ledger-no-home = no per-user state folder is known on this machine (HOME is not set); pass --ledger FILE or set WOLKVOX_LEDGER
fake-reachable = fake-crm listens on { $listen }, which other machines can reach, and without --token it accepts the token "{ $token }" that anyone reading the README knows; pass --token to choose your own
fake-cannot-listen = fake-crm: cannot listen on { $listen }: { $why }
fake-ready = fake CRM ready at { $url } (Ctrl-C to stop)
fake-stopped = fake CRM stopped: { $requests } requests, { $inserts } inserts, { $updates } updates, { $queries } queries, max { $in_flight } in flight
concurrency-above-limit = --concurrency { $concurrency } is above the API's limit of 2 simultaneous requests per token; expect 403 answers and retries
allow-changed-input = --allow-changed-input is no longer needed and has no effect: the ledger judges every row
token-both = both WOLKVOX_TOKEN and --token-file are set; using the token in { $path } (WOLKVOX_TOKEN is ignored)
token-env-not-text = WOLKVOX_TOKEN: the token holds a character a token cannot have (it is not valid text)
no-token = no token: set the WOLKVOX_TOKEN environment variable or pass --token-file FILE
token-assignment = the token is written as NAME=value, as in a .env file or a script; write only the token itself, on one line, with nothing before it
token-char-space = a space
token-file-too-big = { $path }: the token file is larger than { $max }, or never ends (a device?); a token is one short line: is this the right file?
write-failed-ledger = cannot write the ledger: { $why }; nothing more is sent. Once the ledger can be written again (space freed, the file fixed or put back), run again with --resume to carry on
write-failed = cannot write { $why }; nothing more is sent. Free the space or fix the file, then run again with --resume to carry on
update-id-ignored = the update went in ({ $why }); the obligation's id already known is kept
outcome-unknown-lookup = outcome unknown ({ $why }); looking the obligation up before any resend
rate-bad = --rate "{ $value }": write it as N/s or N/min, e.g. 2/s or 100/min
rate-zero = --rate "{ $value }": the rate must be at least 1
breaker-tripped = { $count } rows in a row failed with transient errors (last: { $last }); the server seems down
run-end-unrecorded = could not record the run's end in the ledger: { $why }
plan-no-ledger = the ledger { $path } does not exist yet: a real run would send every valid row
plan-unknown-operation = the ledger knows nothing of operation "{ $operation }": a real run would send every valid row
plan-unknown-scope = the ledger knows nothing of { $server } / { $operation }: a real run would send every valid row
resume-ledger-gone = --resume: { $output } says an earlier run sent { $count ->
    [one] 1 row
   *[other] { $count } rows
} (created, updated or uncertain), but the ledger that knew that run, { $ledger }, is gone, and this run would start a new, empty one: resuming now would send those rows again and create their obligations a second time. Restore the ledger from a backup to { $ledger }; or run once with --mode upsert, which looks each obligation up before writing it and so rebuilds the ledger; or, to start over on purpose, move { $output } away
