report-title-dry-run = Validation report (dry run)
report-title-run = Import report
report-subtitle-dry-run = { $file }: dry run, nothing was sent to the CRM
report-subtitle-run = { $file } loaded into { $server }
report-exit-0 = Exit code 0: every row ended well.
report-exit-1 = Exit code 1: the run finished, but some rows did not end well (see Problems).
report-exit-2 = Exit code 2: nothing was sent; the command, the mapping or the file prevents it.
report-exit-3 = Exit code 3: the run was stopped after sending began; the rows left are not_sent (carry on with --resume).
report-exit-130 = Exit code 130: the run was interrupted (Ctrl-C, SIGTERM or SIGHUP) after finishing the requests in flight; carry on with --resume.
report-mode-insert = insert: create the obligations not sent yet
report-mode-sync = sync: create new obligations, update changed ones
report-mode-update = update: update changed obligations
report-mode-upsert = upsert: like sync, looking up first what the ledger does not know
report-mode-dry-run-planned = dry run, planned for { $mode }
report-mode-dry-run = dry run (no ledger for this server and operation, so no plan)
report-section-run = The run
report-section-outcome = Outcome
report-section-problems = Problems
report-section-portfolio = The portfolio
report-section-timeline = Pace of the run
report-col-status = Status
report-col-rows = Rows
report-col-share = Share
report-col-row = Row
report-col-rank = #
report-col-obligation = Obligation
report-col-portfolio-type = Portfolio type
report-col-balance = Total balance
report-col-cell = Cell
report-col-record-obligation = Record / obligation
report-fix-label = How to fix it:
report-chart-largest = The 5 largest balances
report-footer = Written by wolkvox-import { $version }. A self-contained page: it loads nothing from the internet.
report-fact-input = File
report-fact-fingerprint = fingerprint { $fingerprint }
report-fact-mapping = Mapping
report-fact-operation = Operation
report-fact-server = Server
report-fact-no-server = none (dry run)
report-fact-server-planned = { $server } (dry run: nothing was sent)
report-fact-mode = Mode
report-fact-started = Started
report-fact-ended = Ended
report-fact-duration = Duration
report-status-valid = Valid
report-status-created = Created
report-status-updated = Updated
report-status-unchanged = Unchanged
report-status-invalid = Invalid
report-status-failed = Failed
report-status-uncertain = Uncertain
report-status-not-sent = Not sent
report-note-no-header = The file is empty: it has no header row, so the mapping's columns could not be checked.
report-note-no-rows = The file has a header but no data rows.
report-plan-intro = Plan by the ledger ({ $mode }): what a real run would do.
report-plan-new = New obligations
report-plan-changed = Changed obligations
report-plan-unchanged = Unchanged (nothing sent)
report-plan-requests = Requests it would make (about)
report-plan-in-doubt = With an earlier request in doubt (looked up first)
report-plan-none = The ledger knows nothing of this server and operation: a real run would send every valid row.
report-fig-requests = Requests made
report-fig-per-obligation = Requests per obligation written
report-fig-retries = Retries
report-fig-lookups = Look-ups (queryObligation)
report-fig-quota = The token's daily quota
report-fig-quota-value = { $used } of { $limit } used; { $left } left
report-fig-quota-note = (about: as read at the start, plus this run's requests)
report-fig-quota-unknown = not known (it was not read)
report-note-carried = { $count ->
    [one] 1 row was already done by an earlier run (no request made).
   *[other] { $shown } rows were already done by an earlier run (no request made).
}
report-note-stopped = The run was stopped: { $why }
report-note-interrupted = The run was interrupted; carry on with --resume.
report-kind-empty = empty cell
report-fix-empty = Fill in the cell. If the field may be empty, give it default = "..." or required = false in the mapping.
report-kind-not-number = not a number
report-fix-not-number = Write the amount with digits only (e.g. 1,234,567.89) and remove words such as N/A; check decimal_separator in the mapping.
report-kind-decimal-separator = another decimal separator than the mapping's
report-fix-decimal-separator = The amount uses the other decimal separator: fix the cell, or the mapping's [source] decimal_separator if the whole file is written that way.
report-kind-not-whole = not a whole number
report-fix-not-whole = Days past due and other whole numbers take no decimals: round the value.
report-kind-impossible-date = impossible date
report-fix-impossible-date = That day does not exist (e.g. 31/02): write the real date.
report-kind-not-date = not a date in the expected format
report-fix-not-date = Write the date as the mapping's date_formats say (e.g. dd/mm/yyyy), or add that format to the mapping.
report-kind-error-value = a spreadsheet error
report-fix-error-value = The cell holds a formula error (#N/A, #REF!...): fix the formula or paste the value.
report-kind-wrong-type = the wrong kind of cell
report-fix-wrong-type = The cell holds another kind of data (a date where a number goes, TRUE/FALSE): put the right value in.
report-kind-not-in-lookup = not in the lookup file
report-fix-not-in-lookup = The key is not in the lookup file: check the cell, or add its record to the lookup file (the error column names it).
report-kind-not-in-lookup-file = not in the lookup file { $file }
report-fix-not-in-lookup-file = The key is not in { $file }: check the cell, or add its record to { $file }.
report-kind-lookup-no-key = nothing to look up in the cell
report-fix-lookup-no-key = The cell has no digits to look up (normalize = "digits"): write the customer's document in it.
report-kind-lookup-key-rounded = a key the lookup file's spreadsheet rounded
report-fix-lookup-key-rounded = The lookup file holds this key as a number of more than 15 digits, which its spreadsheet has already rounded: format its key column as text and export it again.
report-kind-lookup-value = the lookup file's value cannot be used
report-fix-lookup-value = Correct the value in the lookup file (the error column names its row and column).
report-kind-lookup-value-empty = the lookup file's value is empty
report-fix-lookup-value-empty = Fill in the value in the lookup file (the error column names its row).
report-kind-scientific = an id or key in scientific notation
report-fix-scientific = The spreadsheet that wrote the file showed the number as 4,54041E+15 and dropped its last digits: format the column as text and export the file again.
report-kind-cell = a problem with the cell
report-fix-cell = Read the message in the results file's error column and fix the cell.
report-kind-row-width = the row does not have the header's number of columns
report-fix-row-width = Look for a stray delimiter or an unclosed quote in that row.
report-kind-encoding = characters that are not UTF-8
report-fix-encoding = Set encoding = "windows-1252" in the mapping's [source] if the file comes from Excel or Windows.
report-kind-forced-encoding = UTF-8 text read as another encoding
report-fix-forced-encoding = The file is UTF-8: remove encoding from the mapping's [source].
report-kind-unclosed-quote = a quote never closed
report-fix-unclosed-quote = Close the quote that opens in that row; until then the row runs to the end of the file.
report-kind-duplicate = a repeated obligation (same wolkvox_id and id as an earlier row)
report-fix-duplicate = Keep one row per obligation, or correct the obligation's number.
report-kind-row = a problem with the row
report-fix-row = Read the message in the results file's error column.
report-kind-exists = already in the CRM with other values
report-fix-exists = Nothing was sent. To update it, import again with --mode sync.
report-kind-gave-up = the server kept failing after several tries
report-fix-gave-up = Transient server errors: import again later; with --resume only what is missing is sent.
report-kind-uncertain = sent, but whether it went in is unknown
report-fix-uncertain = Check it in the CRM, or import again: the next run looks it up before sending anything for it.
report-kind-refused = the API refused the row
report-fix-refused = Read the API's message, fix the row and import the rejects file (--rejects) with the same mapping.
report-kind-other = other problems
report-fix-other = See the error column of the results file.
report-cut = [cut: the cell has { $chars } characters]
report-problem-more = { $count ->
    [one] … and 1 more row (see the results file).
   *[other] … and { $shown } more rows (see the results file).
}
report-rows = { $count ->
    [one] { $shown } row
   *[other] { $shown } rows
}
report-problems-none = No row has a problem.
report-problems-intro = Invalid rows: { $invalid }. Failed or uncertain: { $failed }. Kinds of problem: { $kinds }, most frequent first. A row with several bad cells is counted under each.
report-portfolio-intro = { $count ->
    [one] 1 valid obligation
   *[other] { $obligations } valid obligations
}, with a total balance of { $balance }. The charts count valid rows only.
report-portfolio-intro-no-balance = { $count ->
    [one] 1 valid obligation
   *[other] { $obligations } valid obligations
}. The mapping has no total_balance field, so no balance is shown. The charts count valid rows only.
report-chart-unmapped = The mapping has no { $field } field, so this chart cannot be drawn.
report-chart-no-rows = No valid rows to show.
report-chart-unread = { $count ->
    [one] 1 row without a readable { $field } is left out.
   *[other] { $shown } rows without a readable { $field } are left out.
}
report-chart-failed = The chart could not be drawn: { $why }
report-axis-obligations = Obligations
report-axis-balance = Total balance
report-axis-rows-per-minute = Rows per minute
report-chart-dpd-obligations = Obligations by days past due
report-chart-dpd-balance = Total balance by days past due
report-chart-by-type = Total balance by portfolio type
report-chart-histogram = Obligations by balance (log scale)
report-chart-other-types = Other types
report-chart-no-type = (no type)
report-chart-histogram-outside = { $count ->
    [one] 1 balance off the scale (zero, negative, or 10¹² and more) is left out.
   *[other] { $shown } balances off the scale (zero, negative, or 10¹² and more) are left out.
}
report-chart-timeline = Rows finished per minute (intervals of { $interval })
report-timeline-note = Retries: { $retries }. Answers asking to slow down (429, or too many simultaneous requests): { $throttled }. Each mark falls in the interval its row finished in.
report-timeline-sent = Rows that needed requests
report-timeline-settled = Rows settled without a request
report-timeline-retries = Interval with retries
report-timeline-throttled = Interval with throttling
report-num-thousands = k
report-num-millions = M
report-num-billions = B
