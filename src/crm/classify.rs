//! What an answer of the API means: the one decision every request goes
//! through. The table in the product brief, as code.
//!
//! The body's `code` is the outcome (an HTTP 200 may carry a failing code);
//! a body that is not JSON is judged by its HTTP status.

use super::client::{Exchange, TransportFailure};
use super::text;
use crate::tr;
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
    /// Something other than the API asks for credentials: a proxy (HTTP
    /// 407), or a login or single sign-on page in front of the API (HTTP 401
    /// without the API's envelope). No request can succeed; the message says
    /// what to do, and the run stops.
    AuthRequired { message: String },
    /// The request may or may not have taken effect: look before resending.
    InDoubt { message: String },
    /// The API answered success, but with no obligation id to believe (none,
    /// or one that is not an id: `malformed`). An insert is then in doubt
    /// (this is not the API's answer to one); an update went in, and the
    /// obligation's id is known already.
    SuccessWithoutId { message: String, malformed: bool },
    /// The server answered a write with a redirect (3xx). It may have stored
    /// the obligation first (Post/Redirect/Get), so the row is in doubt; and
    /// every later request would be redirected too, so the run stops.
    /// Redirects are never followed: the token would go wherever they point.
    Redirected { location: String },
}

impl Verdict {
    /// The verdict in words, for messages and the results file.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Done { wolkvox_id } => tr!("verdict-done", id = wolkvox_id.as_str()),
            Verdict::Refused { message } => tr!("verdict-refused", message = message.as_str()),
            Verdict::Transient { message, .. } => message.clone(),
            Verdict::StopRun { message, .. } => message.clone(),
            Verdict::AuthRequired { message } => message.clone(),
            Verdict::InDoubt { message } => message.clone(),
            Verdict::SuccessWithoutId { message, .. } => message.clone(),
            Verdict::Redirected { location } => redirect_message(location),
        }
    }
}

/// Why the run stops after a redirect.
pub fn redirect_message(location: &str) -> String {
    tr!("redirected", location = location)
}

/// The longest obligation id believed; the API's ids are short codes such as
/// `123cb`, so anything longer is not one.
pub const MAX_ID_CHARS: usize = 64;

