//! The HTTP client: one reqwest client (rustls, keep-alive) reused for every
//! request. It reports what happened on the wire and nothing more; deciding
//! what that means is [`super::classify`]'s job.

use super::Connection;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use std::time::Duration;

/// The answer as it came off the wire.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// `Retry-After` in seconds, when the server sent one.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made: nothing reached the server.
    BeforeSend(String),
    /// The request may have reached the server (timeout, connection lost
    /// while waiting): whether it took effect is unknown.
    InDoubt(String),
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
        let mut token = HeaderValue::from_str(conn.token.expose())
            .map_err(|_| "the token is not a valid header value".to_string())?;
        // Keeps the value out of any Debug print of the headers.
        token.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("Wolkvox-Token", token);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("wolkvox-import/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(max_connections.max(1))
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .https_only(conn.base.scheme() == "https")
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let join = |p: &str| {
            conn.base
                .join(p)
                .map_err(|e| format!("bad server URL: {e}"))
        };
        Ok(Client {
            http,
            obligation_url: join("collections/insertObligation.php")?,
            query_url: join("collections/queryObligation.php")?,
            token_url: join("token/tokenInformation.php")?,
            timeout,
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
        let resp = req.send().await.map_err(|e| self.describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp.bytes().await.map_err(|e| self.describe(&e))?;
        Ok(Response {
            status,
            retry_after,
            body: body.to_vec(),
        })
    }

    fn describe(&self, e: &reqwest::Error) -> TransportFailure {
        // Only a failure to connect proves the request never left.
        if e.is_connect() {
            let why = root_cause(e);
            return TransportFailure::BeforeSend(format!("cannot connect to the server: {why}"));
        }
        if e.is_timeout() {
            return TransportFailure::InDoubt(format!(
                "no answer within {} s (--timeout)",
                self.timeout.as_secs_f64()
            ));
        }
        TransportFailure::InDoubt(format!(
            "the connection was lost before the answer: {}",
            root_cause(e)
        ))
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
