inspect-file = file: { $path }
inspect-format-csv-detected = format: CSV, delimiter { $delimiter } (detected)
inspect-format-csv-given = format: CSV, delimiter { $delimiter } (from the mapping)
inspect-tab = TAB
inspect-encoding = encoding: { $encoding }
inspect-encoding-bom = encoding: { $encoding } (with a { $bom } byte-order mark)
inspect-encoding-not-utf8 = encoding: not UTF-8; reads as windows-1252 (add encoding = "windows-1252" to [source])
inspect-warning = warning: { $message }
inspect-row-problem = row { $row }: { $problem }
inspect-format-workbook = format: workbook, sheets: { $sheets }
inspect-sheet = sheet: "{ $sheet }"
inspect-header-row = header row: { $row }
inspect-header-row-below-title = header row: { $row } (below a title; set header_row in [source] or pass --header-row to choose another)
inspect-data-rows = data rows: { $count }
inspect-decimal = decimal separator in number texts: "{ $separator }"
inspect-same-name = { $count } columns have the same name, "{ $name }" ({ $positions }): a mapping cannot name them, nor send them both in form; rename one of them in the file, or leave them out with [form] exclude = [{ $exclude }]
inspect-same-name-mark = (same name as { $others })
inspect-columns = columns:
inspect-column = { $number }. "{ $name }"  { $kind }  e.g. { $samples }
inspect-kind-empty = empty
inspect-kind-date-format = date ({ $format })