/// Checks an id the API returned before it goes into the results.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        Err(tr!("id-empty"))
    } else if id.chars().count() > MAX_ID_CHARS {
        Err(tr!(
            "id-too-long",
            chars = id.chars().count() as u64,
            max = MAX_ID_CHARS as u64
        ))
    } else if id.chars().any(text::is_hidden) {
        Err(tr!("id-control"))
    } else if id.contains(super::scrub::REDACTED) {
        // The answer was scrubbed as it came in: the server gave the token,
        // or a piece of it, as the id. Neither an id to keep nor one to
        // show.
        Err(tr!("id-token"))
    } else {
        Ok(())
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
/// Its texts are the server's: they are made printable and cut short as
/// they are read ([`text::from_server`]), so every message, log line and
/// file made of them is safe to show and stays small. The body was
/// scrubbed of the token, and of every piece of it, before.
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
                Value::String(s) => Some(text::from_server(s)),
                Value::Number(n) => Some(n.to_string()),
                Value::Null => None,
                other => Some(text::from_server(&other.to_string())),
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

/// Classifies the answer to an insert or update. A success must carry the
/// obligation's id (`data.wolkvox_id`), short and printable: a success
/// without one is [`Verdict::SuccessWithoutId`] (for an insert, not the
/// API's answer: the row is looked up rather than believed or resent).
pub fn classify(x: &Exchange) -> Classified {
    let mut c = judge(x);
    if let (Verdict::Done { .. }, Ok(resp)) = (&c.verdict, x) {
        let data = Envelope::parse(&resp.body).map(|e| e.data);
        c.verdict = match data.as_ref().and_then(returned_id) {
            Some(id) => match check_id(&id) {
                Ok(()) => Verdict::Done { wolkvox_id: id },
                Err(what) => Verdict::SuccessWithoutId {
                    message: tr!("success-bad-id", what = what),
                    malformed: true,
                },
            },
            None => Verdict::SuccessWithoutId {
                message: tr!("success-no-id"),
                malformed: false,
            },
        };
    }
    c
}

/// Classifies an answer that carries no obligation (the token's
/// information): a success is a success, whatever its `data`.
pub fn classify_answer(x: &Exchange) -> Classified {
    judge(x)
}

fn judge(x: &Exchange) -> Classified {
    let resp = match x {
        Err(failure) => {
            return Classified {
                verdict: transport_verdict(failure),
                http_status: None,
                api_code: None,
            }
        }
        Ok(r) => r,
    };
    let http = resp.status;
    let envelope = Envelope::parse(&resp.body);
    let api_code = envelope.as_ref().and_then(|e| e.code.clone());
    let verdict = if (300..400).contains(&http) {
        Verdict::Redirected {
            location: resp
                .location
                .clone()
                .unwrap_or_else(|| tr!("redirect-nowhere", status = http)),
        }
    } else if http == 407 {
        // Only a proxy answers 407, whatever its body says.
        Verdict::AuthRequired {
            message: tr!("proxy-auth-required"),
        }
    } else if http == 401 && envelope.is_none() {
        // Not the API's own 401 (that one comes with its envelope).
        Verdict::AuthRequired {
            message: tr!("auth-required", status = http),
        }
    } else {
        match &envelope {
            None => by_status_only(http, resp.retry_after, &resp.body),
            Some(env) => by_envelope(http, env, resp.retry_after),
        }
    };
    Classified {
        verdict,
        http_status: Some(http),
        api_code,
    }
}

/// No answer: what the failure to get one means.
fn transport_verdict(failure: &TransportFailure) -> Verdict {
    match failure {
        TransportFailure::BeforeSend(m) => Verdict::Transient {
            message: m.clone(),
            retry_after: None,
        },
        // Nothing reached the server, and no retry can make this machine
        // trust the certificate.
        TransportFailure::Certificate(m) => Verdict::StopRun {
            message: m.clone(),
            quota: false,
        },
        TransportFailure::InDoubt(m) => Verdict::InDoubt { message: m.clone() },
        // The same stop as a 407 answer: only the proxy's credentials help.
        TransportFailure::ProxyAuth => Verdict::AuthRequired {
            message: tr!("proxy-auth-required"),
        },
    }
}

/// An answer whose body is the API's envelope (`code`, `msg`, `data`).
fn by_envelope(http: u16, env: &Envelope, retry_after: Option<Duration>) -> Verdict {
    // Overload and authentication at the HTTP level win over whatever the
    // body claims.
    let code = if http == 401 || http == 429 || http >= 500 {
        http
    } else {
        env.code_number().unwrap_or(http)
    };
    let message = env.message();
    match code {
        200..=299 if (200..300).contains(&http) => Verdict::Done {
            wolkvox_id: String::new(),
        },
        401 => Verdict::StopRun {
            message: or_default(message, &tr!("api-asks-token")),
            quota: false,
        },
        403 => forbidden(message, retry_after),
        502 | 504 => gateway_failed(
            code,
            &or_default(message, &tr!("server-answered", code = code)),
        ),
        408 | 429 | 500..=599 => Verdict::Transient {
            message: or_default(message, &tr!("server-answered", code = code)),
            retry_after,
        },
        // A 2xx code under a failing HTTP status, or any code we do
        // not know: the row did not go in as asked.
        _ => Verdict::Refused {
            message: or_default(
                message,
                &tr!("api-answered-code", code = code, status = http),
            ),
        },
    }
}

fn or_default(message: String, default: &str) -> String {
    if message.is_empty() {
        default.to_string()
    } else {
        message
    }
}

/// A gateway in front of the API (a load balancer, a reverse proxy) that
/// lost its answer: 504, it gave up waiting; 502, the API's connection broke
/// or its answer made no sense. Either way the request went through the
/// gateway, and the API may have stored the obligation before the answer
/// was lost: a timeout after the request was sent, said by someone else. A
/// 503 or 429, by contrast, turns the request away before it is handled.
fn gateway_failed(status: u16, detail: &str) -> Verdict {
    Verdict::InDoubt {
        message: tr!("gateway-lost-answer", status = status, detail = detail),
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
            message: or_default(message, &tr!("server-answered", code = 403)),
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
            message: tr!("http-unreadable", status = http, snippet = snippet),
        },
        404 | 405 => Verdict::StopRun {
            message: tr!("api-address-wrong", status = http),
            quota: false,
        },
        400..=499 if http != 403 && http != 408 && http != 429 => Verdict::Refused {
            message: tr!("http-refused", status = http, snippet = snippet),
        },
        502 | 504 => gateway_failed(http, &snippet),
        _ => Verdict::Transient {
            message: tr!("http-transient", status = http, snippet = snippet),
            retry_after,
        },
    }
}

