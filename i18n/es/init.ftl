init-title = Mapeo inicial para { $file }
init-check = Revise cada línea y luego valídelo con:
init-operation = La operación del CRM que recibe las obligaciones: cambie { $placeholder } antes de enviar.
init-displaced = ^ "{ $column }" también parecía un id de expediente; se envía en form, salvo que lo use aquí en su lugar
init-not-dates = { $column } no se leyó como fechas en la muestra: revise date_formats en [source]
init-required = { $field } es obligatorio: indique la columna que lo contiene, p. ej.
init-field-example = { $field } = "Nombre de la columna"
init-field-unmatched = { $field } = "Nombre de la columna"   (ninguna columna coincidió)
init-form-all-matched = Todas las columnas coincidieron con un campo: form queda vacío.
init-form-unmatched = Estas columnas no coinciden con ningún campo: cada una va en form como {"{"}name, value{"}"}.
init-form-exclude = Copie en exclude las que el CRM no necesita:
init-wolkvox-id-help =
    wolkvox_id es obligatorio: el id del expediente de cobranza en el CRM al que
    se agrega cada obligación, p. ej. 64f0a1b2c3d4e5f601234567. El expediente debe
    existir en el CRM antes de enviar sus obligaciones. Los archivos del banco casi
    nunca lo traen: exporte los expedientes desde el módulo de cobranza del CRM y
    crúcelos por el documento del cliente con un lookup (lo escribe el comando
    mapping init ARCHIVO --lookup EXPORTACION). Vea docs/mapping.md, sección
    "Where wolkvox_id comes from". Por ejemplo:
    wolkvox_id = {"{"} column = "Cédula", lookup = "expedientes" {"}"}
init-lookup-from = El wolkvox_id de cada fila, tomado de { $file }:
init-lookup-found = { $found } de { $sampled ->
    [one] 1 valor revisado de "{ $column }" está
   *[other] los { $sampled } valores revisados de "{ $column }" están
} en su columna "{ $key }".
init-lookup-found-normalized = { $found } de { $sampled ->
    [one] 1 valor revisado de "{ $column }" está
   *[other] los { $sampled } valores revisados de "{ $column }" están
} en su columna "{ $key }" (comparados como { $normalize }).
init-lookup-by-name = "{ $column }" y su "{ $key }" tienen nombre de número de documento,
init-lookup-by-name-check = pero ningún valor aparece en ambos: verifique que contengan los mismos documentos.
init-lookup-by-name-few = pero solo { $found } de los { $sampled } valores revisados aparecen en ambas columnas (comparados como dígitos): muy pocos para emparejarlas por sus valores (hace falta al menos la mitad, y al menos 3). Verifique que contengan los mismos documentos.
init-lookup-relative = Relativo al archivo de mapeo: cámbielo si guarda el mapeo en otra carpeta.
init-lookup-no-value = Ninguna columna del archivo tiene nombre de id de expediente: indique la que lo contiene.
init-note-no-join = ninguna columna de { $input } coincidió con una columna de { $lookup }, ni por nombre ni por valores; escriba [lookups] a mano (docs/mapping.md, sección "Where wolkvox_id comes from")
init-note-no-join-near = ninguna columna de { $input } coincidió por nombre con una columna de { $lookup }, y comparten muy pocos valores para emparejar dos: lo más que comparten son { $found } de los { $sampled } valores revisados de "{ $column }", que aparecen en "{ $key }" (hace falta al menos la mitad, y al menos 3); escriba [lookups] a mano (docs/mapping.md, sección "Where wolkvox_id comes from")
init-note-no-record-id = ninguna columna parece un id de expediente (wolkvox_id): el id, en el CRM, del expediente de cobranza al que se agrega cada obligación. Los archivos del banco casi nunca lo traen; crúcelo con la exportación de expedientes del CRM usando --lookup ARCHIVO. Vea docs/mapping.md, sección "Where wolkvox_id comes from".
init-same-name = { $count } columnas se llaman "{ $name }" ({ $positions }): un mapeo no puede distinguirlas, así que quedan fuera de form.
init-same-name-fix = Para enviar una de esas columnas, cámbiele el nombre en el archivo y quite su nombre de exclude.
init-note-same-name = { $file }: { $count } columnas tienen el mismo nombre, "{ $name }" ({ $positions }); el mapeo las deja fuera (vea su [form] exclude)
