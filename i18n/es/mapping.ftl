## El archivo de mapeo como TOML: dónde se detuvo la lectura y por qué.

mapping-toml-at = problema en la línea { $line }, columna { $column }
mapping-toml-unknown-key = la clave `{ $key }` no existe aquí; { $count ->
    [1] la única válida es `{ $first }`
   *[other] las válidas son { $list }
}
mapping-toml-did-you-mean = ¿quiso decir `{ $suggestion }` en lugar de `{ $key }`?
mapping-toml-unknown-value = el valor `{ $value }` no es válido aquí; { $count ->
    [1] el único válido es `{ $first }`
    [2] use `{ $first }` o `{ $second }`
   *[other] los válidos son { $list }
}
mapping-toml-missing-key = falta la clave `{ $key }`
mapping-toml-wrong-type = tipo de valor equivocado: hay { $found }, pero se esperaba { $expected }
mapping-toml-duplicate-key = clave repetida: ya aparece antes en la misma tabla
mapping-toml-other = el texto no es TOML válido: { $detail }
mapping-toml-found-string = el texto { $value }
mapping-toml-found-integer = el número { $value }
mapping-toml-found-float = el número decimal { $value }
mapping-toml-found-boolean = el valor { $value }
mapping-toml-found-sequence = una lista
mapping-toml-found-map = una tabla (o una fecha sin comillas)
mapping-toml-expected-integer = un número entero, sin comillas
mapping-toml-expected-string = un texto entre comillas
mapping-toml-expected-boolean = true o false, sin comillas
mapping-toml-expected-sequence = una lista entre corchetes, como ["%d/%m/%Y"]
mapping-toml-expected-map = una tabla
mapping-toml-expected-table = una tabla
mapping-expect-field = el nombre de una columna o una tabla como {"{"} column = "Saldo", type = "number" {"}"}
mapping-expect-form-entries = una tabla de entradas de form como "Asesor" = {"{"} column = "Cédula", lookup = "asesores" {"}"}

## Los valores del archivo de mapeo, revisados.

mapping-cannot-read = no se puede leer el archivo de mapeo: { $error }
mapping-not-utf8 = la línea { $line } tiene caracteres que no son UTF-8; guarde el mapeo como UTF-8 (en el Bloc de notas: Guardar como, Codificación: UTF-8)
mapping-operation-empty = [request] operation está vacío; escriba el nombre de la operación de su CRM
mapping-date-format = [request] date_format: { $error }
mapping-lookup-file-empty = { $at } file está vacío; indique el archivo de consulta, relativo al archivo de mapeo
mapping-lookup-key-empty = { $at } key está vacío; indique la columna del archivo de consulta que tiene la clave
mapping-lookup-value-empty = { $at } value está vacío; indique la columna del archivo de consulta que tiene el valor
mapping-wolkvox-id-required = [fields] wolkvox_id es obligatorio: el id, en el CRM, del expediente de cobranza al que se agrega cada obligación, tomado de una columna, de un lookup o de un valor fijo (docs/mapping.md, sección "Where wolkvox_id comes from")
mapping-id-required = [fields] id es obligatorio: la columna con el número de la obligación
mapping-entry-name-empty = [form.entries]: el nombre de una entrada está vacío; es el nombre que se envía en form
mapping-entry-twice = { $at } aparece dos veces
mapping-delimiter = { $at } delimiter = "{ $value }": el separador es un solo carácter, como ";" "," "|" o "\t"
mapping-encoding = { $at } encoding = "{ $value }" no es el nombre de una codificación; use p. ej. "windows-1252", "iso-8859-1" o "utf-8"
mapping-decimal-separator = { $at } decimal_separator = "{ $value }": use "." o ","
mapping-header-row = { $at } header_row = { $value }: las filas se numeran desde 1
mapping-date-formats-empty = { $at } date_formats está vacío; indique al menos un formato, como "%d/%m/%Y"
mapping-formats-not-date = { $at }: formats solo se aplica con type = "date"
mapping-formats-empty = { $at }: formats está vacío
mapping-setting-empty = { $at }: { $setting } está vacío
mapping-setting-invalid = { $at }: { $setting }: { $error }
mapping-column-and-value = { $at } tiene column y value a la vez; use column para leerlo del archivo o value para un valor fijo, no ambos
mapping-column-or-value = { $at } necesita column = "..." o value = "..."
mapping-column-empty = { $at }: el nombre de la columna está vacío
mapping-lookup-needs-column = { $at }: lookup necesita column = "...", la columna cuya celda es la clave, no value
mapping-default-with-value = { $at }: default solo se aplica a una columna, no a un valor fijo
mapping-id-not-optional = { $at }: no se permite required = false; toda obligación necesita su número
mapping-wolkvox-id-not-optional = { $at }: no se permite required = false; toda obligación necesita su expediente de cobranza
mapping-lookup-formats = { $at }: formats no se aplica con lookup; las fechas del archivo de consulta se leen con date_formats de [lookups.{ $name }]
mapping-lookup-unknown-suggest = { $at }: lookup = "{ $name }": no existe [lookups.{ $name }]; ¿quiso decir "{ $suggestion }"?
mapping-lookup-unknown-none = { $at }: lookup = "{ $name }": no existe [lookups.{ $name }]; agregue una con file, key y value (vea docs/mapping.md)
mapping-lookup-unknown-list = { $at }: lookup = "{ $name }": no existe [lookups.{ $name }]; los lookups son { $list }

