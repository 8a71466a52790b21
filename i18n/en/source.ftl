## Reading the input: why a file cannot be read, and warnings about it.

source-column-letter = column { $letter }
source-column-number = column { $number }
source-where-sheet = sheet "{ $sheet }"
source-no-row-file = the file has no row { $n } to read the column names from (header_row = { $n })
source-no-row-sheet = sheet "{ $sheet }" has no row { $n } to read the column names from (header_row = { $n })
source-empty-file = the file is empty: there is no header row
source-empty-workbook = the file is empty: it holds no workbook; export or save it again
source-empty-sheet = sheet "{ $sheet }" is empty: there is no header row
source-empty-sheet-choose = sheet "{ $sheet }" is empty; the workbook's sheets are { $sheets }; choose one with --sheet or { $section } sheet
source-blank-row-file = row { $n } of the file is blank, so it cannot hold the column names (header_row = { $n })
source-blank-row-sheet = row { $n } of sheet "{ $sheet }" is blank, so it cannot hold the column names (header_row = { $n })
source-header-row-problem = header row { $row }: { $problem }
source-looks-like-workbook = this looks like a workbook; give the file its extension (.xlsx, .xls, .xlsb or .ods)
source-html = the file is named .{ $ext } but holds a web page (HTML), not a workbook; open it in Excel or LibreOffice and save it as .xlsx, or export it as CSV
source-xml-spreadsheet = the file is named .{ $ext } but holds an Excel 2003 XML spreadsheet; open it in Excel or LibreOffice and save it as .xlsx
source-pdf = the file is named .{ $ext } but holds a PDF document, not a workbook; ask for the portfolio as .xlsx or CSV
source-text = the file is named .{ $ext } but holds plain text, not a workbook; if it is a CSV export, rename it to .csv
source-no-such-file = no such file
source-permission-denied = permission denied
source-unnamed-value = { $path }, row { $row }, { $column }: a value under a column with no name in the header (row { $header_row }); such a column is never sent: give it a name to send it in form
source-mapper-failed = mapping stopped on an internal error; please report it
source-cannot-start = cannot start reading the rows: { $why }
source-reading-stopped = reading stopped: { $why }

## CSV files.

csv-reader-failed = the reader stopped on an internal error; please report it
csv-row-too-long = read error: a row runs on for more than { $mib } MiB: a quote that is never closed, or not a text table
csv-read-error = read error: { $why }
csv-not-utf8 = row { $row } holds bytes that are not UTF-8, so the file is in another encoding; if it comes from Excel or a Windows system, add encoding = "windows-1252" to the mapping's { $section } section
csv-utf8-forced = the file is UTF-8, but the mapping's { $section } sets encoding = "{ $encoding }", which would garble every accent ("{ $word }" would read "{ $garbled }"); remove `encoding` from { $section }

## Workbooks.

sheet-none = the workbook has no sheets
sheet-not-found = there is no sheet "{ $wanted }"; the sheets are { $sheets }
sheet-malformed = the workbook is malformed (the reader gave up on it)
sheet-password = the workbook is password-protected; save an unprotected copy and import that
sheet-unreadable = cannot read the workbook: { $why }; check that it opens in a spreadsheet program
sheet-invalid-date = invalid date { $date }
