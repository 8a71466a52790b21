no-server = sin servidor: use --server crm0001.wolkvox.com (el host que ve en el navegador) o defina WOLKVOX_SERVER
resume-dry-run = --resume continúa una corrida que envía; un simulacro no envía nada (quite --resume)
noun-input-file = el archivo de entrada
noun-mapping-file = el archivo de mapeo
noun-ledger = el registro
noun-lookup-file = el archivo de consulta de [lookups.{ $name }]
noun-ledger-file = un archivo que acompaña al registro { $ledger } (su diario o su bloqueo)
noun-token-file = el archivo del token (--token-file)
noun-ca-cert-file = el archivo de certificados (--ca-cert)
operation-empty = --operation está vacío
no-operation = { $mapping }: sin operación: ponga {"["}request] operation = "..." en el mapeo o use --operation
operation-placeholder = { $mapping }: {"["}request] operation todavía es "{ $placeholder }"; ponga la operación de su CRM antes de enviar
operation-placeholder-flag = --operation "{ $placeholder }" es el marcador que escribe mapping init: indique la operación de su CRM antes de enviar
task-failed = la tarea de lectura de la corrida falló: { $why }
ledger-new = se empieza un registro nuevo en { $path }: esta corrida no puede saber qué enviaron corridas anteriores. Si se perdió un registro anterior, ejecute una vez con --mode upsert para reconstruirlo
resuming = se continúa la corrida de { $started } que escribió { $output }: las filas que ya terminó no se envían de nuevo
resume-input-changed = la entrada difiere de la corrida que se continúa; las filas se emparejan por obligación, y las modificadas se tratan como lo hace --mode { $mode }
resume-nothing = ninguna corrida anterior escribió { $output }; se empieza una corrida nueva
doubts-at-start = { $count ->
    [one] 1 inserción anterior tiene resultado desconocido: la obligación se consulta antes de enviar nada por ella
   *[other] { $count } inserciones anteriores tienen resultado desconocido: cada obligación se consulta antes de enviar nada por ella
}
doubts-at-start-updates = { $count ->
    [one] 1 actualización anterior tiene resultado desconocido: no se consulta; la actualización se envía de nuevo si la fila aún la necesita (repetir una actualización no cambia nada más)
   *[other] { $count } actualizaciones anteriores tienen resultado desconocido: no se consultan; cada actualización se envía de nuevo si su fila aún la necesita (repetir una actualización no cambia nada más)
}
max-requests-reached = se alcanzó --max-requests { $max }
quota-restart-hours = en unas { $hours } horas
quota-restart-tomorrow = mañana
quota-used-up = la cuota diaria del token ({ $limit } peticiones) se agotó; ejecute de nuevo con --resume cuando se renueve { $restart }
unreachable = no se puede llegar al servidor { $host }: { $why }. No se envió nada; revise --server, la red, el servidor de nombres y cualquier proxy, y ejecute de nuevo
server-gone = el servidor { $host } dejó de aceptar conexiones ({ $why }); no se envía nada más. Ejecute de nuevo con --resume cuando vuelva
not-sent-cannot-connect = no enviada: { $attempts ->
    [one] su único intento no llegó
   *[other] ninguno de sus { $attempts } intentos llegó
} al servidor ({ $why })
not-sent-stopped = no enviada: la corrida se detuvo ({ $why })
not-sent-interrupted = no enviada: la corrida fue interrumpida
not-sent = no enviada
uncertain = enviada, pero no se sabe si la obligación "{ $id }" del expediente "{ $record }" entró ({ $why }); revísela en el CRM, o ejecute de nuevo (--resume continúa esta corrida): la próxima corrida la consulta antes de enviar nada por ella
gave-up = se abandonó tras { $attempts } intentos: { $why }
lookups-failing = las consultas siguieron fallando: { $why }
lookup-stopped-before = la corrida se detuvo antes de que la consulta respondiera
server-unreachable-short = no se puede llegar al servidor
lookup-stopped-during = la corrida se detuvo durante la consulta
exists-found = la obligación "{ $id }" del expediente "{ $record }" ya está en el CRM con otros valores (los envió una corrida anterior); use --mode sync para actualizarla
quota-left = cuota del token: quedan { $left } de { $limit } peticiones hoy
quota-no-limit = la respuesta de información del token no trae token_limit; se sigue sin revisar la cuota
token-refused = { $message }: el servidor rechazó el token; revise WOLKVOX_TOKEN o --token-file
quota-already-used = { $message }: la cuota diaria del token ya está agotada; ejecute de nuevo con --resume cuando se renueve
token-info-404 = el servidor respondió 404 para { $url }; revise --server (la base debe terminar en /server/API/v2/)
quota-unreadable = no se pudo leer la cuota del token ({ $why }); se sigue sin revisar la cuota
quota-exceeded = { $message }: la cuota diaria del token se agotó; ejecute de nuevo con --resume cuando se renueve
interrupted-draining = interrumpida: se terminan las peticiones en curso y luego se escriben los resultados
signal-again = pulse Ctrl-C de nuevo para salir de inmediato
signal-again-named = se recibió { $signal }; una segunda señal (SIGTERM, SIGHUP o Ctrl-C) hace salir de inmediato
signal-leaving = saliendo de inmediato; ejecute de nuevo con --resume para terminar
the-mapping-named = el mapeo { $path }
the-mapping = el mapeo
mapping-does-not-fit = { $input }: { $mapping } no corresponde a los encabezados del archivo (fila { $row }):
rejects-overwrite-input = --rejects { $rejects } sobrescribiría el archivo de entrada { $input }
input-empty = { $input } está vacío: no tiene fila de encabezados, así que no se pudieron revisar las columnas del mapeo; nada que importar (use --expect-rows N para que esto sea un error)
no-data-rows = { $input } tiene encabezados pero ninguna fila de datos: nada que importar (use --expect-rows N para que esto sea un error)
report-unwritable = no se puede escribir el informe { $path }: { $why }
expect-rows = { $rows ->
    [one] 1 fila de datos
   *[other] { $rows } filas de datos
}, menos que --expect-rows { $expected }; no se envió nada (¿está completa la exportación?)
plan-many-servers = el registro conoce la operación "{ $operation }" en { $count } servidores ({ $servers }); use --server para ver el plan de uno
run-blocking-in-async = import::run_blocking se llamó desde código asíncrono; use import::run con await
runtime-failed = no se puede iniciar el entorno asíncrono: { $why }
operation-placeholder-dry = { $mapping }: {"["}request] operation todavía es "{ $placeholder }"; ponga la operación de su CRM, o el envío no empezará
operation-placeholder-flag-dry = --operation "{ $placeholder }" es el marcador que escribe mapping init: indique la operación de su CRM, o el envío se negará a empezar
duration-bad = "{ $value }" no es una duración; escriba p. ej. 30s, 500ms o 2m
duration-too-long = "{ $value }" es una duración demasiado larga
timeout-too-short = --timeout { $value } es demasiado corto: una petición necesita al menos { $min } para recibir respuesta, o cada fila queda en duda; el valor por defecto es 30s
timeout-too-long = --timeout { $value } pasa de la 1h que se le puede dar a una petición; la API responde en mucho menos de un minuto
ledger-empty-option = --ledger está vacío
ledger-no-home = no se conoce una carpeta de estado por usuario en esta máquina (HOME no está definido); use --ledger ARCHIVO o defina WOLKVOX_LEDGER
fake-reachable = fake-crm escucha en { $listen }, al que llegan otras máquinas, y sin --token acepta el token "{ $token }" que conoce cualquiera que lea el README; use --token para elegir uno propio
fake-cannot-listen = fake-crm: no se puede escuchar en { $listen }: { $why }
fake-ready = CRM falso listo en { $url } (Ctrl-C para detener)
fake-stopped = CRM falso detenido: { $requests } peticiones, { $inserts } inserciones, { $updates } actualizaciones, { $queries } consultas, máximo { $in_flight } simultáneas
concurrency-above-limit = --concurrency { $concurrency } supera el límite de la API de 2 peticiones simultáneas por token; espere respuestas 403 y reintentos
allow-changed-input = --allow-changed-input ya no hace falta y no tiene efecto: el registro juzga cada fila
token-both = WOLKVOX_TOKEN y --token-file están definidos; se usa el token de { $path } (se ignora WOLKVOX_TOKEN)
token-env-not-text = WOLKVOX_TOKEN: el token tiene un carácter que un token no puede tener (no es texto válido)
no-token = sin token: defina la variable de entorno WOLKVOX_TOKEN o use --token-file ARCHIVO
token-assignment = el token está escrito como NOMBRE=valor, como en un archivo .env o un script; escriba solo el token, en una línea, sin nada antes
token-char-space = un espacio
token-file-too-big = { $path }: el archivo del token pasa de { $max }, o no termina nunca (¿un dispositivo?); un token es una sola línea corta: ¿es el archivo correcto?
write-failed-ledger = no se puede escribir el registro: { $why }; no se envía nada más. Cuando el registro se pueda escribir de nuevo (espacio liberado, el archivo corregido o devuelto a su lugar), ejecute de nuevo con --resume para continuar
write-failed = no se puede escribir { $why }; no se envía nada más. Libere espacio o corrija el archivo, y ejecute de nuevo con --resume para continuar
update-id-ignored = la actualización entró ({ $why }); se conserva el id ya conocido de la obligación
outcome-unknown-lookup = resultado incierto ({ $why }); se consulta la obligación antes de reenviarla
rate-bad = --rate "{ $value }": escríbala como N/s o N/min, p. ej. 2/s o 100/min
rate-zero = --rate "{ $value }": la tasa debe ser al menos 1
breaker-tripped = { $count } filas seguidas fallaron con errores pasajeros (la última: { $last }); el servidor parece caído
run-end-unrecorded = no se pudo anotar el final de la corrida en el registro: { $why }
plan-no-ledger = el registro { $path } aún no existe: una corrida real enviaría todas las filas válidas
plan-unknown-operation = el registro no sabe nada de la operación "{ $operation }": una corrida real enviaría todas las filas válidas
plan-unknown-scope = el registro no sabe nada de { $server } / { $operation }: una corrida real enviaría todas las filas válidas
resume-ledger-gone = --resume: { $output } dice que una corrida anterior envió { $count ->
    [one] 1 fila
   *[other] { $count } filas
} (created, updated o uncertain), pero el registro que conocía esa corrida, { $ledger }, ya no está, y esta corrida empezaría uno nuevo, vacío: continuar ahora enviaría esas filas de nuevo y crearía sus obligaciones por segunda vez. Restaure el registro desde una copia en { $ledger }; o ejecute una vez con --mode upsert, que consulta cada obligación antes de escribirla y así reconstruye el registro; o, para empezar de cero a propósito, aparte { $output }
