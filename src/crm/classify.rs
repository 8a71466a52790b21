//! What an answer of the API means: the one decision every request goes
//! through. The table in the product brief, as code.
//!
//! The body's `code` is the outcome (an HTTP 200 may carry a failing code);
//! a body that is not JSON is judged by its HTTP status.

use super::client::{Exchange, TransportFailure};
use serde_json::Value;
use std::time::Duration;

/// What an answer means for the row and for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The obligation was created or updated; the API's id for it.
    Done { wolkvox_id: String },
    /// The API refused the row (a 4xx or failing `code`): do not retry.
    Refused { message: String },
    /// Overload, maintenance, the simultaneous-requests limit: retry later.
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// No further request can succeed: bad or missing token, quota used up,
    /// wrong server.
    StopRun { message: String, quota: bool },
    /// The request may or may not have taken effect: look before resending.
    InDoubt { message: String },
}

impl Verdict {
    /// The verdict in words, for messages and the results file.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Done { wolkvox_id } => format!("done (id {wolkvox_id})"),
            Verdict::Refused { message } => format!("refused: {message}"),
            Verdict::Transient { message, .. } => message.clone(),
            Verdict::StopRun { message, .. } => message.clone(),
            Verdict::InDoubt { message } => message.clone(),
        }
    }
}

/// A verdict with the raw facts the results file records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub verdict: Verdict,
    pub http_status: Option<u16>,
    pub api_code: Option<String>,
}

/// The API's envelope, read leniently: `code` may be a number or a string.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    pub code: Option<String>,
    pub error: Option<String>,
    pub msg: Option<String>,
    pub data: Value,
}

impl Envelope {
    pub fn parse(body: &[u8]) -> Option<Envelope> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let obj = v.as_object()?;
        let text = |k: &str| -> Option<String> {
            match obj.get(k)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Null => None,
                other => Some(other.to_string()),
            }
        };
        Some(Envelope {
            code: text("code"),
            error: text("error"),
            msg: text("msg"),
            data: obj.get("data").cloned().unwrap_or(Value::Null),
        })
    }

    /// The code as a number, when it is one.
    pub fn code_number(&self) -> Option<u16> {
        self.code.as_deref().and_then(|c| c.trim().parse().ok())
    }

    /// The API's own words: `msg`, or `error` when `msg` says nothing more.
    pub fn message(&self) -> String {
        let usable = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "null")
                .map(str::to_string)
        };
        match (usable(&self.msg), usable(&self.error)) {
            (Some(m), Some(e)) if !m.contains(&e) && !e.contains(&m) => format!("{e}: {m}"),
            (Some(m), Some(e)) if e.len() > m.len() => e,
            (Some(m), _) => m,
            (None, Some(e)) => e,
            (None, None) => String::new(),
        }
    }
}

/// Classifies the answer to an insert or update.
pub fn classify(x: &Exchange) -> Classified {
    let resp = match x {
        Err(TransportFailure::BeforeSend(m)) => {
            return Classified {
                verdict: Verdict::Transient {
                    message: m.clone(),
                    retry_after: None,
                },
                http_status: None,
                api_code: None,
            }
        }
        Err(TransportFailure::InDoubt(m)) => {
            return Classified {
                verdict: Verdict::InDoubt { message: m.clone() },
                http_status: None,
                api_code: None,
            }
        }
        Ok(r) => r,
    };
    let http = resp.status;
    let envelope = Envelope::parse(&resp.body);
    let api_code = envelope.as_ref().and_then(|e| e.code.clone());
    let verdict = match &envelope {
        None => by_status_only(http, resp.retry_after, &resp.body),
        Some(env) => {
            // Overload at the HTTP level wins over whatever the body claims.
            let code = if http == 429 || http >= 500 {
                http
            } else {
                env.code_number().unwrap_or(http)
            };
            let message = env.message();
            match code {
                200..=299 if (200..300).contains(&http) => Verdict::Done {
                    wolkvox_id: returned_id(&env.data).unwrap_or_default(),
                },
                401 => Verdict::StopRun {
                    message: or_default(message, "the API asks for the token (401)"),
                    quota: false,
                },
                403 => forbidden(message, resp.retry_after),
                408 | 429 | 500..=599 => Verdict::Transient {
                    message: or_default(message, &format!("the server answered {code}")),
                    retry_after: resp.retry_after,
                },
                // A 2xx code under a failing HTTP status, or any code we do
                // not know: the row did not go in as asked.
                _ => Verdict::Refused {
                    message: or_default(
                        message,
                        &format!("the API answered code {code} (HTTP {http})"),
                    ),
                },
            }
        }
    };
    Classified {
        verdict,
        http_status: Some(http),
        api_code,
    }
}

fn or_default(message: String, default: &str) -> String {
    if message.is_empty() {
        default.to_string()
    } else {
        message
    }
}

