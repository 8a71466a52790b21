//! The HTTP client: one reqwest client (rustls, keep-alive) reused for every
//! request. It reports what happened on the wire and nothing more; deciding
//! what that means is [`super::classify`]'s job.
//!
//! It trusts nothing it is sent: an answer is read only up to
//! [`DEFAULT_MAX_BODY`], redirects are never followed, and every text that
//! comes from the server (body, `Location`, error messages) is scrubbed of
//! the token here, the one place that knows it, before anyone can log it or
//! write it to a file.

use super::scrub::Scrubber;
use super::Connection;
use crate::tr;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use std::time::Duration;

/// The largest answer read, in bytes. The API's answers are a few hundred
/// bytes; a larger one is not the API's, and reading it whole would let a
/// server decide how much memory the import takes.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

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
    /// Something in the body was hidden as the token: what the server said
    /// is not all there, and may have been the very id a look-up asked for.
    pub scrubbed: bool,
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
        for cert in certificate_variables() {
            builder = builder.add_root_certificate(cert);
        }
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
        let (body, scrubbed) = self.scrubber.body_marked(body);
        Ok(Response {
            status,
            retry_after,
            location,
            body,
            scrubbed,
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

/// Checks `SSL_CERT_FILE` and `SSL_CERT_DIR` (a list of folders, as
/// `PATH` is), which the platform's loader reads in place of the system's
/// store: one that names nothing readable, or a file or folder that holds
/// no certificate, is ignored by it without a word, and the certificate
/// error that follows would be a puzzle. Each draws a warning instead.
/// Returns the certificates of an `SSL_CERT_FILE` saved with a byte order
/// mark, whose first certificate the platform's loader misses: they are
/// trusted as `--ca-cert`'s are.
fn certificate_variables() -> Vec<reqwest::Certificate> {
    let warn = |readable: bool, var: &str, path: &std::path::Path| {
        let (var, path) = (var.to_string(), path.display().to_string());
        let message = if readable {
            tr!("ca-var-no-certificate", var = var, path = path)
        } else {
            tr!("ca-var-unreadable", var = var, path = path)
        };
        tracing::warn!("{message}");
    };
    let set = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty());
    let mut extra = Vec::new();
    if let Some(file) = set("SSL_CERT_FILE") {
        let path = std::path::Path::new(&file);
        match std::fs::read(path) {
            Err(_) => warn(false, "SSL_CERT_FILE", path),
            Ok(bytes) => match super::pem_certificates(&bytes) {
                Ok(certs) if !certs.is_empty() => {
                    if bytes.starts_with(super::BOM) {
                        extra = certs;
                    }
                }
                _ => warn(true, "SSL_CERT_FILE", path),
            },
        }
    }
    if let Some(dirs) = set("SSL_CERT_DIR") {
        for dir in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
            match std::fs::read_dir(&dir) {
                Err(_) => warn(false, "SSL_CERT_DIR", &dir),
                Ok(entries) => {
                    // The first file with a certificate is enough.
                    let any = entries.flatten().any(|e| {
                        let path = e.path();
                        path.is_file()
                            && std::fs::read(&path).is_ok_and(|b| {
                                super::pem_certificates(&b).is_ok_and(|c| !c.is_empty())
                            })
                    });
                    if !any {
                        warn(true, "SSL_CERT_DIR", &dir);
                    }
                }
            }
        }
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
