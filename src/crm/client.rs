//! The HTTP client: one reqwest client (rustls, keep-alive) reused for every
//! request. It reports what happened on the wire and nothing more; deciding
//! what that means is [`super::classify`]'s job.
//!
//! It trusts nothing it is sent: an answer is read only up to
//! [`DEFAULT_MAX_BODY`], redirects are never followed, and every text that
//! comes from the server (body, `Location`, error messages) is scrubbed of
//! the token here, the one place that knows it, before anyone can log it or
//! write it to a file.

use super::{text, Connection};
use crate::tr;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use std::borrow::Cow;
use std::time::Duration;

/// The largest answer read, in bytes. The API's answers are a few hundred
/// bytes; a larger one is not the API's, and reading it whole would let a
/// server decide how much memory the import takes.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// What replaces the token wherever the server repeats it.
pub const REDACTED: &str = "[token hidden]";

/// The longest `Location` kept for messages, in characters.
const MAX_LOCATION_CHARS: usize = 200;

/// The answer as it came off the wire, already scrubbed of the token.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// `Retry-After` in seconds, when the server sent one.
    pub retry_after: Option<Duration>,
    /// `Location` of a redirect (never followed), cut to a printable line.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made: nothing reached the server.
    BeforeSend(String),
    /// The server's certificate is not trusted: nothing reached the server,
    /// and retrying cannot help.
    Certificate(String),
    /// The request may have reached the server (timeout, connection lost
    /// while waiting, an answer too large to be the API's): whether it took
    /// effect is unknown.
    InDoubt(String),
    /// The proxy in `HTTPS_PROXY` refused to open the tunnel until it is
    /// given credentials (its `407` to `CONNECT`): nothing reached the
    /// server, and no request can until the proxy's user and password are
    /// given.
    ProxyAuth,
}

