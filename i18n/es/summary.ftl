summary-dry-run = Simulacro
summary-import = Importación
summary-head = { $title }: { $rows ->
    [one] 1 fila
   *[other] { $rows } filas
} en { $seconds } s ({ $rate } filas/s)
summary-head-partial = { $title }: { $rows ->
    [one] 1 fila
   *[other] { $rows } filas
}, { $processed } procesadas en { $seconds } s ({ $rate } filas/s)
summary-requests = { $requests ->
    [one] 1 petición
   *[other] { $requests } peticiones
}
summary-per-obligation = ({ $ratio } por obligación escrita)
summary-retries = { $retries ->
    [one] 1 reintento
   *[other] { $retries } reintentos
}, { $lookups ->
    [one] 1 consulta
   *[other] { $lookups } consultas
}
summary-no-header = el archivo está vacío: ni encabezados ni filas de datos
summary-no-rows = el archivo tiene encabezados pero ninguna fila de datos
summary-carried = { $count ->
    [one] 1 fila ya la había terminado una corrida anterior (sin ninguna petición)
   *[other] { $count } filas ya las había terminado una corrida anterior (sin ninguna petición)
}
summary-problems = problemas más comunes:
summary-problem = { $count ->
    [one] 1 fila
   *[other] { $count } filas
}, p. ej. la fila { $row }: { $message }
summary-more-problems = … y { $count ->
    [one] 1 tipo más
   *[other] { $count } tipos más
} de problema (vea la columna error de los resultados)
summary-plan = plan (modo { $mode }): nuevas { $new }, modificadas { $changed }, sin cambios { $unchanged }, inválidas { $invalid }; una corrida real haría { $requests ->
    [0] 0 peticiones
    [one] 1 petición
   *[other] unas { $requests } peticiones
}
summary-left-as-they-are = { $count ->
    [one] 1 obligación modificada ya está en el CRM: el modo insert la deja como está y una corrida real marca su fila como failed; --mode sync la actualizaría
   *[other] { $count } obligaciones modificadas ya están en el CRM: el modo insert las deja como están y una corrida real marca sus filas como failed; --mode sync las actualizaría
}
summary-in-doubt = { $count ->
    [one] 1 obligación tiene una petición anterior en duda: se consulta primero
   *[other] { $count } obligaciones tienen una petición anterior en duda: cada una se consulta primero
}
summary-vanished = ausentes: { $count ->
    [one] 1 obligación conocida para este servidor y operación no está en el archivo
   *[other] { $count } obligaciones conocidas para este servidor y operación no están en el archivo
} (solo un informe: no se envió nada por ellas)
summary-stopped = la corrida se detuvo: { $why }
summary-interrupted = la corrida fue interrumpida; use --resume para continuar
summary-ledger = registro: { $path }
summary-results = resultados: { $path }
summary-payloads = cuerpos de las solicitudes: { $path }
summary-rejects = rechazos: { $path }
summary-vanished-file = obligaciones ausentes: { $path }
summary-report = informe: { $path }
progress-rows = filas
progress-eta = faltan
progress-rate = { $rate } filas/s
progress-message = creadas { $created } · con problemas { $failed }
