## A row that cannot be sent: each problem, as the results file's error
## column says it. A cell's problem follows "column "X": ".

row-cell = column "{ $column }": { $problem }
row-cell-empty = column "{ $column }" is empty
row-form-number = { $problem } (or leave the column out with [form] exclude)
row-width = the row has { $cells } cells but the header has { $width }; check for a stray delimiter or an unclosed quote
row-not-utf8 = the row holds bytes that are not UTF-8; if the file comes from Excel or a Windows system, set encoding = "windows-1252" in { $section }
row-utf8-forced = the row is UTF-8, but the mapping's { $section } sets encoding = "{ $encoding }", which garbles its accents ("{ $word }" reads "{ $garbled }"), so it is not sent: the file is UTF-8; remove `encoding` from { $section }
row-unclosed-quote = a quote opened in this row is never closed, so the row runs to the end of the file; close the quote
row-duplicate = duplicate of row { $first } (same wolkvox_id "{ $wolkvox_id }" and id "{ $id }")
row-exists-since = obligation "{ $id }" of record "{ $record }" exists in the CRM since { $since } with other values; nothing was sent. Use --mode sync to update it
row-exists-since-earlier-run = an earlier run

## A cell's value, converted to what its field needs.

value-error-value = holds the error value { $value }
value-rounded = the number { $value } has more than 15 digits, so the spreadsheet has already rounded it (spreadsheets keep only 15); format the column as text and export the file again
value-scientific = "{ $value }" is a number in scientific notation: the spreadsheet that wrote this file has already dropped its last digits; format the column as text and export the file again
value-not-number-cell = { $value } is not a number
value-date-not-number = holds a date, not a number
value-not-number = "{ $value }" is not a number (decimal separator "{ $separator }")
value-other-separator = "{ $value }" is not a number with decimal separator "{ $separator }" (is decimal_separator right?)
value-not-whole = "{ $value }" is not a whole number
value-bad-serial = { $value } is not a date serial number Excel knows
value-serial-60 = 60 is Excel's 29/02/1900, a day that does not exist
value-bool-not-date = holds TRUE/FALSE, not a date
value-empty = is empty
value-not-real-date = "{ $value }" is not a real date
value-not-date = "{ $value }" is not a date in the format { $formats }
value-formats-or = { $first } or { $second }
value-format-empty = a date format cannot be empty
value-format-invalid-hint = "{ $spec }" is not a valid date format (use strftime codes such as %d/%m/%Y)
value-format-incomplete = "{ $spec }" does not name a day, a month and a year (use e.g. %d/%m/%Y)
value-format-invalid = "{ $spec }" is not a valid date format

## A cell's key, looked up in a [lookups.NAME] file.

lookup-value-invalid = the value for "{ $key }" in { $file } (row { $row }, column "{ $column }"): { $problem }
lookup-value-empty = "{ $key }" is in { $file } (row { $row }) but its "{ $column }" is empty; fill it in there
lookup-missing = "{ $key }" is not in { $file } (column "{ $column }"); check the cell, or add its record to { $file }
lookup-no-key = "{ $key }" has no digits to look up in { $file } (normalize = "digits")
lookup-key-rounded = "{ $key }" is in { $file } (row { $row }, column "{ $column }") only as a number of more than 15 digits, which the spreadsheet has already rounded, so it may belong to another document; format that column of { $file } as text and export it again
lookup-missing-rounded = { $count ->
    [one] ; { $file } has 1 key that its spreadsheet rounded or wrote in scientific notation (row { $row }, column "{ $column }"), which matches nothing: format that column as text and export it again
   *[other] ; { $file } has { $count } keys that its spreadsheet rounded or wrote in scientific notation (the first in row { $row }, column "{ $column }"), which match nothing: format that column as text and export it again
}
duplicate-keys-in-memory = cannot keep the duplicate check's keys in a temporary file ({ $why }): keeping them in memory, about the length of the two ids a row
duplicate-keys-unreadable = cannot read back the duplicate check's temporary file: { $why }
