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
    [one] 1 request in doubt (its intent was recorded, its outcome was not: it may or may not have been sent); the next run that meets this obligation settles it first (an insert is looked up, an update is simply sent again):
   *[other] { $count } requests in doubt (their intents were recorded, their outcomes were not: each may or may not have been sent); the next run that meets these obligations settles each first (an insert is looked up, an update is simply sent again):
}
ledger-check-no-answer = no answer recorded: it may or may not have been sent
ledger-check-doubt = run { $run } row { $row }: { $method } obligation "{ $obligation }" of record "{ $record }" on { $server } / { $operation }, { $at } ({ $status })
ledger-is-folder = this is a folder, not a ledger file; give a file path, e.g. --ledger FOLDER/ledger.sqlite
ledger-held-file = another import holds this ledger file (its lock file was removed, or it was given under another name, so which one is not known); wait for it to end
ledger-gone = the ledger file was deleted or replaced during the run, so what the run records would be lost; put the ledger back (or restore it from a backup) and run with --resume
ledger-emptied = the file exists but holds no ledger: it was emptied or damaged (a full disk while it was made can do this). Restore it from a backup; to start a new ledger instead, delete the file and run the first import with --mode upsert, so that obligations already in the CRM are looked up rather than sent again
ledger-log-stays = another program had the ledger open as the run ended, so its write-ahead log stays beside it for now: back up { $path } together with { $path }-wal (or run `wolkvox-import ledger backup`); the next import folds it back
ledger-target-folder = { $path } is a folder; give a file name
ledger-target-is-ledger = { $path } is the ledger itself (or a file beside it); writing there would destroy it
ledger-target-foreign = { $path } exists and was not written by this command; choose another name, or pass --force to replace it
ledger-backed-up = ledger copied to { $path }
ledger-check-live = an import is running now (run { $run }, pid { $pid }, since { $started }); its requests in flight are not counted as in doubt
ledger-log-without-ledger = the ledger is missing but its write-ahead log { $log } is still there: it belongs to a ledger that was deleted and may hold its last changes. Restore that ledger from a backup (keeping the log beside it), or, to start a new ledger, delete { $log } and the -shm file beside it
ledger-hard-linked = this ledger file has another name (a hard link); SQLite keeps a ledger's log under the name it was opened by, so two names can lose or miss changes: keep one name (use a symbolic link instead)
ledger-target-no-folder = the folder { $folder } does not exist
ledger-link-loop = the path is a loop of symbolic links (they lead round to one another), so it names no file; point the link at the ledger's file, or give --ledger the ledger's real path
file-size-limit = the file reached the file size limit of this process ({ $limit } bytes, set by `ulimit -f` or a service's LimitFSIZE=); raise or remove the limit
ledger-target-in-use = { $path } is a ledger an import is using now ({ $holder }): writing over it would lose what that import records, so it is never replaced, not even with --force; choose another name
ledger-target-used-ledger = { $path } is a ledger that imports use ({ $lock } is beside it), not a copy made by `ledger backup`: replacing it would lose what it records; choose another name, or pass --force to replace it
ledger-target-a-ledger = { $path } is a ledger, not an earlier export: writing an export over it would lose what it records; choose another name, or pass --force to replace it
ledger-filter-server = the server { $server }
ledger-filter-operation = the operation { $operation }
ledger-filter-both = the operation { $operation } on the server { $server }
ledger-knows-no-scope = nothing yet: no import has run with this ledger
ledger-export-no-scope = the ledger { $path } knows nothing of { $filter }, so there is nothing to export; it knows (server / operation): { $known }
