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
    [one] 1 petición en duda (se anotó su intención, no su resultado: puede que se haya enviado o no); la próxima corrida que encuentre esta obligación la resuelve primero (una inserción se consulta, una actualización simplemente se envía de nuevo):
   *[other] { $count } peticiones en duda (se anotaron sus intenciones, no sus resultados: cada una puede haberse enviado o no); la próxima corrida que encuentre estas obligaciones resuelve cada una primero (una inserción se consulta, una actualización simplemente se envía de nuevo):
}
ledger-check-no-answer = sin respuesta registrada: puede que se haya enviado o no
ledger-check-doubt = corrida { $run } fila { $row }: { $method } de la obligación "{ $obligation }" del expediente "{ $record }" en { $server } / { $operation }, { $at } ({ $status })
ledger-is-folder = esto es una carpeta, no un archivo de registro; indique la ruta de un archivo, p. ej. --ledger CARPETA/ledger.sqlite
ledger-held-file = otra importación tiene tomado este archivo de registro (se borró su archivo de bloqueo, o se le dio con otro nombre, así que no se sabe cuál); espere a que termine
ledger-gone = el archivo del registro se borró o se reemplazó durante la corrida, así que lo que la corrida anote se perdería; vuelva a poner el registro (o restáurelo de una copia) y corra con --resume
ledger-emptied = el archivo existe pero no contiene un registro: se vació o se dañó (un disco lleno mientras se creaba puede causarlo). Restáurelo de una copia; para empezar un registro nuevo, borre el archivo y haga la primera importación con --mode upsert, para que las obligaciones que ya están en el CRM se consulten en vez de enviarse de nuevo
ledger-log-stays = otro programa tenía abierto el registro al terminar la corrida, así que su diario (write-ahead log) queda por ahora a su lado: copie { $path } junto con { $path }-wal (o use `wolkvox-import ledger backup`); la próxima importación lo reintegra
ledger-target-folder = { $path } es una carpeta; indique un nombre de archivo
ledger-target-is-ledger = { $path } es el propio registro (o un archivo a su lado); escribir ahí lo destruiría
ledger-target-foreign = { $path } existe y no lo escribió este comando; elija otro nombre, o use --force para reemplazarlo
ledger-backed-up = registro copiado a { $path }
ledger-check-live = hay una importación en curso (corrida { $run }, pid { $pid }, desde { $started }); sus peticiones en vuelo no se cuentan como en duda
ledger-log-without-ledger = falta el registro pero su diario (write-ahead log) { $log } sigue ahí: es de un registro que se borró y puede tener sus últimos cambios. Restaure ese registro de una copia (dejando el diario a su lado) o, para empezar un registro nuevo, borre { $log } y el archivo -shm a su lado
ledger-hard-linked = este archivo de registro tiene otro nombre (un enlace duro); SQLite guarda el diario de un registro bajo el nombre con que se abrió, así que dos nombres pueden perder o no ver cambios: deje un solo nombre (use un enlace simbólico)
ledger-target-no-folder = la carpeta { $folder } no existe
ledger-link-loop = la ruta es un bucle de enlaces simbólicos (se apuntan unos a otros en círculo), así que no nombra ningún archivo; haga que el enlace apunte al archivo del registro, o indique en --ledger la ruta real del registro
file-size-limit = el archivo alcanzó el límite de tamaño de archivo de este proceso ({ $limit } bytes, fijado con `ulimit -f` o con LimitFSIZE= de un servicio); suba o quite el límite
ledger-target-in-use = { $path } es un registro que una importación está usando ahora ({ $holder }): escribir encima perdería lo que esa importación anota, así que nunca se reemplaza, ni siquiera con --force; elija otro nombre
ledger-target-used-ledger = { $path } es un registro que usan las importaciones ({ $lock } está a su lado), no una copia hecha con `ledger backup`: reemplazarlo perdería lo que anota; elija otro nombre, o use --force para reemplazarlo
ledger-target-a-ledger = { $path } es un registro, no una exportación anterior: escribir una exportación encima perdería lo que anota; elija otro nombre, o use --force para reemplazarlo
ledger-filter-server = el servidor { $server }
ledger-filter-operation = la operación { $operation }
ledger-filter-both = la operación { $operation } en el servidor { $server }
ledger-knows-no-scope = nada todavía: ninguna importación ha corrido con este registro
ledger-export-no-scope = el registro { $path } no sabe nada de { $filter }, así que no hay nada que exportar; conoce (servidor / operación): { $known }