pub type Exchange = Result<Response, TransportFailure>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Insert.
    Post,
    /// Update.
    Put,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    obligation_url: reqwest::Url,
    query_url: reqwest::Url,
    token_url: reqwest::Url,
    timeout: Duration,
    /// Answers larger than this many bytes are a protocol error.
    max_body: usize,
    /// The forms the token may take in a server's text.
    scrubber: Scrubber,
    host: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.obligation_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `timeout` bounds each request from send to the end of the answer.
    pub fn new(
        conn: &Connection,
        timeout: Duration,
        max_connections: usize,
    ) -> Result<Client, String> {
        let mut token =
            HeaderValue::from_str(conn.token.expose()).map_err(|_| tr!("token-not-header"))?;
        // Keeps the value out of any Debug print of the headers.
        token.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("Wolkvox-Token", token);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let host = conn.base.host_str().unwrap_or("").to_string();
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("wolkvox-import/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(max_connections.max(1))
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .https_only(conn.base.scheme() == "https")
            .redirect(reqwest::redirect::Policy::none());
        // The platform's store (with SSL_CERT_FILE / SSL_CERT_DIR) and the
        // built-in roots are both trusted (the crate's features); --ca-cert
        // adds to them.
        for cert in &conn.ca_certs {
            builder = builder.add_root_certificate(cert.clone());
        }
        if bypass_proxies(&host, &no_proxy_from_env()) {
            builder = builder.no_proxy();
        }
        warn_about_cert_variables();
        let http = builder
            .build()
            .map_err(|e| tr!("http-client-setup", why = e.to_string()))?;
        let join = |p: &str| {
            conn.base
                .join(p)
                .map_err(|e| tr!("server-bad-url", why = e.to_string()))
        };
        Ok(Client {
            http,
            obligation_url: join("collections/insertObligation.php")?,
            query_url: join("collections/queryObligation.php")?,
            token_url: join("token/tokenInformation.php")?,
            timeout,
            max_body: DEFAULT_MAX_BODY,
            scrubber: Scrubber::new(conn.token.expose()),
            host,
        })
    }

    /// Inserts (POST) or updates (PUT) one obligation with `body` as is.
    pub async fn obligation(&self, method: Method, body: String) -> Exchange {
        let req = match method {
            Method::Post => self.http.post(self.obligation_url.clone()),
            Method::Put => self.http.put(self.obligation_url.clone()),
        };
        self.execute(req.body(body)).await
    }

    /// Looks an obligation up by its id within a collections record.
    pub async fn query(&self, operation: &str, obligation: &str, wolkvox_id: &str) -> Exchange {
        let body = serde_json::json!({
            "operation": operation,
            "obligation": obligation,
            "wolkvox_id": wolkvox_id,
        })
        .to_string();
        self.execute(self.http.post(self.query_url.clone()).body(body))
            .await
    }

    /// The server's host, for messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn token_information_url(&self) -> &str {
        self.token_url.as_str()
    }

    /// The token's daily quota and use. Costs one request of the quota.
    pub async fn token_information(&self, operation: &str) -> Exchange {
        let mut url = self.token_url.clone();
        url.query_pairs_mut().append_pair("operation", operation);
        self.execute(self.http.get(url)).await
    }

    async fn execute(&self, req: reqwest::RequestBuilder) -> Exchange {
        let mut resp = req.send().await.map_err(|e| self.describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let location = resp.headers().get(LOCATION).map(|v| {
            self.scrubber
                .clean_cut(&String::from_utf8_lossy(v.as_bytes()), MAX_LOCATION_CHARS)
        });
        let too_large = || {
            TransportFailure::InDoubt(tr!(
                "answer-too-large",
                status = status,
                kib = (self.max_body / 1024) as u64
            ))
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        // Read chunk by chunk and stop at the cap: memory stays bounded
        // whatever the server sends (an endless chunked body included).
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.describe(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            retry_after,
            location,
            body: self.scrubber.body(body),
        })
    }

    fn describe(&self, e: &reqwest::Error) -> TransportFailure {
        if let Some(problem) = certificate_problem(e) {
            return TransportFailure::Certificate(self.scrubber.clean(&tr!(
                "certificate-untrusted",
                host = self.host.as_str(),
                problem = problem
            )));
        }
        if proxy_wants_credentials(e) {
            return TransportFailure::ProxyAuth;
        }
        // Only a failure to connect proves the request never left.
        if e.is_connect() {
            let why = root_cause(e);
            return TransportFailure::BeforeSend(
                self.scrubber.clean(&tr!("cannot-connect", why = why)),
            );
        }
        if e.is_timeout() {
            return TransportFailure::InDoubt(tr!(
                "no-answer-within",
                seconds = self.timeout.as_secs_f64().to_string()
            ));
        }
        TransportFailure::InDoubt(
            self.scrubber
                .clean(&tr!("connection-lost", why = root_cause(e))),
        )
    }
}

/// The innermost error message: reqwest's own top line repeats the URL.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// True when the proxy answered the tunnel's `CONNECT` with 407. hyper-util
/// does not export its tunnel error type, so it is known by its words,
/// anywhere in the chain.
fn proxy_wants_credentials(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.to_string().contains("proxy authorization required") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The certificate problem behind a failed connection, in words, if that is
/// what it was. rustls's error sits inside `io::Error`s (nested, in
/// practice), whose `source()` skips the error they wrap, so each
/// `io::Error` is opened by hand.
fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref::<rustls::Error>() {
            return Some(certificate_words(c));
        }
        let wrapped = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|b| b as &(dyn std::error::Error + 'static));
        cur = wrapped.or_else(|| err.source());
    }
    None
}

fn certificate_words(c: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match c {
        C::UnknownIssuer => tr!("certificate-unknown-issuer"),
        C::Expired | C::ExpiredContext { .. } => tr!("certificate-expired"),
        C::NotValidYet | C::NotValidYetContext { .. } => tr!("certificate-not-yet-valid"),
        C::NotValidForName | C::NotValidForNameContext { .. } => tr!("certificate-wrong-name"),
        C::Revoked => tr!("certificate-revoked"),
        other => format!("{other:?}"),
    }
}

