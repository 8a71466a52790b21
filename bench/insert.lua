-- wrk script for bench/run.sh: POST one obligation insert, as the importer
-- sends it, to the fake CRM's collections/insertObligation.php.
--   wrk -t2 -c32 -d10s -s bench/insert.lua http://127.0.0.1:PORT/server/API/v2/collections/insertObligation.php
-- The body is a row of examples/gen_portfolio.rs as the importer renders it
-- (same fields, same size), so the fake does the same work per request.
wrk.method = "POST"
wrk.headers["Wolkvox-Token"] = "fake-token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"operation":"cobranza_bench","wolkvox_id":"64f00000401d2708b1a6f24c","fields":{"id":"004000000007","name":"Crédito Hipotecario","total_balance":"26031104.16","portfolio_type":"Consumo","last_pay":"1376474.9","last_pay_date":"12-09-2024","expiring_date":"17-03-2022","days_delay":"389","form":[{"name":"Nombre Cliente","value":"Valentina Peña García"},{"name":"Documento","value":"282506018"},{"name":"Ciudad","value":"Medellín"},{"name":"Celular","value":"3949284805"},{"name":"Correo","value":"valentina.pena1@correo.com.co"},{"name":"Observaciones","value":"Acuerdo de pago; revisar el 15"}]}}'

-- No response() hook: defining one makes wrk hand every answer to Lua,
-- which would slow the load generator down. wrk counts non-2xx answers by
-- itself (the fake answers 403 beyond --max-in-flight); print that count so
-- a run that was mostly refusals is visible.
function done(summary, latency, requests)
  io.write(string.format("non-2xx answers: %d\n", summary.errors.status))
end
