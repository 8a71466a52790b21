# Mensajes de wolkvox-import en español.
# Cada clave debe existir también en en.ftl (una prueba lo comprueba).
# Los valores de estado (created, invalid...), los nombres de columna del
# archivo de resultados y los códigos de salida no se traducen.

rows-count = { $count ->
    [one] 1 fila
   *[other] { $count } filas
}