/// The token in the forms a server may repeat it: as sent, JSON-escaped
/// (PHP also escapes `/` as `\/`) and percent-encoded, in any case (a
/// server may upper-case what it echoes). A JSON answer is also read as
/// JSON, so that a token hidden behind `\uXXXX` escapes is found in the
/// decoded text; any other text is read with its `\uXXXX` escapes decoded
/// (a cut JSON body, a page) and without the characters that do not show
/// (a zero-width space or a soft hyphen between its letters), and when the
/// token is there, that reading, scrubbed, is what is kept.
#[derive(Clone)]
struct Scrubber {
    /// The forms, ASCII-lowercased: the token is ASCII, so lowercasing keeps
    /// every byte where it was and matching can ignore case.
    needles: Vec<Vec<u8>>,
}

/// Shorter tokens are not scrubbed: replacing every occurrence of a couple
/// of characters would corrupt the ids and messages it appears in. Also the
/// shortest piece of the token removed where a text is cut.
const MIN_SCRUBBED_LEN: usize = 4;

impl Scrubber {
    fn new(token: &str) -> Scrubber {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        if token.len() >= MIN_SCRUBBED_LEN {
            let json = serde_json::to_string(token).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or(token)
                .to_string();
            let percent: String = token
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            for n in [token.to_string(), json.replace('/', "\\/"), json, percent] {
                let n = n.to_ascii_lowercase().into_bytes();
                if !needles.contains(&n) {
                    needles.push(n);
                }
            }
        }
        Scrubber { needles }
    }

    /// A body scrubbed as bytes and then as it reads: as decoded JSON when
    /// it is JSON, as text with its escapes decoded and its hidden
    /// characters dropped when it is not.
    fn body(&self, body: Vec<u8>) -> Vec<u8> {
        let body = self.bytes(body);
        self.decoded(&body).unwrap_or(body)
    }

    /// True when some form of the token is in `s`, whatever its case.
    fn holds(&self, s: &[u8]) -> bool {
        let lower = s.to_ascii_lowercase();
        self.needles
            .iter()
            .any(|n| memchr::memmem::find(&lower, n).is_some())
    }

    /// Every form of the token in `body`, whatever its case, replaced.
    fn bytes(&self, mut body: Vec<u8>) -> Vec<u8> {
        if self.needles.is_empty() {
            return body;
        }
        let mut lower = body.to_ascii_lowercase();
        for needle in &self.needles {
            if memchr::memmem::find(&lower, needle).is_none() {
                continue;
            }
            // The lower-case copy is kept in step with the body as it is
            // rewritten (`REDACTED` is lower case already), rather than
            // lower-casing the whole body again for the next form.
            let mut out = Vec::with_capacity(body.len());
            let mut out_lower = Vec::with_capacity(body.len());
            let mut at = 0;
            while let Some(i) = memchr::memmem::find(&lower[at..], needle) {
                out.extend_from_slice(&body[at..at + i]);
                out.extend_from_slice(REDACTED.as_bytes());
                out_lower.extend_from_slice(&lower[at..at + i]);
                out_lower.extend_from_slice(REDACTED.as_bytes());
                at += i + needle.len();
            }
            out.extend_from_slice(&body[at..]);
            out_lower.extend_from_slice(&lower[at..]);
            body = out;
            lower = out_lower;
        }
        body
    }

