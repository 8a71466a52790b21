rows-count = { $count ->
    [one] 1 row
   *[other] { $count } rows
}
note-line = note: { $message }