/// A few words of a body, printable, for a message. The body was scrubbed
/// of the token whole, before this cut.
fn body_snippet(body: &[u8]) -> String {
    let raw = String::from_utf8_lossy(body);
    if is_html(&raw) {
        return tr!("body-html");
    }
    let one_line: String = text::printable(&raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let s = text::cut(&one_line, 120);
    if s.is_empty() {
        tr!("body-empty")
    } else {
        tr!("body-text", text = s)
    }
}

fn is_html(body: &str) -> bool {
    let lower = body.to_lowercase();
    lower.contains("<html") || lower.contains("<!doctype")
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
    /// The obligation asked for exists; its id when the answer gives one.
    Found { wolkvox_id: String },
    /// The API said, in a way that cannot mean anything else, that the
    /// obligation does not exist: sending it cannot duplicate it.
    NotFound,
    /// No answer that says either way: the row stays in doubt and is never
    /// resent on the strength of this answer.
    Unknown(Verdict),
}

/// Classifies the answer to a lookup of the obligation whose id is `asked`.
///
/// "Not found" is believed only from the API's not-found answer: code 404
/// (in the body, or HTTP 404 with the API's envelope) with an empty or absent
/// `data`; another failing code with an empty or absent `data` whose message
/// says the obligation does not exist ([`says_not_found`]); or a success
/// whose `data` is a complete list in which no obligation has the id asked
/// for. Any other failing code, an unreadable body, a redirect or an
/// overload leaves the row in doubt: a refusal of the lookup itself says
/// nothing about the obligation.
///
/// The answer is believed only for an obligation whose `id` is the one asked
/// for: a server that lists every obligation of the record must not lend a
/// sibling's id to a row that never went in. A single obligation with
/// another id proves nothing either way (the server ignored the filter), and
/// so does the obligation asked for with an id that is present but not one
/// (empty, too long, hiding characters).
pub fn classify_lookup(x: &Exchange, asked: &str) -> (Lookup, Option<u16>, Option<String>) {
    let c = judge(x);
    let resp = match (x, &c.verdict) {
        (Ok(resp), _) => resp,
        (Err(_), v) => return (Lookup::Unknown(v.clone()), c.http_status, c.api_code),
    };
    let unknown = |message: String| Lookup::Unknown(Verdict::InDoubt { message });
    let http = resp.status;
    let raw: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let lookup = match (&c.verdict, Envelope::parse(&resp.body)) {
        // A look-up redirected will not be answered at this address: stop.
        (Verdict::Redirected { location }, _) => Lookup::Unknown(Verdict::StopRun {
            message: redirect_message(location),
            quota: false,
        }),
        (Verdict::AuthRequired { message }, _) => Lookup::Unknown(Verdict::StopRun {
            message: message.clone(),
            quota: false,
        }),
        (Verdict::StopRun { .. } | Verdict::Transient { .. }, _) => {
            Lookup::Unknown(c.verdict.clone())
        }
        (_, None) => Lookup::Unknown(c.verdict.clone()),
        (_, Some(env)) if http == 404 || env.code_number() == Some(404) => {
            if is_empty_data(&env.data) {
                Lookup::NotFound
            } else {
                unknown(tr!(
                    "lookup-404-with-data",
                    snippet = body_snippet(&resp.body)
                ))
            }
        }
        (Verdict::Done { .. }, Some(env)) => {
            let envelope = raw.as_ref().and_then(Value::as_object);
            judge_listing(&env.data, envelope, asked)
        }
        // A failing code (not a 2xx under a failing HTTP status) whose
        // words say the obligation does not exist.
        (Verdict::Refused { .. }, Some(env))
            if !env.code_number().is_some_and(|c| (200..300).contains(&c))
                && is_empty_data(&env.data)
                && says_not_found(&env.message()) =>
        {
            Lookup::NotFound
        }
        (v, Some(_)) => unknown(tr!("lookup-unanswered", why = v.describe())),
    };
    // The token was hidden somewhere in the answer: perhaps in the very id
    // asked for, which the listing then seems to lack. "Not found" would
    // send the obligation again; the row stays in doubt instead.
    let lookup = match lookup {
        Lookup::NotFound if resp.scrubbed => unknown(tr!("lookup-scrubbed")),
        other => other,
    };
    (lookup, c.http_status, c.api_code)
}

/// True when the API's words say that what was looked up does not exist,
/// in English or Spanish, and name nothing else that could be missing (the
/// token, the operation, a parameter, the address): "OPERATION NOT FOUND"
/// says nothing about the obligation.
fn says_not_found(message: &str) -> bool {
    let m = message.to_uppercase();
    const ABSENT: [&str; 8] = [
        "NOT FOUND",
        "NO RECORDS FOUND",
        "NO RECORD FOUND",
        "DOES NOT EXIST",
        "NO EXISTE",
        "NO SE ENCONTR",
        "NO ENCONTRAD",
        "NO SE HALL",
    ];
    const OTHER: [&str; 14] = [
        "TOKEN",
        "OPERATION",
        "OPERACI",
        "PARAMET",
        "FIELD",
        "CAMPO",
        "REQUIRED",
        "REQUERID",
        "URL",
        "PAGE",
        "GINA",
        "ENDPOINT",
        "METHOD",
        "ARCHIVO",
    ];
    ABSENT.iter().any(|p| m.contains(p)) && !OTHER.iter().any(|p| m.contains(p))
}

fn is_empty_data(data: &Value) -> bool {
    match data {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A successful look-up's `data`: one obligation or a list of them.
fn judge_listing(
    data: &Value,
    envelope: Option<&serde_json::Map<String, Value>>,
    asked: &str,
) -> Lookup {
    let unknown = |message: String| Lookup::Unknown(Verdict::InDoubt { message });
    let items: Vec<&Value> = match data {
        // A success that lists nothing is an answer (an empty list); a
        // success with no `data` at all is not.
        Value::Null => return unknown(tr!("lookup-no-data")),
        Value::Array(items) => items.iter().collect(),
        Value::Object(o) if o.is_empty() => Vec::new(),
        obj @ Value::Object(_) => {
            // One obligation, not a list: an answer about the one asked for,
            // or about another, which means the server ignored the filter
            // and says nothing of the one asked for.
            match obj.get("id").and_then(scalar_text) {
                Some(id) if id != asked => {
                    return unknown(tr!(
                        "lookup-other-obligation",
                        asked = asked,
                        got = text::cut(&text::printable(&id), MAX_ID_CHARS)
                    ))
                }
                _ => vec![obj],
            }
        }
        other => return unknown(tr!("lookup-data-odd", kind = kind_of(other))),
    };
    let mut complete = !more_pages(envelope, items.len());
    let mut near_miss = false;
    for item in &items {
        let Some(id) = item.get("id").and_then(scalar_text) else {
            // An entry we cannot identify could be the one asked for.
            complete = false;
            continue;
        };
        if id == asked {
            // The query's documented answer lists the obligation's fields and
            // may leave the CRM's id out: found, id unknown. An id that is
            // there but is none (empty, null, too long, hiding characters)
            // is not the API's answer.
            return match item.get("wolkvox_id") {
                None => Lookup::Found {
                    wolkvox_id: String::new(),
                },
                Some(Value::Null) => unknown(tr!("lookup-bad-id", what = tr!("id-empty"))),
                Some(v) => match scalar_text(v) {
                    Some(w) => match check_id(&w) {
                        Ok(()) => Lookup::Found { wolkvox_id: w },
                        Err(what) => unknown(tr!("lookup-bad-id", what = what)),
                    },
                    None => unknown(tr!("lookup-id-not-text")),
                },
            };
        }
        near_miss |= same_id_loosely(&id, asked);
    }
    if near_miss {
        // "00123" listed as 123, or with other case or spaces: perhaps the
        // same obligation written differently. Not a clean "no".
        unknown(tr!("lookup-near-miss", asked = asked))
    } else if complete {
        Lookup::NotFound
    } else {
        unknown(tr!("lookup-incomplete", asked = asked))
    }
}

/// A list is complete unless the envelope says there is more of it: a
/// total larger than the list, a next page or cursor, a `has_more` flag.
fn more_pages(envelope: Option<&serde_json::Map<String, Value>>, listed: usize) -> bool {
    let Some(env) = envelope else { return false };
    let number = |k: &str| {
        env.get(k)
            .and_then(scalar_text)
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    let totals = [
        "total",
        "total_records",
        "totalRecords",
        "count",
        "records_total",
    ];
    if totals
        .iter()
        .any(|k| number(k).is_some_and(|n| n > listed as u64))
    {
        return true;
    }
    if ["total_pages", "pages", "last_page"]
        .iter()
        .any(|k| number(k).is_some_and(|n| n > 1))
    {
        return true;
    }
    let present = |k: &str| match env.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    };
    [
        "next",
        "next_page",
        "nextPage",
        "next_page_url",
        "cursor",
        "has_more",
        "hasMore",
        "more",
    ]
    .iter()
    .any(|k| present(k))
}

/// A string or a number as text.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Equal but for case, surrounding spaces or the leading zeros a
/// spreadsheet or a number type drops.
fn same_id_loosely(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let t = s.trim();
        let t = if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
            let z = t.trim_start_matches('0');
            if z.is_empty() {
                "0"
            } else {
                z
            }
        } else {
            t
        };
        t.to_lowercase()
    };
    norm(a) == norm(b)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The token's quota, from `tokenInformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenQuota {
    /// Requests the token may make in a day.
    pub limit: u64,
    /// Requests it made today, before this run's first.
    pub used_today: u64,
    /// Hours until the count starts again, when the API says.
    pub hours_to_restart: Option<u64>,
}

impl TokenQuota {
    /// Requests left today.
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
            scrubbed: false,
            status,
            retry_after: None,
            location: None,
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
    fn a_login_page_or_a_proxy_asking_for_credentials_stops_the_run() {
        let page = "<html><body>Proxy authentication required</body></html>";
        for (status, body, words) in [
            (401, page, "asked for authentication (HTTP 401)"),
            (401, "Unauthorized", "asked for authentication (HTTP 401)"),
            (407, page, "a proxy"),
            (407, r#"{"code":200,"data":{"wolkvox_id":"1"}}"#, "a proxy"),
        ] {
            let v = verdict(status, body);
            let Verdict::AuthRequired { message } = &v else {
                panic!("{status} {body}: {v:?}")
            };
            assert!(message.contains(words), "{message}");
            assert!(!message.contains("maintenance"), "{message}");
            let lookup = classify_lookup(&answer(status, body), "OB-1").0;
            assert!(
                matches!(lookup, Lookup::Unknown(Verdict::StopRun { .. })),
                "{lookup:?}"
            );
        }
        assert!(verdict(407, page).describe().contains("docs/operations.md"));
        // The API's own 401, with its envelope, is the token's.
        let v = verdict(
            401,
            r#"{"code":"200","msg":"PLEASE ENTER THE WOLKVOX-TOKEN"}"#,
        );
        assert!(matches!(v, Verdict::StopRun { quota: false, .. }), "{v:?}");
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
            scrubbed: false,
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
            location: None,
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
    }

    #[test]
    fn a_gateway_that_lost_the_answer_leaves_the_row_in_doubt() {
        // The request went past the gateway: the API may have stored it.
        for (status, body) in [
            (502, ""),
            (504, "<html><body>Gateway Time-out</body></html>"),
            (504, r#"{"code": 504, "msg": "upstream timed out"}"#),
            (502, r#"{"code": 200, "msg": "ok", "data": {"id": "x"}}"#),
        ] {
            let v = verdict(status, body);
            assert!(
                matches!(&v, Verdict::InDoubt { message } if message.starts_with(&format!("HTTP {status} from a gateway"))),
                "{status} {body}: {v:?}"
            );
        }
        // Turned away before it was handled: sent again later.
        assert!(matches!(verdict(503, ""), Verdict::Transient { .. }));
        assert!(matches!(verdict(500, ""), Verdict::Transient { .. }));
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
            classify_lookup(&found, "A1").0,
            Lookup::Found {
                wolkvox_id: "9cb".into()
            }
        );
        let missing = answer(200, r#"{"code":404,"error":"NO RECORDS FOUND","data":[]}"#);
        assert_eq!(classify_lookup(&missing, "A1").0, Lookup::NotFound);
        let empty = answer(200, r#"{"code":200,"error":"null","data":[]}"#);
        assert_eq!(classify_lookup(&empty, "A1").0, Lookup::NotFound);
        let down = answer(503, "");
        assert!(matches!(classify_lookup(&down, "A1").0, Lookup::Unknown(_)));
    }

    /// What each kind of look-up answer means for a row in doubt. `F` is
    /// found (with the id), `N` not found, `?` in doubt, `S` in doubt and
    /// the run stops.
    #[test]
    fn lookup_answers_table() {
        let long = "x".repeat(65);
        let found_long =
            format!(r#"{{"code":200,"data":[{{"id":"OB-1","wolkvox_id":"{long}"}}]}}"#);
        let redirect = Ok(Response {
            scrubbed: false,
            status: 303,
            retry_after: None,
            location: Some("https://elsewhere.example/login".into()),
            body: Vec::new(),
        });
        let cases: Vec<(&str, Exchange, &str)> = vec![
            // the API's not-found answers
            (
                "code 404, empty list",
                answer(200, r#"{"code":404,"error":"NO RECORDS FOUND","data":[]}"#),
                "N",
            ),
            (
                "code \"404\", no data",
                answer(200, r#"{"code":"404","error":"NO RECORDS FOUND"}"#),
                "N",
            ),
            (
                "HTTP 404 with the envelope",
                answer(404, r#"{"code":404,"msg":"not found"}"#),
                "N",
            ),
            (
                "success, empty list",
                answer(200, r#"{"code":200,"data":[]}"#),
                "N",
            ),
            (
                "success, empty object",
                answer(200, r#"{"code":"200","data":{}}"#),
                "N",
            ),
            // a failing code whose words say the obligation does not exist
            (
                "code 400, NOT FOUND",
                answer(200, r#"{"code":400,"error":"OBLIGATION NOT FOUND"}"#),
                "N",
            ),
            (
                "code 400, NO EXISTE, empty list",
                answer(
                    200,
                    r#"{"code":"400","error":"null","msg":"La obligación no existe","data":[]}"#,
                ),
                "N",
            ),
            (
                "HTTP 400, no se encontró",
                answer(400, r#"{"code":400,"msg":"No se encontró la obligación"}"#),
                "N",
            ),
            (
                "code 422, does not exist",
                answer(200, r#"{"code":422,"msg":"Obligation does not exist"}"#),
                "N",
            ),
            // ... but not when they are about something else, or list data
            (
                "code 400, operation not found",
                answer(200, r#"{"code":400,"error":"OPERATION NOT FOUND"}"#),
                "?",
            ),
            (
                "code 400, not found, with data",
                answer(
                    200,
                    r#"{"code":400,"error":"NOT FOUND","data":[{"id":"OB-1"}]}"#,
                ),
                "?",
            ),
            (
                "a success code under HTTP 400, not found",
                answer(400, r#"{"code":200,"msg":"NOT FOUND"}"#),
                "?",
            ),
            (
                "code 500, not found",
                answer(200, r#"{"code":500,"error":"NOT FOUND"}"#),
                "?",
            ),
            // a refusal of the look-up says nothing about the obligation
            (
                "code 400 under HTTP 200",
                answer(
                    200,
                    r#"{"code":400,"error":"SOME PARAMETERS ARE REQUIRED"}"#,
                ),
                "?",
            ),
            (
                "HTTP 400 with the envelope",
                answer(400, r#"{"code":400,"error":"BAD REQUEST"}"#),
                "?",
            ),
            (
                "code 500",
                answer(200, r#"{"code":500,"error":"DB DOWN"}"#),
                "?",
            ),
            (
                "HTTP 502 page",
                answer(502, "<html>Bad gateway</html>"),
                "?",
            ),
            (
                "not JSON",
                answer(200, "Fatal error: Uncaught PDOException"),
                "?",
            ),
            (
                "success without data",
                answer(200, r#"{"code":"200"}"#),
                "?",
            ),
            (
                "success, data a string",
                answer(200, r#"{"code":200,"data":"OB-1"}"#),
                "?",
            ),
            (
                "404 listing data",
                answer(
                    200,
                    r#"{"code":404,"data":[{"id":"OB-1","wolkvox_id":"z"}]}"#,
                ),
                "?",
            ),
            // found only when the id asked for is listed
            (
                "exact object",
                answer(
                    200,
                    r#"{"code":200,"data":{"id":"OB-1","wolkvox_id":"w1"}}"#,
                ),
                "F w1",
            ),
            (
                "in a loose list",
                answer(
                    200,
                    r#"{"code":200,"data":[{"id":"OB-2","wolkvox_id":"w2"},{"id":"OB-1","wolkvox_id":"w1"}]}"#,
                ),
                "F w1",
            ),
            (
                "numeric ids",
                answer(200, r#"{"code":200,"data":[{"id":7,"wolkvox_id":99}]}"#),
                "?",
            ),
            (
                "found without its id",
                answer(200, r#"{"code":200,"data":[{"id":"OB-1"}]}"#),
                "F ",
            ),
            ("found with a 65-char id", answer(200, &found_long), "?"),
            (
                "found with an empty id",
                answer(
                    200,
                    r#"{"code":"200","data":{"id":"OB-1","wolkvox_id":""}}"#,
                ),
                "?",
            ),
            (
                "found with a null id",
                answer(
                    200,
                    r#"{"code":200,"data":[{"id":"OB-1","wolkvox_id":null}]}"#,
                ),
                "?",
            ),
            (
                "found with a bidi override in its id",
                answer(
                    200,
                    r#"{"code":200,"data":[{"id":"OB-1","wolkvox_id":"ab\u202ec"}]}"#,
                ),
                "?",
            ),
            (
                "found with a control character",
                answer(
                    200,
                    r#"{"code":200,"data":[{"id":"OB-1","wolkvox_id":"a\u0007b"}]}"#,
                ),
                "?",
            ),
            // a complete list without it: not found
            (
                "loose list of siblings",
                answer(
                    200,
                    r#"{"code":200,"data":[{"id":"OB-2","wolkvox_id":"w2"},{"id":"OB-3","wolkvox_id":"w3"}]}"#,
                ),
                "N",
            ),
            // One obligation, another one: the filter was ignored.
            (
                "a sibling alone",
                answer(
                    200,
                    r#"{"code":200,"data":{"id":"OB-2","wolkvox_id":"w2"}}"#,
                ),
                "?",
            ),
            (
                "a sibling alone, string code",
                answer(
                    200,
                    r#"{"code":"200","data":{"id":"SOMETHING-ELSE","wolkvox_id":"idXXXX"}}"#,
                ),
                "?",
            ),
            // an incomplete list or a near miss: in doubt
            (
                "entries without id",
                answer(
                    200,
                    r#"{"code":200,"data":[{"name":"x","wolkvox_id":"w9"}]}"#,
                ),
                "?",
            ),
            (
                "more pages",
                answer(
                    200,
                    r#"{"code":200,"total":40,"data":[{"id":"OB-2","wolkvox_id":"w2"}]}"#,
                ),
                "?",
            ),
            (
                "next page",
                answer(
                    200,
                    r#"{"code":200,"next_page":"?page=2","data":[{"id":"OB-2","wolkvox_id":"w2"}]}"#,
                ),
                "?",
            ),
            (
                "total that matches",
                answer(
                    200,
                    r#"{"code":200,"total":1,"data":[{"id":"OB-2","wolkvox_id":"w2"}]}"#,
                ),
                "N",
            ),
            (
                "other case",
                answer(
                    200,
                    r#"{"code":200,"data":[{"id":"ob-1","wolkvox_id":"w1"}]}"#,
                ),
                "?",
            ),
            // the run cannot go on
            ("redirect", redirect, "S"),
            (
                "bad token",
                answer(403, r#"{"code":403,"error":"PLEASE VALIDATE TOKEN"}"#),
                "S",
            ),
            (
                "certificate",
                Err(TransportFailure::Certificate("untrusted".into())),
                "S",
            ),
            (
                "timeout",
                Err(TransportFailure::InDoubt("timeout".into())),
                "?",
            ),
        ];
        for (name, x, want) in cases {
            let asked = if name == "numeric ids" {
                "0007"
            } else {
                "OB-1"
            };
            let got = match classify_lookup(&x, asked).0 {
                Lookup::Found { wolkvox_id } => format!("F {wolkvox_id}"),
                Lookup::NotFound => "N".into(),
                Lookup::Unknown(Verdict::StopRun { .. }) => "S".into(),
                Lookup::Unknown(_) => "?".into(),
            };
            assert_eq!(got, want, "{name}");
        }
        // The numeric id equals the one asked for when written alike.
        let numeric = answer(200, r#"{"code":200,"data":[{"id":7,"wolkvox_id":99}]}"#);
        assert_eq!(
            classify_lookup(&numeric, "7").0,
            Lookup::Found {
                wolkvox_id: "99".into()
            }
        );
    }

    /// What each kind of answer to an insert means.
    #[test]
    fn write_answers_table() {
        let long = "y".repeat(65);
        let ok64 = "z".repeat(64);
        let cases: Vec<(&str, Exchange, &str)> = vec![
            (
                "the documented success",
                answer(
                    200,
                    r#"{"code":200,"error":"null","msg":"Succesfully create record","data":{"wolkvox_id":"123cb"}}"#,
                ),
                "done 123cb",
            ),
            (
                "a 64-char id",
                answer(
                    200,
                    &format!(r#"{{"code":200,"data":{{"wolkvox_id":"{ok64}"}}}}"#),
                ),
                "done",
            ),
            (
                "success without data",
                answer(200, r#"{"code":"200"}"#),
                "doubt",
            ),
            (
                "success with data null",
                answer(200, r#"{"code":200,"data":null}"#),
                "doubt",
            ),
            (
                "an empty id",
                answer(200, r#"{"code":200,"data":{"wolkvox_id":""}}"#),
                "doubt",
            ),
            (
                "a 65-char id",
                answer(
                    200,
                    &format!(r#"{{"code":200,"data":{{"wolkvox_id":"{long}"}}}}"#),
                ),
                "doubt",
            ),
            (
                "a control character",
                answer(200, r#"{"code":200,"data":{"wolkvox_id":"12\n3"}}"#),
                "doubt",
            ),
            (
                "an id that is an object",
                answer(200, r#"{"code":200,"data":{"wolkvox_id":{"a":1}}}"#),
                "doubt",
            ),
            (
                "303 after storing",
                Ok(Response {
                    scrubbed: false,
                    status: 303,
                    retry_after: None,
                    location: Some("/login.php".into()),
                    body: Vec::new(),
                }),
                "redirect /login.php",
            ),
            (
                "302 with a JSON body",
                Ok(Response {
                    scrubbed: false,
                    status: 302,
                    retry_after: None,
                    location: None,
                    body: br#"{"code":200,"data":{"wolkvox_id":"1"}}"#.to_vec(),
                }),
                "redirect",
            ),
            (
                "a 400 refusal",
                answer(
                    400,
                    r#"{"code":400,"error":"SOME PARAMETERS ARE REQUIRED"}"#,
                ),
                "refused",
            ),
            (
                "an untrusted certificate",
                Err(TransportFailure::Certificate(
                    "invalid peer certificate: UnknownIssuer".into(),
                )),
                "stop",
            ),
            (
                "an oversized answer",
                Err(TransportFailure::InDoubt(
                    "the answer is larger than 1 MiB".into(),
                )),
                "doubt",
            ),
        ];
        for (name, x, want) in cases {
            let got = match classify(&x).verdict {
                Verdict::Done { wolkvox_id } if want.starts_with("done ") => {
                    format!("done {wolkvox_id}")
                }
                Verdict::Done { .. } => "done".into(),
                Verdict::InDoubt { message } | Verdict::SuccessWithoutId { message, .. } => {
                    assert!(!message.is_empty(), "{name}");
                    "doubt".into()
                }
                Verdict::Redirected { location } if want.starts_with("redirect ") => {
                    format!("redirect {location}")
                }
                Verdict::Redirected { .. } => "redirect".into(),
                Verdict::Refused { .. } => "refused".into(),
                Verdict::StopRun { .. } | Verdict::AuthRequired { .. } => "stop".into(),
                Verdict::Transient { .. } => "transient".into(),
            };
            assert_eq!(got, want, "{name}");
        }
        // The token's information carries no obligation: its success stands.
        let info = answer(200, r#"{"code":200,"data":{"token_limit":4800}}"#);
        assert!(matches!(
            classify_answer(&info).verdict,
            Verdict::Done { .. }
        ));
        assert!(matches!(
            classify(&info).verdict,
            Verdict::SuccessWithoutId {
                malformed: false,
                ..
            }
        ));
        let msg = Verdict::Redirected {
            location: "https://x/login".into(),
        }
        .describe();
        assert!(
            msg.contains("redirected to https://x/login: check --server"),
            "{msg}"
        );
    }

    #[test]
    fn server_text_is_made_printable_and_hidden_characters_spoil_an_id() {
        let ansi = r#"{"code":400,"error":"BAD","msg":"x\u001b]0;PWNED\u0007\u001b[2J\r\nFAKE LOG LINE: row=9 status=created\u202eevil"}"#;
        let Verdict::Refused { message } = verdict(400, ansi) else {
            panic!("{:?}", verdict(400, ansi));
        };
        assert!(!message.chars().any(text::is_hidden), "{message:?}");
        assert!(message.contains("PWNED"), "{message:?}");
        assert!(message.contains("red") || message.contains("FAKE LOG LINE"));
        let c = classify(&answer(200, r#"{"code":"4\u001b[31m00","error":"x"}"#));
        assert!(!c.api_code.unwrap().chars().any(text::is_hidden));
        // A page that is not JSON, with an escape sequence in it.
        let Verdict::Refused { message } = verdict(400, "bad\u{1b}[2J\r\nrequest") else {
            panic!()
        };
        assert_eq!(message, "HTTP 400: body: bad\u{FFFD}[2J request");
        for id in [
            "\u{f1}\u{fc}\u{202e}evil\u{200b}",
            "a\u{2066}b",
            "\u{feff}12",
        ] {
            let body = serde_json::json!({"code": 200, "data": {"wolkvox_id": id}}).to_string();
            assert!(
                matches!(
                    verdict(200, &body),
                    Verdict::SuccessWithoutId {
                        malformed: true,
                        ..
                    }
                ),
                "{id:?}"
            );
        }
        // An id the token was scrubbed from: the server gave the token, or
        // a piece of it, as the id.
        for id in ["[token hidden]", "ob-[token hidden]"] {
            let body = serde_json::json!({"code": 200, "data": {"wolkvox_id": id}}).to_string();
            let Verdict::SuccessWithoutId {
                message,
                malformed: true,
            } = verdict(200, &body)
            else {
                panic!("{id:?}: {:?}", verdict(200, &body));
            };
            assert!(message.contains("holds the API token"), "{message}");
        }
        let accents = serde_json::json!({"code": 200, "data": {"wolkvox_id": "ñü-7"}}).to_string();
        assert_eq!(
            verdict(200, &accents),
            Verdict::Done {
                wolkvox_id: "ñü-7".into()
            }
        );
    }

    #[test]
    fn token_information_numbers_or_strings() {
        let r = Response {
            scrubbed: false,
            status: 200,
            retry_after: None,
            location: None,
            body: br#"{"code":200,"data":{"token_limit":"4800","token_use_today":120,"hours_to_restart_count":5}}"#.to_vec(),
        };
        let q = parse_token_information(&r).unwrap();
        assert_eq!(q.limit, 4800);
        assert_eq!(q.remaining(), 4680);
        assert_eq!(q.hours_to_restart, Some(5));
    }
}