    /// A body that hides the token from `bytes`, scrubbed as it reads: a
    /// JSON body whose decoded strings hold it (escaped as `\u0074\u006f…`,
    /// Gson's `\u003d` for `=`, hidden characters between its letters) is
    /// written again with the token replaced; any other body is replaced by
    /// its [`revealed`] text, scrubbed. `None` when it holds no token.
    fn decoded(&self, body: &[u8]) -> Option<Vec<u8>> {
        if self.needles.is_empty() || !may_hide(body) {
            return None;
        }
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(mut value) => self
                .scrub_value(&mut value)
                .then(|| serde_json::to_vec(&value).ok())?,
            Err(_) => {
                let shown = revealed(&String::from_utf8_lossy(body));
                self.holds(shown.as_bytes())
                    .then(|| self.bytes(shown.into_bytes()))
            }
        }
    }

    /// Scrubs every string and key of `v`; true when one changed.
    fn scrub_value(&self, v: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                let clean = self.text(s);
                let changed = clean != *s;
                *s = clean;
                changed
            }
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |acc, item| self.scrub_value(item) | acc),
            Value::Object(map) => {
                let mut changed = false;
                let old = std::mem::take(map);
                for (k, mut item) in old {
                    changed |= self.scrub_value(&mut item);
                    let key = self.text(&k);
                    changed |= key != k;
                    map.insert(key, item);
                }
                changed
            }
            _ => false,
        }
    }

    /// `s` with every form of the token replaced; when the token shows only
    /// once its escapes are decoded and its hidden characters dropped, that
    /// reading of `s`, scrubbed.
    fn text(&self, s: &str) -> String {
        if self.needles.is_empty() {
            return s.to_string();
        }
        let plain = String::from_utf8_lossy(&self.bytes(s.as_bytes().to_vec())).into_owned();
        if may_hide(plain.as_bytes()) {
            let shown = revealed(&plain);
            if self.holds(shown.as_bytes()) {
                return String::from_utf8_lossy(&self.bytes(shown.into_bytes())).into_owned();
            }
        }
        plain
    }

    /// Server text ready to show: scrubbed, then cut short and made
    /// printable ([`text::from_server`]). Scrubbed first, so that the cut
    /// cannot split the token.
    fn clean(&self, s: &str) -> String {
        text::from_server(&self.text(s))
    }

    /// [`Scrubber::clean`], then cut to `max` characters. Scrubbed before it
    /// is cut, so that the cut cannot split the token and leave half of it;
    /// and should the text end, where it is cut, with the start of the token
    /// (at least [`MIN_SCRUBBED_LEN`] characters of it), that goes too.
    fn clean_cut(&self, s: &str, max: usize) -> String {
        let whole = self.clean(s.trim());
        let cut = text::cut(whole.trim(), max);
        let Some(kept) = cut.strip_suffix('…') else {
            return cut;
        };
        let mut kept = kept.to_string();
        for needle in &self.needles {
            for k in (MIN_SCRUBBED_LEN..needle.len()).rev() {
                let from = kept.len().saturating_sub(k);
                if kept.len() >= k
                    && kept.is_char_boundary(from)
                    && kept.as_bytes()[from..].eq_ignore_ascii_case(&needle[..k])
                {
                    kept.truncate(from);
                    break;
                }
            }
        }
        kept.push('…');
        kept
    }
}

/// True when `s` may hide the token from a plain search: it holds a
/// `\u` escape, a `%XX` escape, a character outside ASCII, or an ASCII
/// control character that is not white space.
fn may_hide(s: &[u8]) -> bool {
    memchr::memmem::find(s, b"\\u").is_some()
        || s.windows(3)
            .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        || s.iter()
            .any(|&b| b >= 0x7f || (b < 0x20 && !b"\t\r\n".contains(&b)))
}

/// `s` as a person would read it: `\uXXXX` escapes decoded (a surrogate
/// pair as its one character; a lone surrogate left as written), `%XX`
/// escapes decoded (however much of a text a server URL-encoded), and the
/// characters that do not show ([`text::is_hidden`]) dropped, except white
/// space, which stays (it is shown as a space).
fn revealed(s: &str) -> String {
    // Each step copies only when it has something to decode.
    percent_decoded(&json_unescaped(s))
        .chars()
        .filter(|&c| !text::is_hidden(c) || text::is_white(c))
        .collect()
}

