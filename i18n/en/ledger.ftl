ledger-disk-full = No space left on device (the ledger could not be written)
ledger-not-a-database = this file is not a ledger (not an SQLite database); restore the ledger from a backup, or move this file away and run once with --mode upsert to rebuild it
ledger-damaged = the ledger is damaged; restore it from a backup, or move it away and run once with --mode upsert to rebuild it
ledger-read-only = the ledger cannot be written ({ $why })
ledger-folder = cannot create the ledger's folder: { $why }
ledger-newer = this ledger was written by a newer wolkvox-import (schema { $version }); use that version
ledger-other-application = this is an SQLite database of another application, not a wolkvox-import ledger; pass the right --ledger
ledger-scope-missing = the scope just recorded is missing
ledger-too-many = more obligations than this version can hold
lock-holder = pid { $pid } on { $host }, started { $started }
lock-held = another import holds the ledger { $path } ({ $holder }); wait for it to finish, or use another --ledger
lock-io = { $path }: cannot lock the ledger: { $why }
lock-details-missing = details not recorded
this-machine = this machine
ledger-none-yet = { $path }: there is no ledger here yet (a real import creates it); pass --ledger or set WOLKVOX_LEDGER to look at another
error-line = error: { $message }
ledger-no-runs = no runs recorded yet
ledger-run-ended = exit { $code } after { $seconds } s
ledger-run-unfinished = unfinished (pid { $pid } on { $host })
ledger-run-no-rows = no rows
ledger-run = run { $id }  { $started }  { $end }  { $mode } mode  { $server } / { $operation }  { $counts }, { $requests } requests  input { $input }  results { $output }
ledger-run-stopped = stopped: { $why }
ledger-exported = { $count ->
    [one] 1 obligation written to { $path }
   *[other] { $count } obligations written to { $path }
}
ledger-check-damaged = { $path }: the ledger is damaged:
ledger-check-restore = Restore it from a backup, or move it away and run once with --mode upsert to rebuild it.
ledger-check-ok = { $path }: integrity ok
ledger-check-no-doubt = no request in doubt
ledger-check-doubts = { $count ->
    [one] 1 request in doubt (sent, outcome unknown); the next run that meets this obligation looks it up before sending anything for it:
   *[other] { $count } requests in doubt (sent, outcome unknown); the next run that meets these obligations looks each up before sending anything for it:
}
ledger-check-no-answer = no answer recorded
ledger-check-doubt = run { $run } row { $row }: { $method } obligation "{ $obligation }" of record "{ $record }" on { $server } / { $operation }, { $at } ({ $status })
