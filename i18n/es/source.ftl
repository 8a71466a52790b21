## La lectura de la entrada: por qué no se puede leer un archivo, y avisos
## sobre él.

source-column-letter = columna { $letter }
source-column-number = columna { $number }
source-where-sheet = hoja "{ $sheet }"
source-no-row-file = el archivo no tiene una fila { $n } de donde leer los nombres de las columnas (header_row = { $n })
source-no-row-sheet = la hoja "{ $sheet }" no tiene una fila { $n } de donde leer los nombres de las columnas (header_row = { $n })
source-empty-file = el archivo está vacío: no hay fila de encabezados
source-empty-workbook = el archivo está vacío: no contiene ningún libro; expórtelo o guárdelo de nuevo
source-empty-sheet = la hoja "{ $sheet }" está vacía: no hay fila de encabezados
source-empty-sheet-choose = la hoja "{ $sheet }" está vacía; las hojas del libro son { $sheets }; elija una con --sheet o con sheet en { $section }
source-blank-row-file = la fila { $n } del archivo está en blanco, así que no puede tener los nombres de las columnas (header_row = { $n })
source-blank-row-sheet = la fila { $n } de la hoja "{ $sheet }" está en blanco, así que no puede tener los nombres de las columnas (header_row = { $n })
source-header-row-problem = fila de encabezados { $row }: { $problem }
source-looks-like-workbook = parece un libro de Excel; dele al archivo su extensión (.xlsx, .xls, .xlsb u .ods)
source-html = el archivo se llama .{ $ext } pero tiene una página web (HTML), no un libro de Excel; ábralo en Excel o LibreOffice y guárdelo como .xlsx, o expórtelo como CSV
source-xml-spreadsheet = el archivo se llama .{ $ext } pero tiene una hoja de cálculo XML de Excel 2003; ábralo en Excel o LibreOffice y guárdelo como .xlsx
source-pdf = el archivo se llama .{ $ext } pero tiene un documento PDF, no un libro de Excel; pida la cartera en .xlsx o CSV
source-text = el archivo se llama .{ $ext } pero tiene texto plano, no un libro de Excel; si es una exportación CSV, cámbiele el nombre a .csv
source-no-such-file = no existe el archivo
source-permission-denied = permiso denegado
source-unnamed-value = { $path }, fila { $row }, { $column }: un valor bajo una columna sin nombre en el encabezado (fila { $header_row }); una columna así nunca se envía: póngale un nombre para enviarla en form
source-mapper-failed = el mapeo se detuvo por un error interno; por favor repórtelo
source-cannot-start = no se pueden empezar a leer las filas: { $why }
source-reading-stopped = la lectura se detuvo: { $why }

## Archivos CSV.

csv-reader-failed = el lector se detuvo por un error interno; por favor repórtelo
csv-row-too-long = error de lectura: una fila sigue por más de { $mib } MiB: una comilla que nunca se cierra, o no es una tabla de texto
csv-read-error = error de lectura: { $why }
csv-not-utf8 = la fila { $row } tiene bytes que no son UTF-8, así que el archivo está en otra codificación; si viene de Excel o de un sistema Windows, agregue encoding = "windows-1252" a la sección { $section } del mapeo
csv-utf8-forced = el archivo es UTF-8, pero la sección { $section } del mapeo pone encoding = "{ $encoding }", que dañaría todas las tildes ("{ $word }" se leería "{ $garbled }"); quite `encoding` de { $section }

## Libros de Excel.

sheet-none = el libro no tiene hojas
sheet-not-found = no hay una hoja "{ $wanted }"; las hojas son { $sheets }
sheet-malformed = el libro está dañado (el lector no pudo con él)
sheet-password = el libro está protegido con contraseña; guarde una copia sin protección e importe esa
sheet-unreadable = no se puede leer el libro: { $why }; compruebe que se abre en una hoja de cálculo
sheet-invalid-date = fecha inválida { $date }
