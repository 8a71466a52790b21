ledger-disk-full = No queda espacio en el dispositivo (no se pudo escribir el registro)
ledger-not-a-database = este archivo no es un registro (no es una base de datos SQLite); restaure el registro desde una copia, o aparte este archivo y ejecute una vez con --mode upsert para reconstruirlo
ledger-damaged = el registro está dañado; restáurelo desde una copia, o apártelo y ejecute una vez con --mode upsert para reconstruirlo
ledger-read-only = no se puede escribir el registro ({ $why })
ledger-folder = no se puede crear la carpeta del registro: { $why }
ledger-newer = este registro lo escribió un wolkvox-import más nuevo (esquema { $version }); use esa versión
ledger-other-application = esta es una base de datos SQLite de otra aplicación, no un registro de wolkvox-import; indique el --ledger correcto
ledger-scope-missing = falta el ámbito recién registrado
ledger-too-many = más obligaciones de las que esta versión puede guardar
lock-holder = pid { $pid } en { $host }, iniciada { $started }
lock-held = otra importación tiene el registro { $path } ({ $holder }); espere a que termine, o use otro --ledger
lock-io = { $path }: no se puede bloquear el registro: { $why }
lock-details-missing = sin detalles registrados
this-machine = esta máquina
ledger-none-yet = { $path }: todavía no hay un registro aquí (lo crea una importación real); use --ledger o WOLKVOX_LEDGER para ver otro
error-line = error: { $message }
ledger-no-runs = todavía no hay corridas registradas
ledger-run-ended = salida { $code } tras { $seconds } s
ledger-run-unfinished = sin terminar (pid { $pid } en { $host })
ledger-run-no-rows = sin filas
ledger-run = corrida { $id }  { $started }  { $end }  modo { $mode }  { $server } / { $operation }  { $counts }, { $requests } peticiones  entrada { $input }  resultados { $output }
ledger-run-stopped = detenida: { $why }
ledger-exported = { $count ->
    [one] 1 obligación escrita en { $path }
   *[other] { $count } obligaciones escritas en { $path }
}
ledger-check-damaged = { $path }: el registro está dañado:
ledger-check-restore = Restáurelo desde una copia, o apártelo y ejecute una vez con --mode upsert para reconstruirlo.
ledger-check-ok = { $path }: integridad correcta
ledger-check-no-doubt = ninguna petición en duda
ledger-check-doubts = { $count ->
    [one] 1 petición en duda (enviada, resultado desconocido); la próxima corrida que encuentre esta obligación la consulta antes de enviar nada por ella:
   *[other] { $count } peticiones en duda (enviadas, resultado desconocido); la próxima corrida que encuentre estas obligaciones consulta cada una antes de enviar nada por ella:
}
ledger-check-no-answer = sin respuesta registrada
ledger-check-doubt = corrida { $run } fila { $row }: { $method } de la obligación "{ $obligation }" del expediente "{ $record }" en { $server } / { $operation }, { $at } ({ $status })