/// 403 covers four different situations; the message tells them apart.
fn forbidden(message: String, retry_after: Option<Duration>) -> Verdict {
    let upper = message.to_uppercase();
    if upper.contains("SIMULTANEOUS") {
        Verdict::Transient {
            message,
            retry_after,
        }
    } else if upper.contains("TOKEN LIMIT") || upper.contains("LIMIT EXCEEDED") {
        Verdict::StopRun {
            message,
            quota: true,
        }
    } else if upper.contains("TOKEN") {
        Verdict::StopRun {
            message,
            quota: false,
        }
    } else {
        Verdict::Transient {
            message: or_default(message, "the server answered 403"),
            retry_after,
        }
    }
}

/// A body that is not JSON: a proxy's page, a truncated answer.
fn by_status_only(http: u16, retry_after: Option<Duration>, body: &[u8]) -> Verdict {
    let snippet = body_snippet(body);
    match http {
        // It claims success but says nothing we can read: look it up.
        200..=299 => Verdict::InDoubt {
            message: format!("HTTP {http} with an unreadable answer ({snippet})"),
        },
        404 | 405 => Verdict::StopRun {
            message: format!(
                "the server answered HTTP {http} for the API's address; check --server (the base should end in /server/API/v2/)"
            ),
            quota: false,
        },
        400..=499 if http != 403 && http != 408 && http != 429 => Verdict::Refused {
            message: format!("HTTP {http}: {snippet}"),
        },
        _ => Verdict::Transient {
            message: format!("HTTP {http} ({snippet})"),
            retry_after,
        },
    }
}

fn body_snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_lowercase();
    if lower.contains("<html") || lower.contains("<!doctype") {
        return "an HTML page, probably maintenance".into();
    }
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = one_line.chars().take(120).collect();
    if one_line.chars().count() > 120 {
        s.push('…');
    }
    if s.is_empty() {
        "empty body".into()
    } else {
        format!("body: {s}")
    }
}

/// `data.wolkvox_id`, also when `data` is a list or the id is a number.
fn returned_id(data: &Value) -> Option<String> {
    let obj = match data {
        Value::Array(items) => items.first()?,
        other => other,
    };
    match obj.get("wolkvox_id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What a lookup (`queryObligation`) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The obligation exists; its id when the answer gives one.
    Found {
        wolkvox_id: String,
    },
    NotFound,
    /// No answer that says either way.
    Unknown(Verdict),
}

/// Classifies the answer to a lookup. "Not found" is a non-200 `code` in the
/// 4xx range or an empty `data`; the envelope is not documented, so both are
/// accepted.
pub fn classify_lookup(x: &Exchange) -> (Lookup, Option<u16>, Option<String>) {
    let c = classify(x);
    let lookup = match (&c.verdict, x) {
        (Verdict::Done { .. }, Ok(resp)) => {
            let env = Envelope::parse(&resp.body).unwrap_or_default();
            match &env.data {
                Value::Array(items) if items.is_empty() => Lookup::NotFound,
                Value::Null => Lookup::NotFound,
                Value::Object(o) if o.is_empty() => Lookup::NotFound,
                data => Lookup::Found {
                    wolkvox_id: returned_id(data).unwrap_or_default(),
                },
            }
        }
        (Verdict::Refused { .. }, _) => Lookup::NotFound,
        (v, _) => Lookup::Unknown(v.clone()),
    };
    (lookup, c.http_status, c.api_code)
}

/// The token's quota, from `tokenInformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenQuota {
    pub limit: u64,
    pub used_today: u64,
    pub hours_to_restart: Option<u64>,
}

impl TokenQuota {
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used_today)
    }
}