## Un archivo de consulta, leído.

mapping-lookup-where-sheet = { $path }, hoja "{ $sheet }"
mapping-lookup-column = { $at } { $setting }: { $place } (fila de encabezados { $row }): { $error }
mapping-lookup-row-problem = { $at } { $place }, fila { $row }: { $problem }
mapping-lookup-no-rows = { $at } { $place } tiene encabezado pero ninguna fila: ninguna fila de la entrada podría encontrar ahí su valor. Exporte de nuevo los expedientes, con sus filas
mapping-lookup-no-keys = { $at } { $place }: { $rows ->
    [one] su única fila no tiene
   *[other] ninguna de sus { $rows } filas tiene
} clave en la columna "{ $column }": ninguna fila de la entrada podría encontrar ahí su valor. Revise key en [lookups], o exporte de nuevo los expedientes
mapping-lookup-cell = fila { $row }, columna "{ $column }": { $error }; corrija la celda o borre la fila
mapping-lookup-conflict = filas { $first } y { $row }: la clave "{ $key }"{ $written } (columna "{ $column }"{ $normalize }) tiene dos valores en la columna "{ $value_column }": "{ $one }" y "{ $other }"; deje solo una de las filas, o ponga duplicates = "first" en [lookups.{ $name }] para usar la primera
mapping-lookup-written = ("{ $key }" en la fila { $row })
mapping-lookup-too-large = fila { $row }: el archivo de consulta tiene más de 4 GiB de claves y valores; deje solo las columnas de la clave y del valor
lookup-table-read = tabla de búsqueda leída

## El mapeo, resuelto contra el encabezado de la entrada.

mapping-column-not-found-suggest = no se encontró la columna "{ $wanted }"; ¿quiso decir "{ $suggestion }"?
mapping-column-not-found-garbled = no se encontró la columna "{ $wanted }"; el encabezado tiene "{ $garbled }", que es "{ $fixed }" leído con la codificación equivocada: revise encoding en [source]
mapping-column-not-found-list = no se encontró la columna "{ $wanted }"; las columnas son { $list }
mapping-column-ambiguous = la columna "{ $wanted }" es ambigua: dos columnas tienen ese nombre, { $first_at } y { $second_at } (fila de encabezados { $row }); cambie el nombre de una de ellas en el archivo
mapping-same-name-in-form = dos columnas tienen el mismo nombre: "{ $first }" ({ $first_at }) y "{ $second }" ({ $second_at }), fila de encabezados { $row }, y ambas se enviarían en form con ese nombre; cambie el nombre de una de ellas en el archivo, o déjelas fuera con [form] exclude = [{ $exclude }]
mapping-lookup-not-read = el lookup "{ $lookup }" no se leyó antes de las filas
mapping-rename-empty = [form] rename: el nombre nuevo para "{ $column }" está vacío
mapping-entry-also-in-form = [form.entries] "{ $name }": la columna "{ $column }" también se envía en form como "{ $name }"; agréguela a [form] exclude o elija otro nombre
mapping-form-same-name = [form]: las columnas "{ $first }" y "{ $second }" se envían ambas en form como "{ $name }"; el CRM recibe dos entradas con ese nombre (revise [form] rename)
mapping-header-delimiter = el encabezado (fila { $row }) tiene una sola columna, "{ $name }"; el archivo parece separado por "{ $delimiter }": ponga delimiter = "{ $delimiter }" en [source], o quite delimiter para que se detecte solo
mapping-header-csv-in-sheet = el encabezado (fila { $row }) es una sola celda, "{ $name }", con los nombres de las columnas separados por "{ $delimiter }": la hoja tiene texto CSV en una columna; importe el CSV mismo, o divida la columna (Datos > Texto en columnas) y guarde
mapping-header-title = el encabezado (fila { $row }) tiene una sola columna, "{ $name }", que parece un título: si los nombres de las columnas están en una fila más abajo, ponga header_row en esa fila en [source] (inspect --header-row N muestra las columnas de la fila N)
