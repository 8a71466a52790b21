//! Talking to the wolkvox CRM: where it is, how to authenticate, how to send
//! a request and what its answer means.
//!
//! Only the `client` module touches the network; `classify` is the one place that
//! decides what an answer means for the row and for the run.

pub(crate) mod classify;
pub(crate) mod client;
pub(crate) mod scrub;
pub(crate) mod text;
mod token;

pub use classify::TokenQuota;
pub use token::Token;

use crate::tr;
use std::path::Path;

/// Where the API is and who we are to it.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Base URL, ending in `/`, e.g. `https://crm0001.wolkvox.com/server/API/v2/`.
    pub base: reqwest::Url,
    /// The API token.
    pub token: Token,
    /// Certificate authorities trusted besides the system's and the
    /// built-in ones (`--ca-cert`), e.g. a TLS-inspecting proxy's.
    pub ca_certs: Vec<reqwest::Certificate>,
}

/// The byte order mark Windows Notepad writes at the start of a UTF-8 file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The certificates of a PEM file, read as openssl and curl read it: a
/// leading byte order mark is skipped (the PEM reader would take the first
/// `-----BEGIN CERTIFICATE-----` after it for text, and miss that
/// certificate), and lines may end in CR LF.
fn pem_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, reqwest::Error> {
    reqwest::Certificate::from_pem_bundle(pem.strip_prefix(BOM).unwrap_or(pem))
}

/// Reads `--ca-cert`: a PEM file with one or more certificates (saved by
/// Notepad, with a byte order mark and CR LF line ends, too).
pub fn read_ca_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| {
        tr!(
            "ca-cert-unreadable",
            path = path.display().to_string(),
            why = crate::source::open_error(&e)
        )
    })?;
    let certs = pem_certificates(&pem).map_err(|e| {
        tr!(
            "ca-cert-not-pem",
            path = path.display().to_string(),
            why = e.to_string()
        )
    })?;
    if certs.is_empty() || !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(tr!("ca-cert-empty", path = path.display().to_string()));
    }
    Ok(certs)
}

/// The API's path below the host.
const API_PATH: &str = "server/API/v2/";

/// Turns `--server` into the API's base URL. A bare host means
/// `https://HOST/server/API/v2/`; a URL with a path is taken as the base.
/// Plain `http://` is refused unless the host is this machine, and retired
/// hosts are refused with their replacement named.
pub fn parse_server(server: &str) -> Result<reqwest::Url, String> {
    let s = server.trim();
    if s.is_empty() {
        return Err(tr!("server-empty"));
    }
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let mut url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| tr!("server-not-url", server = s, why = e.to_string()))?;
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if host.is_empty() {
        return Err(tr!("server-no-host", server = s));
    }
    if host == "crmvox.com" || host.ends_with(".crmvox.com") {
        let replacement = match host.as_str() {
            "sv0000.crmvox.com" => "crm0000.wolkvox.com",
            "sv0001.crmvox.com" => "crm0001.wolkvox.com",
            _ => "crmNNNN.wolkvox.com",
        };
        return Err(tr!(
            "server-retired",
            host = host,
            replacement = replacement
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err(tr!("server-plain-http", server = s)),
        other => return Err(tr!("server-scheme", server = s, scheme = other)),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(tr!("server-query", server = s));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(API_PATH);
    } else if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_hosts_get_https_and_the_api_path() {
        assert_eq!(
            parse_server("crm0001.wolkvox.com").unwrap().as_str(),
            "https://crm0001.wolkvox.com/server/API/v2/"
        );
        assert_eq!(
            parse_server("https://crm0001.wolkvox.com/server/API/v2")
                .unwrap()
                .as_str(),
            "https://crm0001.wolkvox.com/server/API/v2/"
        );
        assert_eq!(
            parse_server("http://127.0.0.1:8080/server/API/v2/")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/server/API/v2/"
        );
        assert_eq!(
            parse_server("http://localhost:9").unwrap().as_str(),
            "http://localhost:9/server/API/v2/"
        );
        assert_eq!(
            parse_server("http://[::1]:9/").unwrap().as_str(),
            "http://[::1]:9/server/API/v2/"
        );
    }

    #[test]
    fn plain_http_elsewhere_is_refused() {
        let e = parse_server("http://crm0001.wolkvox.com").unwrap_err();
        assert!(e.contains("unencrypted"), "{e}");
        assert!(parse_server("http://10.0.0.5").is_err());
        assert!(parse_server("ftp://x.com").is_err());
    }

    #[test]
    fn retired_hosts_name_their_replacement() {
        let e = parse_server("sv0001.crmvox.com").unwrap_err();
        assert!(e.contains("crm0001.wolkvox.com"), "{e}");
        assert!(e.contains("retired"), "{e}");
        let e = parse_server("https://sv0000.crmvox.com/server/API/v2/").unwrap_err();
        assert!(e.contains("crm0000.wolkvox.com"), "{e}");
    }

    #[test]
    fn ca_cert_files_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "hello").unwrap();
        let e = read_ca_certs(&p).unwrap_err();
        assert!(e.contains("no certificate"), "{e}");
        let e = read_ca_certs(&dir.path().join("missing.pem")).unwrap_err();
        assert!(e.contains("--ca-cert"), "{e}");
    }

    /// A CA certificate in PEM form, written by rcgen.
    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn a_ca_cert_saved_by_notepad_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        let pem = ca_pem();
        let crlf = pem.replace("\r\n", "\n").replace('\n', "\r\n");
        let two = format!("{pem}{pem}");
        for (what, bytes) in [
            (
                "a byte order mark and CR LF",
                [BOM, crlf.as_bytes()].concat(),
            ),
            ("a byte order mark", [BOM, pem.as_bytes()].concat()),
            ("CR LF", crlf.clone().into_bytes()),
            (
                "two, after a byte order mark",
                [BOM, two.as_bytes()].concat(),
            ),
        ] {
            std::fs::write(&p, &bytes).unwrap();
            let certs = read_ca_certs(&p).unwrap_or_else(|e| panic!("{what}: {e}"));
            let want = if what.starts_with("two") { 2 } else { 1 };
            assert_eq!(certs.len(), want, "{what}");
        }
        // A byte order mark alone is still no certificate.
        std::fs::write(&p, BOM).unwrap();
        assert!(read_ca_certs(&p).unwrap_err().contains("no certificate"));
    }
}