pub fn parse_token_information(resp: &super::client::Response) -> Option<TokenQuota> {
    let env = Envelope::parse(&resp.body)?;
    let num = |k: &str| -> Option<u64> {
        match env.data.get(k)? {
            Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
            Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as u64),
            _ => None,
        }
    };
    Some(TokenQuota {
        limit: num("token_limit")?,
        used_today: num("token_use_today").unwrap_or(0),
        hours_to_restart: num("hours_to_restart_count"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::client::Response;
    use super::*;

    fn answer(status: u16, body: &str) -> Exchange {
        Ok(Response {
            status,
            retry_after: None,
            body: body.as_bytes().to_vec(),
        })
    }

    fn verdict(status: u16, body: &str) -> Verdict {
        classify(&answer(status, body)).verdict
    }

    #[test]
    fn success_with_numeric_or_string_code() {
        let body = r#"{"code": 200, "error": "null", "msg": "Succesfully create record", "data": {"wolkvox_id": "123cb"}}"#;
        assert_eq!(
            verdict(200, body),
            Verdict::Done {
                wolkvox_id: "123cb".into()
            }
        );
        let body = r#"{"code": "200", "error": "null", "msg": "ok", "data": {"wolkvox_id": 77}}"#;
        assert_eq!(
            verdict(200, body),
            Verdict::Done {
                wolkvox_id: "77".into()
            }
        );
        let c = classify(&answer(200, body));
        assert_eq!(c.api_code.as_deref(), Some("200"));
        assert_eq!(c.http_status, Some(200));
    }

    #[test]
    fn a_200_carrying_a_failing_code_is_not_success() {
        let body = r#"{"code": "400", "error": "SOME PARAMETERS ARE REQUIRED", "msg": "SOME PARAMETERS ARE REQUIRED: fields.id"}"#;
        assert_eq!(
            verdict(200, body),
            Verdict::Refused {
                message: "SOME PARAMETERS ARE REQUIRED: fields.id".into()
            }
        );
        let body = r#"{"code": "503", "error": "SERVICE TEMPORARILY UNAVAILABLE"}"#;
        assert!(matches!(verdict(200, body), Verdict::Transient { .. }));
    }

    #[test]
    fn token_answers_stop_the_run() {
        let v = verdict(
            401,
            r#"{"code":401,"error":"PLEASE ENTER THE WOLKVOX-TOKEN"}"#,
        );
        assert!(matches!(v, Verdict::StopRun { quota: false, .. }), "{v:?}");
        let v = verdict(
            403,
            r#"{"code":403,"error":"PLEASE VALIDATE TOKEN","msg":"PLEASE VALIDATE TOKEN"}"#,
        );
        assert_eq!(
            v,
            Verdict::StopRun {
                message: "PLEASE VALIDATE TOKEN".into(),
                quota: false
            }
        );
        let v = verdict(403, r#"{"code":403,"error":"TOKEN LIMIT EXCEEDED"}"#);
        assert!(matches!(v, Verdict::StopRun { quota: true, .. }), "{v:?}");
    }

    #[test]
    fn simultaneous_requests_and_unknown_403_are_transient() {
        let v = verdict(
            403,
            r#"{"code":403,"error":"EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)"}"#,
        );
        assert!(matches!(v, Verdict::Transient { .. }), "{v:?}");
        let v = verdict(403, r#"{"code":403,"error":"FORBIDDEN"}"#);
        assert!(matches!(v, Verdict::Transient { .. }), "{v:?}");
    }

    #[test]
    fn overload_is_transient_and_keeps_retry_after() {
        let x = Ok(Response {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
            body: b"{}".to_vec(),
        });
        assert_eq!(
            classify(&x).verdict,
            Verdict::Transient {
                message: "the server answered 429".into(),
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert!(matches!(
            verdict(503, "<html><body>Mantenimiento</body></html>"),
            Verdict::Transient { .. }
        ));
        assert!(matches!(verdict(502, ""), Verdict::Transient { .. }));
    }

    #[test]
    fn unreadable_success_is_in_doubt() {
        assert!(matches!(
            verdict(200, r#"{"code": 200, "error""#),
            Verdict::InDoubt { .. }
        ));
        assert!(matches!(
            verdict(200, "<html>ok</html>"),
            Verdict::InDoubt { .. }
        ));
    }

    #[test]
    fn wrong_address_stops_the_run() {
        assert!(matches!(
            verdict(404, "<html>Not Found</html>"),
            Verdict::StopRun { .. }
        ));
    }

    #[test]
    fn transport_failures() {
        let before = Err(TransportFailure::BeforeSend("refused".into()));
        assert!(matches!(
            classify(&before).verdict,
            Verdict::Transient { .. }
        ));
        let after = Err(TransportFailure::InDoubt("timeout".into()));
        assert!(matches!(classify(&after).verdict, Verdict::InDoubt { .. }));
    }

    #[test]
    fn lookups() {
        let found = answer(
            200,
            r#"{"code":200,"error":"null","msg":"ok","data":[{"id":"A1","wolkvox_id":"9cb"}]}"#,
        );
        assert_eq!(
            classify_lookup(&found).0,
            Lookup::Found {
                wolkvox_id: "9cb".into()
            }
        );
        let missing = answer(200, r#"{"code":404,"error":"NO RECORDS FOUND","data":[]}"#);
        assert_eq!(classify_lookup(&missing).0, Lookup::NotFound);
        let empty = answer(200, r#"{"code":200,"error":"null","data":[]}"#);
        assert_eq!(classify_lookup(&empty).0, Lookup::NotFound);
        let down = answer(503, "");
        assert!(matches!(classify_lookup(&down).0, Lookup::Unknown(_)));
    }

    #[test]
    fn token_information_numbers_or_strings() {
        let r = Response {
            status: 200,
            retry_after: None,
            body: br#"{"code":200,"data":{"token_limit":"4800","token_use_today":120,"hours_to_restart_count":5}}"#.to_vec(),
        };
        let q = parse_token_information(&r).unwrap();
        assert_eq!(q.limit, 4800);
        assert_eq!(q.remaining(), 4680);
        assert_eq!(q.hours_to_restart, Some(5));
    }
}
