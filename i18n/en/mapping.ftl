## The mapping file as TOML: where the reader stopped and why.

mapping-toml-at = TOML parse error at line { $line }, column { $column }
mapping-toml-unknown-key = unknown field `{ $key }`, expected { $count ->
    [1] `{ $first }`
    [2] `{ $first }` or `{ $second }`
   *[other] one of { $list }
}
mapping-toml-did-you-mean = did you mean `{ $suggestion }` instead of `{ $key }`?
mapping-toml-unknown-value = unknown variant `{ $value }`, expected { $count ->
    [1] `{ $first }`
    [2] `{ $first }` or `{ $second }`
   *[other] one of { $list }
}
mapping-toml-missing-key = missing field `{ $key }`
mapping-toml-wrong-type = invalid type: { $found }, expected { $expected }
mapping-toml-duplicate-key = duplicate key
mapping-toml-other = { $detail }
mapping-toml-found-string = string { $value }
mapping-toml-found-integer = integer { $value }
mapping-toml-found-float = floating point { $value }
mapping-toml-found-boolean = boolean { $value }
mapping-toml-found-sequence = sequence
mapping-toml-found-map = map
mapping-toml-expected-integer = i64
mapping-toml-expected-string = a string
mapping-toml-expected-boolean = a boolean
mapping-toml-expected-sequence = a sequence
mapping-toml-expected-map = a map
mapping-toml-expected-table = struct { $name }
mapping-expect-field = a column name or a table such as {"{"} column = "Saldo", type = "number" {"}"}
mapping-expect-form-entries = a table of form entries such as "Asesor" = {"{"} column = "Cédula", lookup = "asesores" {"}"}

## The mapping file's settings, checked.

mapping-cannot-read = cannot read the mapping file: { $error }
mapping-not-utf8 = line { $line } holds characters that are not UTF-8; save the mapping as UTF-8 (in Notepad: Save as, Encoding: UTF-8)
mapping-operation-empty = [request] operation is empty; set it to your CRM operation's name
mapping-date-format = [request] date_format: { $error }
mapping-lookup-file-empty = { $at } file is empty; name the lookup file, relative to the mapping file
mapping-lookup-key-empty = { $at } key is empty; name the lookup file's column that holds the key
mapping-lookup-value-empty = { $at } value is empty; name the lookup file's column that holds the value
mapping-wolkvox-id-required = [fields] wolkvox_id is required: the CRM's id of the collections record each obligation is added to, from a column, a lookup or a constant (docs/mapping.md, "Where wolkvox_id comes from")
mapping-id-required = [fields] id is required: the column with the obligation's number
mapping-entry-name-empty = [form.entries]: an entry's name is empty; it is the name sent in form
mapping-entry-twice = { $at } is listed twice
mapping-delimiter = { $at } delimiter = "{ $value }": a delimiter is one character such as ";" "," "|" or "\t"
mapping-encoding = { $at } encoding = "{ $value }" is not an encoding name; use e.g. "windows-1252", "iso-8859-1" or "utf-8"
mapping-decimal-separator = { $at } decimal_separator = "{ $value }": use "." or ","
mapping-header-row = { $at } header_row = { $value }: rows are numbered from 1
mapping-date-formats-empty = { $at } date_formats is empty; list at least one format such as "%d/%m/%Y"
mapping-formats-not-date = { $at }: formats only apply to type = "date"
mapping-formats-empty = { $at }: formats is empty
mapping-setting-empty = { $at }: { $setting } is empty
mapping-setting-invalid = { $at }: { $setting } { $error }
mapping-column-and-value = { $at } has both column and value; use column to read it from the file or value for a constant, not both
mapping-column-or-value = { $at } needs column = "..." or value = "..."
mapping-column-empty = { $at }: the column name is empty
mapping-lookup-needs-column = { $at }: lookup needs column = "...", the column whose cell is the key, not value
mapping-default-with-value = { $at }: default only applies to a column, not to a constant value
mapping-id-not-optional = { $at }: required = false is not allowed; every obligation needs its number
mapping-wolkvox-id-not-optional = { $at }: required = false is not allowed; every obligation needs its collections record
mapping-lookup-formats = { $at }: formats does not apply with lookup; the lookup file's dates are read with date_formats in [lookups.{ $name }]
mapping-lookup-unknown-suggest = { $at }: lookup = "{ $name }": there is no [lookups.{ $name }]; did you mean "{ $suggestion }"?
mapping-lookup-unknown-none = { $at }: lookup = "{ $name }": there is no [lookups.{ $name }]; add one with file, key and value (see docs/mapping.md)
mapping-lookup-unknown-list = { $at }: lookup = "{ $name }": there is no [lookups.{ $name }]; the lookups are { $list }

