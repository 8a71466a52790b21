report-title-dry-run = Informe de validación (simulacro)
report-title-run = Informe de carga de cartera
report-subtitle-dry-run = { $file }: simulacro, no se envió nada al CRM
report-subtitle-run = { $file } cargado en { $server }
report-exit-0 = Código de salida 0: todas las filas terminaron bien.
report-exit-1 = Código de salida 1: la carga terminó, pero algunas filas no (vea Problemas).
report-exit-2 = Código de salida 2: no se envió nada; el comando, el mapeo o el archivo lo impiden.
report-exit-3 = Código de salida 3: la carga se detuvo después de empezar a enviar; las filas que faltan quedaron not_sent (continúe con --resume).
report-exit-130 = Código de salida 130: la carga fue interrumpida (Ctrl-C, SIGTERM o SIGHUP) tras terminar las peticiones en curso; continúe con --resume.
report-mode-insert = insert: crear las obligaciones que aún no se han enviado
report-mode-sync = sync: crear las nuevas y actualizar las que cambiaron
report-mode-update = update: actualizar las que cambiaron
report-mode-upsert = upsert: como sync, consultando primero las que el registro de envíos no conoce
report-mode-dry-run-planned = simulacro, con el plan del modo { $mode }
report-mode-dry-run = simulacro (sin registro de envíos para este servidor y operación: no hay plan)
report-section-run = La carga
report-section-outcome = Resultado
report-section-problems = Problemas
report-section-portfolio = La cartera
report-section-timeline = Ritmo de la carga
report-col-status = Estado
report-col-rows = Filas
report-col-share = Porcentaje
report-col-row = Fila
report-col-rank = #
report-col-obligation = Obligación
report-col-portfolio-type = Tipo de cartera
report-col-balance = Saldo total
report-col-cell = Celda
report-col-record-obligation = Registro / obligación
report-fix-label = Cómo corregirlo:
report-chart-largest = Los 5 saldos más altos
report-footer = Generado por wolkvox-import { $version }. Página autónoma: no carga nada de internet.
report-fact-input = Archivo
report-fact-fingerprint = huella { $fingerprint }
report-fact-mapping = Mapeo
report-fact-operation = Operación
report-fact-server = Servidor
report-fact-no-server = ninguno (simulacro)
report-fact-server-planned = { $server } (simulacro: no se envió nada)
report-fact-mode = Modo
report-fact-started = Inicio
report-fact-ended = Fin
report-fact-duration = Duración
report-status-valid = Válidas
report-status-created = Creadas
report-status-updated = Actualizadas
report-status-unchanged = Sin cambios
report-status-invalid = Inválidas
report-status-failed = Fallidas
report-status-uncertain = Inciertas
report-status-not-sent = No enviadas
report-note-no-header = El archivo está vacío: no tiene fila de encabezados, así que no se pudieron revisar las columnas del mapeo.
report-note-no-rows = El archivo tiene encabezado, pero ninguna fila de datos.
report-plan-intro = Plan según el registro de envíos ({ $mode }): lo que haría una carga real.
report-plan-new = Obligaciones nuevas
report-plan-changed = Obligaciones con cambios
report-plan-unchanged = Sin cambios (no se envían)
report-plan-requests = Solicitudes que haría (aprox.)
report-plan-in-doubt = Con una solicitud anterior en duda (se consultan primero)
report-plan-none = El registro de envíos no conoce este servidor y operación: una carga real enviaría todas las filas válidas.
report-fig-requests = Solicitudes hechas
report-fig-per-obligation = Solicitudes por obligación cargada
report-fig-retries = Reintentos
report-fig-lookups = Consultas (queryObligation)
report-fig-quota = Cupo diario del token
report-fig-quota-value = { $used } de { $limit } usadas; quedan { $left }
report-fig-quota-note = (aprox.: lo leído al inicio más las solicitudes de esta carga)
report-fig-quota-unknown = no se conoce (no se consultó)
report-note-carried = { $count ->
    [one] 1 fila ya se había cargado en una ejecución anterior (no se hizo ninguna solicitud).
   *[other] { $shown } filas ya se habían cargado en una ejecución anterior (no se hizo ninguna solicitud).
}
report-note-stopped = La carga se detuvo: { $why }
report-note-interrupted = La carga fue interrumpida; continúe con --resume.
report-kind-empty = celda vacía
report-fix-empty = Llene la celda. Si el campo puede ir vacío, póngale default = "..." o required = false en el mapeo.
report-kind-not-number = no es un número
report-fix-not-number = Escriba el valor solo con cifras (por ejemplo 1.234.567,89) y quite textos como N/A; revise decimal_separator en el mapeo.
report-kind-decimal-separator = separador decimal distinto al del mapeo
report-fix-decimal-separator = El valor usa el otro separador decimal: corrija la celda, o el decimal_separator de [source] en el mapeo si todo el archivo viene así.
report-kind-not-whole = no es un número entero
report-fix-not-whole = Los días de mora y demás números enteros van sin decimales: redondee el valor.
report-kind-impossible-date = fecha imposible
report-fix-impossible-date = Ese día no existe (por ejemplo 31/02): escriba la fecha real.
report-kind-not-date = no es una fecha en el formato esperado
report-fix-not-date = Escriba la fecha como dice date_formats en el mapeo (por ejemplo dd/mm/aaaa), o agregue ese formato al mapeo.
report-kind-error-value = contiene un error de Excel
report-fix-error-value = La celda tiene un error de fórmula (#N/A, #¡REF!...): corrija la fórmula o pegue el valor.
report-kind-wrong-type = tipo de celda equivocado
report-fix-wrong-type = La celda tiene otro tipo de dato (una fecha donde va un número, VERDADERO/FALSO): ponga el valor correcto.
report-kind-not-in-lookup = no está en el archivo de consulta
report-fix-not-in-lookup = La clave no está en el archivo de consulta: revise la celda, o agregue su expediente al archivo de consulta (la columna error lo indica).
report-kind-not-in-lookup-file = no está en el archivo de consulta { $file }
report-fix-not-in-lookup-file = La clave no está en { $file }: revise la celda, o agregue su expediente a { $file }.
report-kind-lookup-no-key = nada que buscar en la celda
report-fix-lookup-no-key = La celda no tiene cifras que buscar (normalize = "digits"): escriba en ella el documento del cliente.
report-kind-lookup-key-rounded = una clave que la hoja de cálculo del archivo de consulta redondeó
report-fix-lookup-key-rounded = El archivo de consulta tiene esta clave como un número de más de 15 cifras, que su hoja de cálculo ya redondeó: dé formato de texto a su columna de clave y expórtelo de nuevo.
report-kind-lookup-value = el valor del archivo de consulta no se puede usar
report-fix-lookup-value = Corrija el valor en el archivo de consulta (la columna error indica su fila y columna).
report-kind-lookup-value-empty = el valor del archivo de consulta está vacío
report-fix-lookup-value-empty = Llene el valor en el archivo de consulta (la columna error indica su fila).
report-kind-scientific = un id o clave en notación científica
report-fix-scientific = La hoja de cálculo que escribió el archivo mostró el número como 4,54041E+15 y perdió sus últimas cifras: dé formato de texto a la columna y exporte el archivo de nuevo.
report-kind-cell = problema en la celda
report-fix-cell = Lea el mensaje en la columna error del archivo de resultados y corrija la celda.
report-kind-row-width = la fila no tiene las columnas del encabezado
report-fix-row-width = Busque en esa fila un separador de más o una comilla sin cerrar.
report-kind-encoding = caracteres que no son UTF-8
report-fix-encoding = Ponga encoding = "windows-1252" en [source] del mapeo si el archivo viene de Excel o de Windows.
report-kind-forced-encoding = texto UTF-8 leído en otra codificación
report-fix-forced-encoding = El archivo es UTF-8: quite encoding de [source] del mapeo.
report-kind-unclosed-quote = comilla sin cerrar
report-fix-unclosed-quote = Cierre la comilla que se abre en esa fila; mientras tanto, la fila sigue hasta el final del archivo.
report-kind-duplicate = obligación repetida (mismo wolkvox_id e id que una fila anterior)
report-fix-duplicate = Deje una sola fila por obligación, o corrija el número de la obligación.
report-kind-row = problema en la fila
report-fix-row = Lea el mensaje en la columna error del archivo de resultados.
report-kind-exists = ya está en el CRM con otros valores
report-fix-exists = No se envió nada. Para actualizarla, cargue de nuevo con --mode sync.
report-kind-gave-up = el servidor siguió fallando tras varios intentos
report-fix-gave-up = Errores pasajeros del servidor: cargue de nuevo más tarde; con --resume solo se envía lo que falta.
report-kind-uncertain = enviada, sin saber si quedó en el CRM
report-fix-uncertain = Verifíquela en el CRM, o cargue de nuevo: la siguiente ejecución la consulta antes de enviar nada por ella.
report-kind-refused = la API rechazó la fila
report-fix-refused = Lea el mensaje de la API, corrija la fila y cargue el archivo de rechazos (--rejects) con el mismo mapeo.
report-kind-other = otros problemas
report-fix-other = Vea la columna error del archivo de resultados.
report-cut = [recortada: la celda tiene { $chars } caracteres]
report-problem-more = { $count ->
    [one] … y 1 fila más (vea el archivo de resultados).
   *[other] … y { $shown } filas más (vea el archivo de resultados).
}
report-rows = { $count ->
    [one] { $shown } fila
   *[other] { $shown } filas
}
report-problems-none = Ninguna fila tiene problemas.
report-problems-intro = Filas inválidas: { $invalid }. Fallidas o inciertas: { $failed }. Tipos de problema: { $kinds }, del más frecuente al menos frecuente. Una fila con varias celdas malas cuenta en cada tipo.
report-portfolio-intro = { $count ->
    [one] 1 obligación válida
   *[other] { $obligations } obligaciones válidas
}, con un saldo total de { $balance }. Los gráficos cuentan solo las filas válidas.
report-portfolio-intro-no-balance = { $count ->
    [one] 1 obligación válida
   *[other] { $obligations } obligaciones válidas
}. El mapeo no tiene el campo total_balance: no se muestra ningún saldo. Los gráficos cuentan solo las filas válidas.
report-chart-unmapped = El mapeo no tiene el campo { $field }: este gráfico no se puede dibujar.
report-chart-no-rows = No hay filas válidas que mostrar.
report-chart-unread = { $count ->
    [one] No aparece 1 fila sin { $field } legible.
   *[other] No aparecen { $shown } filas sin { $field } legible.
}
report-chart-failed = No se pudo dibujar el gráfico: { $why }
report-axis-obligations = Obligaciones
report-axis-balance = Saldo total
report-axis-rows-per-minute = Filas por minuto
report-chart-dpd-obligations = Obligaciones por días de mora
report-chart-dpd-balance = Saldo total por días de mora
report-chart-by-type = Saldo total por tipo de cartera
report-chart-histogram = Obligaciones por saldo (escala logarítmica)
report-chart-other-types = Otros tipos
report-chart-no-type = (sin tipo)
report-chart-histogram-outside = { $count ->
    [one] No aparece 1 saldo fuera de la escala (cero, negativo o de 10¹² o más).
   *[other] No aparecen { $shown } saldos fuera de la escala (cero, negativos o de 10¹² o más).
}
report-chart-timeline = Filas terminadas por minuto (intervalos de { $interval })
report-timeline-note = Reintentos: { $retries }. Respuestas que piden bajar el ritmo (429, o demasiadas solicitudes simultáneas): { $throttled }. Cada marca cae en el intervalo en que terminó su fila.
report-timeline-sent = Filas que necesitaron solicitudes
report-timeline-settled = Filas resueltas sin solicitud
report-timeline-retries = Intervalo con reintentos
report-timeline-throttled = Intervalo con limitación del servidor
report-num-thousands = mil
report-num-millions = M
report-num-billions = mil M
