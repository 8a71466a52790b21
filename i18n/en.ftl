# wolkvox-import's messages in English.
# Every key must also be in es.ftl (a test checks it).
# Status values (created, invalid...), the results file's column names and
# exit codes are not translated.

rows-count = { $count ->
    [one] 1 row
   *[other] { $count } rows
}
