## Una fila que no se puede enviar: cada problema, como lo dice la columna
## error del archivo de resultados. El problema de una celda sigue a
## "columna "X": ".

row-cell = columna "{ $column }": { $problem }
row-cell-empty = columna "{ $column }" está vacía
row-form-number = { $problem } (o deje la columna fuera con [form] exclude)
row-width = la fila tiene { $cells } celdas pero el encabezado tiene { $width }; busque un separador de más o una comilla sin cerrar
row-not-utf8 = la fila tiene bytes que no son UTF-8; si el archivo viene de Excel o de un sistema Windows, ponga encoding = "windows-1252" en { $section }
row-utf8-forced = la fila es UTF-8, pero la sección { $section } del mapeo pone encoding = "{ $encoding }", que daña sus tildes ("{ $word }" se lee "{ $garbled }"), así que no se envía: el archivo es UTF-8; quite `encoding` de { $section }
row-unclosed-quote = una comilla abierta en esta fila nunca se cierra, así que la fila sigue hasta el final del archivo; cierre la comilla
row-duplicate = repite la fila { $first } (mismo wolkvox_id "{ $wolkvox_id }" e id "{ $id }")
row-exists-since = la obligación "{ $id }" del expediente "{ $record }" existe en el CRM desde { $since } con otros valores; no se envió nada. Use --mode sync para actualizarla
row-exists-since-earlier-run = una corrida anterior

## El valor de una celda, convertido a lo que su campo necesita.

value-error-value = tiene el valor de error { $value }
value-rounded = el número { $value } tiene más de 15 cifras, así que la hoja de cálculo ya lo redondeó (las hojas de cálculo guardan solo 15); dé formato de texto a la columna y exporte el archivo de nuevo
value-scientific = "{ $value }" es un número en notación científica: la hoja de cálculo que escribió este archivo ya perdió sus últimas cifras; dé formato de texto a la columna y exporte el archivo de nuevo
value-not-number-cell = { $value } no es un número
value-date-not-number = tiene una fecha, no un número
value-not-number = "{ $value }" no es un número (separador decimal "{ $separator }")
value-other-separator = "{ $value }" no es un número con separador decimal "{ $separator }" (¿es correcto decimal_separator?)
value-not-whole = "{ $value }" no es un número entero
value-bad-serial = { $value } no es un número de serie de fecha que Excel conozca
value-serial-60 = 60 es el 29/02/1900 de Excel, un día que no existe
value-bool-not-date = tiene VERDADERO/FALSO, no una fecha
value-empty = está vacía
value-not-real-date = "{ $value }" no es una fecha real
value-not-date = "{ $value }" no es una fecha en el formato { $formats }
value-formats-or = { $first } o { $second }
value-format-empty = un formato de fecha no puede estar vacío
value-format-invalid-hint = "{ $spec }" no es un formato de fecha válido (use códigos strftime como %d/%m/%Y)
value-format-incomplete = "{ $spec }" no indica día, mes y año (use p. ej. %d/%m/%Y)
value-format-invalid = "{ $spec }" no es un formato de fecha válido

## La clave de una celda, buscada en un archivo [lookups.NOMBRE].

lookup-value-invalid = el valor para "{ $key }" en { $file } (fila { $row }, columna "{ $column }"): { $problem }
lookup-value-empty = "{ $key }" está en { $file } (fila { $row }) pero su "{ $column }" está vacío; llénelo allí
lookup-missing = "{ $key }" no está en { $file } (columna "{ $column }"); revise la celda, o agregue su expediente a { $file }
lookup-no-key = "{ $key }" no tiene cifras que buscar en { $file } (normalize = "digits")
lookup-key-rounded = "{ $key }" está en { $file } (fila { $row }, columna "{ $column }") solo como un número de más de 15 cifras, que la hoja de cálculo ya redondeó, así que puede ser de otro documento; dé formato de texto a esa columna de { $file } y expórtelo de nuevo
lookup-missing-rounded = { $count ->
    [one] ; { $file } tiene 1 clave que su hoja de cálculo redondeó o escribió en notación científica (fila { $row }, columna "{ $column }"), que no coincide con nada: dé formato de texto a esa columna y expórtelo de nuevo
   *[other] ; { $file } tiene { $count } claves que su hoja de cálculo redondeó o escribió en notación científica (la primera en la fila { $row }, columna "{ $column }"), que no coinciden con nada: dé formato de texto a esa columna y expórtelo de nuevo
}
duplicate-keys-in-memory = no se pueden guardar las claves de la verificación de duplicados en un archivo temporal ({ $why }): se guardan en memoria, cerca de la longitud de los dos ids por fila
duplicate-keys-unreadable = no se puede volver a leer el archivo temporal de la verificación de duplicados: { $why }