## A lookup file, read.

mapping-lookup-where-sheet = { $path }, sheet "{ $sheet }"
mapping-lookup-column = { $at } { $setting }: { $place } (header row { $row }): { $error }
mapping-lookup-row-problem = { $at } { $place }, row { $row }: { $problem }
mapping-lookup-no-rows = { $at } { $place } has a header and no rows: no row of the input could find its value there. Export the records again, with their rows
mapping-lookup-no-keys = { $at } { $place }: none of its { $rows ->
    [one] 1 row has
   *[other] { $rows } rows have
} a key in column "{ $column }": no row of the input could find its value there. Check key in [lookups], or export the records again
mapping-lookup-cell = row { $row }, column "{ $column }": { $error }; correct the cell or delete the row
mapping-lookup-conflict = rows { $first } and { $row }: the key "{ $key }"{ $written } (column "{ $column }"{ $normalize }) has two values in column "{ $value_column }": "{ $one }" and "{ $other }"; keep one of the rows, or set duplicates = "first" in [lookups.{ $name }] to use the first
mapping-lookup-written = ("{ $key }" in row { $row })
mapping-lookup-too-large = row { $row }: the lookup file holds more than 4 GiB of keys and values; keep only the key and value columns
lookup-table-read = lookup table read

## The mapping resolved against the input's header.

mapping-column-not-found-suggest = column "{ $wanted }" not found; did you mean "{ $suggestion }"?
mapping-column-not-found-garbled = column "{ $wanted }" not found; the header has "{ $garbled }", which is "{ $fixed }" read in the wrong encoding: check [source] encoding
mapping-column-not-found-list = column "{ $wanted }" not found; the columns are { $list }
mapping-column-ambiguous = column "{ $wanted }" is ambiguous: two columns have that name, { $first_at } and { $second_at } (header row { $row }); rename one of them in the file
mapping-same-name-in-form = two columns have the same name: "{ $first }" ({ $first_at }) and "{ $second }" ({ $second_at }), header row { $row }, and both would be sent in form under it; rename one of them in the file, or leave them out with [form] exclude = [{ $exclude }]
mapping-lookup-not-read = the lookup "{ $lookup }" was not read before the rows
mapping-rename-empty = [form] rename: the new name for "{ $column }" is empty
mapping-entry-also-in-form = [form.entries] "{ $name }": column "{ $column }" is also sent in form as "{ $name }"; add it to [form] exclude or choose another name
mapping-form-same-name = [form]: columns "{ $first }" and "{ $second }" are both sent in form as "{ $name }"; the CRM gets two entries of that name (check [form] rename)
mapping-header-delimiter = the header (row { $row }) has one column, "{ $name }"; the file looks "{ $delimiter }"-separated: set delimiter = "{ $delimiter }" in [source], or remove delimiter to have it detected
mapping-header-csv-in-sheet = the header (row { $row }) is one cell, "{ $name }", holding the column names separated by "{ $delimiter }": the sheet holds CSV text in one column; import the CSV itself, or split the column (Data > Text to Columns) and save
mapping-header-title = the header (row { $row }) has a single column, "{ $name }", which looks like a title: if the column names are on a lower row, set header_row to that row in [source] (inspect --header-row N shows the columns of row N)