/// `s` with its `\uXXXX` escapes decoded (a surrogate pair as its one
/// character; a lone surrogate left as written).
fn json_unescaped(s: &str) -> Cow<'_, str> {
    if !s.contains("\\u") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\u") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let (c, used) = match escape_at(after) {
            Some(high @ 0xD800..=0xDBFF) => match escape_at(&after[6..]) {
                Some(low @ 0xDC00..=0xDFFF) => (
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)),
                    12,
                ),
                _ => (None, 6),
            },
            Some(code) => (char::from_u32(code), 6),
            None => (None, 2),
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&after[..used]),
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `s` with its `%XX` escapes decoded, as UTF-8 where the bytes are (a
/// stray `%` stays as written; decoded bytes that are not UTF-8 become
/// U+FFFD).
fn percent_decoded(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The code of the `\uXXXX` escape `s` starts with.
fn escape_at(s: &str) -> Option<u32> {
    let hex = s.strip_prefix("\\u")?.get(..4)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// `NO_PROXY` (or `no_proxy`), as the environment gives it.
fn no_proxy_from_env() -> String {
    std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default()
}

/// True when requests to `host` must not go through a proxy. This machine
/// is never reached through one: a rehearsal's plain `http://` would hand
/// the token to the proxy in clear. And `NO_PROXY=*` means every host, IP
/// addresses included, which reqwest's own matching leaves out.
/// Other `NO_PROXY` entries are left to reqwest.
fn bypass_proxies(host: &str, no_proxy: &str) -> bool {
    super::is_loopback(host) || no_proxy.split(',').any(|e| e.trim() == "*")
}

/// `SSL_CERT_FILE` or `SSL_CERT_DIR` naming nothing readable would be
/// ignored without a word; say it, as the certificate error that follows
/// would otherwise be a puzzle.
fn warn_about_cert_variables() {
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            let p = std::path::Path::new(&p);
            let ok = if var == "SSL_CERT_FILE" {
                std::fs::File::open(p).is_ok()
            } else {
                std::fs::read_dir(p).is_ok()
            };
            if !ok {
                tracing::warn!(
                    "{}",
                    tr!(
                        "ca-var-unreadable",
                        var = var.to_string(),
                        path = p.display().to_string()
                    )
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_scrubbed_in_every_form() {
        let s = Scrubber::new("ab/cd+ef\"gh");
        let body = br#"{"msg":"header Wolkvox-Token: ab\/cd+ef\"gh and ab/cd+ef\"gh and ab%2Fcd%2Bef%22gh"}"#.to_vec();
        let out = String::from_utf8(s.bytes(body)).unwrap();
        assert!(!out.contains("cd+ef"), "{out}");
        assert!(!out.contains("cd%2Bef"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 3, "{out}");
        // Still JSON after scrubbing.
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
        assert_eq!(s.text("nothing here"), "nothing here");
        // A token too short to scrub safely leaves ids alone.
        let short = Scrubber::new("12");
        assert_eq!(short.text("id 123"), "id 123");
    }

    #[test]
    fn proxies_are_bypassed_for_this_machine_and_for_a_wildcard() {
        assert!(bypass_proxies("127.0.0.1", ""));
        assert!(bypass_proxies("localhost", ""));
        assert!(bypass_proxies("[::1]", ""));
        assert!(!bypass_proxies("crm0001.wolkvox.com", ""));
        assert!(!bypass_proxies("10.1.2.3", "example.com"));
        // reqwest's own matcher would send an IP host to the proxy here.
        assert!(bypass_proxies("10.1.2.3", "example.com, *"));
        assert!(bypass_proxies("crm0001.wolkvox.com", "*"));
    }

    #[test]
    fn a_certificate_error_is_found_inside_nested_io_errors() {
        use std::io::{Error, ErrorKind};
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = Error::other(Error::new(ErrorKind::InvalidData, rustls_error));
        let words = certificate_problem(&nested).unwrap();
        assert!(words.contains("does not trust"), "{words}");
        let expired = Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Expired),
        );
        assert!(certificate_problem(&expired).unwrap().contains("expired"));
        assert!(certificate_problem(&Error::other("connection refused")).is_none());
        let handshake = Error::new(ErrorKind::InvalidData, rustls::Error::HandshakeNotComplete);
        assert!(certificate_problem(&handshake).is_none());
    }

    #[test]
    fn redirect_locations_are_one_short_line() {
        let s = Scrubber::new("s3cr3t-token-value");
        assert_eq!(s.clean_cut("a\r\nb", 10), "a  b");
        assert_eq!(s.clean_cut(&"x".repeat(300), 5), "xxxxx…");
    }

    #[test]
    fn every_form_is_scrubbed_in_one_body() {
        // `bytes` keeps its lower-case copy in step by writing `REDACTED`
        // into it as it is: that holds only while it is lower case.
        assert_eq!(REDACTED, REDACTED.to_ascii_lowercase());
        let s = Scrubber::new("tok/SECRET+9");
        let body = br#"a TOK/secret+9 b "tok\/secret+9" c tok%2Fsecret%2B9 d tok/SECRET+9"#;
        assert_eq!(
            String::from_utf8(s.bytes(body.to_vec())).unwrap(),
            r#"a [token hidden] b "[token hidden]" c [token hidden] d [token hidden]"#
        );
    }

    #[test]
    fn the_token_is_scrubbed_whatever_its_case_and_its_escapes() {
        let token = "tok-SECRET-123==";
        let s = Scrubber::new(token);
        let upper = s.text("headers: Wolkvox-Token: TOK-SECRET-123==; lower tok-secret-123==");
        assert_eq!(
            upper,
            "headers: Wolkvox-Token: [token hidden]; lower [token hidden]"
        );
        assert_eq!(s.text("?t=tok-secret-123%3d%3D"), "?t=[token hidden]");
        // Gson writes '=' as \u003d; a server may escape every character.
        let gson = br#"{"code":400,"msg":"Wolkvox-Token: tok-SECRET-123\u003d\u003d"}"#;
        let every: String = token
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        let every =
            format!(r#"{{"code":400,"msg":"Wolkvox-Token: {every}","data":{{"k":[1,"x"]}}}}"#);
        for body in [gson.to_vec(), every.into_bytes()] {
            let out = s.body(body);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let msg = v["msg"].as_str().unwrap();
            assert_eq!(msg, "Wolkvox-Token: [token hidden]", "{v}");
            assert_eq!(v["code"], 400);
        }
        // A body without the token is left byte for byte.
        let clean = br#"{"code":200,"data":{"wolkvox_id":"\u00f1a","n":1.50}}"#.to_vec();
        assert_eq!(s.body(clean.clone()), clean);
    }

    #[test]
    fn a_token_behind_hidden_characters_or_escapes_in_any_text_is_scrubbed() {
        let token = "tok-SECRET-123";
        let s = Scrubber::new(token);
        let spaced = |sep: &str| {
            token
                .chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(sep)
        };
        // Zero-width spaces or soft hyphens between its letters, raw or
        // JSON-escaped.
        for sep in ["\u{200B}", "\u{00AD}", "\u{2060}", "\u{1b}"] {
            let raw = format!("Wolkvox-Token: {}", spaced(sep));
            assert_eq!(s.text(&raw), "Wolkvox-Token: [token hidden]", "{sep:?}");
            let body = serde_json::json!({"code": 400, "msg": raw}).to_string();
            let out = s.body(body.into_bytes());
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["msg"], "Wolkvox-Token: [token hidden]", "{sep:?}");
        }
        let escaped = format!(
            r#"{{"code":400,"msg":"Wolkvox-Token: {}"}}"#,
            spaced("\\u200b")
        );
        let v: serde_json::Value = serde_json::from_slice(&s.body(escaped.into_bytes())).unwrap();
        assert_eq!(v["msg"], "Wolkvox-Token: [token hidden]");
        // Escapes in a body that is not JSON: cut short, or plain text.
        let cut = br#"{"code":400,"msg":"Wolkvox-Token: \u0074ok-SECRET-123""#.to_vec();
        assert_eq!(
            String::from_utf8(s.body(cut)).unwrap(),
            r#"{"code":400,"msg":"Wolkvox-Token: [token hidden]""#
        );
        let plain = br"ERR Wolkvox-Token=\u0074\u006F\u006b-SECRET-123 end".to_vec();
        assert_eq!(
            String::from_utf8(s.body(plain)).unwrap(),
            "ERR Wolkvox-Token=[token hidden] end"
        );
        // URL-encoded in any way a server might: every character, some of
        // them, lower-case hex, `/` left as it is.
        let odd = Scrubber::new("tokSECRET+abc/987=xyz");
        for echoed in [
            "BAD token=tokSECRET%2Babc/987%3Dxyz",
            "BAD token=%74%6F%6B%53%45%43%52%45%54%2B%61%62%63%2F%39%38%37%3D%78%79%7A",
            "BAD token=%74ok%53ECRET%2babc%2f987%3dxyz",
        ] {
            assert_eq!(odd.text(echoed), "BAD token=[token hidden]", "{echoed}");
            let body = serde_json::json!({"code": 400, "msg": echoed}).to_string();
            let v: serde_json::Value =
                serde_json::from_slice(&odd.body(body.into_bytes())).unwrap();
            assert_eq!(v["msg"], "BAD token=[token hidden]", "{echoed}");
        }
        assert_eq!(odd.text("50%25 off, 100%"), "50%25 off, 100%");
        // Text without the token keeps its escapes and characters as sent.
        let other = "caf\\u00e9 \u{200B} \\ud83d and \\uZZZZ".to_string();
        assert_eq!(s.text(&other), other);
        assert_eq!(s.body(other.clone().into_bytes()), other.into_bytes());
        assert_eq!(
            revealed(r"\ud83d\ude00 \ud83d x\u00"),
            "\u{1F600} \\ud83d x\\u00"
        );
        assert_eq!(revealed("a\u{200B}b\r\nc"), "ab\r\nc");
    }

    #[test]
    fn a_cut_never_leaves_a_piece_of_the_token() {
        let token = "tok-SECRET-123";
        let s = Scrubber::new(token);
        let long = format!("https://x.example/{}{token}", "p".repeat(175));
        let out = s.clean_cut(&long, 200);
        assert!(!out.contains("tok-SEC"), "{out}");
        assert!(out.ends_with('…'), "{out}");
        // The token whole is scrubbed before the cut, wherever the cut is.
        for keep in 0..=token.len() {
            let text = format!("{}{token} and more", "p".repeat(200 - keep));
            let out = s.clean_cut(&text, 200);
            assert!(!out.contains("tok-"), "{keep}: {out}");
        }
        // Text that is cut just after the start of the token (here, the
        // token but its last character, so nothing to scrub): that start
        // goes, from 4 characters on.
        let almost = &token[..token.len() - 1];
        for keep in MIN_SCRUBBED_LEN..almost.len() {
            let text = format!("{}{almost} and more", "p".repeat(200 - keep));
            let out = s.clean_cut(&text, 200);
            assert_eq!(out, format!("{}…", "p".repeat(200 - keep)), "{keep}");
        }
        // Text that merely ends like a short piece of it is left alone.
        assert_eq!(
            s.clean_cut(&format!("{}tok", "a".repeat(10)), 12),
            "aaaaaaaaaato…"
        );
    }
}
