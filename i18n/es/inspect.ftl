inspect-file = archivo: { $path }
inspect-format-csv-detected = formato: CSV, separador { $delimiter } (detectado)
inspect-format-csv-given = formato: CSV, separador { $delimiter } (según el mapeo)
inspect-tab = tabulador (TAB)
inspect-encoding = codificación: { $encoding }
inspect-encoding-bom = codificación: { $encoding } (con marca de orden de bytes { $bom })
inspect-encoding-not-utf8 = codificación: no es UTF-8; se lee como windows-1252 (agregue encoding = "windows-1252" en [source])
inspect-warning = advertencia: { $message }
inspect-row-problem = fila { $row }: { $problem }
inspect-format-workbook = formato: libro de cálculo, hojas: { $sheets }
inspect-sheet = hoja: "{ $sheet }"
inspect-header-row = fila de encabezados: { $row }
inspect-header-row-below-title = fila de encabezados: { $row } (debajo de un título; para elegir otra, ponga header_row en [source] o use --header-row)
inspect-data-rows = filas de datos: { $count }
inspect-decimal = separador decimal en los números escritos como texto: "{ $separator }"
inspect-same-name = { $count } columnas tienen el mismo nombre, "{ $name }" ({ $positions }): un mapeo no puede nombrarlas, ni enviarlas ambas en form; cambie el nombre de una de ellas en el archivo, o déjelas fuera con [form] exclude = [{ $exclude }]
inspect-same-name-mark = (mismo nombre que { $others })
inspect-columns = columnas (con el tipo que se escribe en type del mapeo):
inspect-column = { $number }. "{ $name }"  { $kind }  p. ej. { $samples }
inspect-kind-empty = vacía
inspect-kind-date-format = date ({ $format })
