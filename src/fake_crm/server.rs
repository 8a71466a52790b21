//! Connections are served by hand (an accept loop plus hyper's HTTP/1
//! connection driver around the axum router) rather than by `axum::serve`,
//! because the "dropped after commit" fault has to close a socket without
//! writing a single byte, which a normal handler cannot do.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tracing::debug;

/// Put in each request's extensions by the connection task; firing it makes
/// that task drop the connection.
#[derive(Clone)]
pub(super) struct DropConnection(pub(super) Arc<Notify>);

/// Also resolves when the `FakeCrm` is gone, so no task outlives its owner.
/// Returns nothing so no watch guard is held across the select's awaits.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

pub(super) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let connection_stop = stop.clone();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    debug!(%peer, "fake CRM connection");
                    connections.spawn(serve_connection(stream, router.clone(), connection_stop.clone()));
                }
                // Typically out of file descriptors; back off instead of spinning.
                Err(err) => {
                    debug!(%err, "fake CRM accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
    debug!("fake CRM stopped");
}

async fn serve_connection(stream: TcpStream, router: Router, mut stop: watch::Receiver<bool>) {
    // Answers are small; Nagle would only add latency to every test.
    if let Err(err) = stream.set_nodelay(true) {
        debug!(%err, "fake CRM could not set TCP_NODELAY");
    }
    let drop_signal = Arc::new(Notify::new());
    let marker = DropConnection(drop_signal.clone());
    let router = TowerToHyperService::new(router);
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(marker.clone());
            hyper::service::Service::call(&router, req)
        });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(err) = result {
                debug!(%err, "fake CRM connection ended with an error");
            }
        }
        // Dropping `connection` here closes the socket before hyper wrote anything.
        _ = drop_signal.notified() => debug!("fake CRM dropped a connection after commit"),
        _ = stopped(&mut stop) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_crm::api::INSERT_PATH;
    use crate::fake_crm::test_client::*;
    use crate::fake_crm::FakeCrmOptions;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn refusals_keep_the_connection_alive() {
        let crm = start(FakeCrmOptions::default()).await;
        let body = obligation("rec1", "OB-1");
        let keep_alive = |token| {
            String::from_utf8(request_bytes("POST", INSERT_PATH, token, Some(&body)))
                .unwrap()
                .replace("Connection: close\r\n", "")
        };
        let mut stream = TcpStream::connect(crm.local_addr()).await.unwrap();
        for (token, status) in [(None, 401), (Some("bad"), 403), (Some(TOKEN), 200)] {
            stream
                .write_all(keep_alive(token).as_bytes())
                .await
                .unwrap();
            let reply = tokio::time::timeout(Duration::from_secs(5), read_one(&mut stream))
                .await
                .unwrap();
            assert_eq!(reply.status, status);
        }
        assert_eq!(crm.ledger_entries().len(), 1);
        crm.shutdown().await;
    }
}
