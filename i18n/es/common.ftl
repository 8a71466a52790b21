rows-count = { $count ->
    [one] 1 fila
   *[other] { $count } filas
}
note-line = nota: { $message }
