//! A TCP proxy between consoles and `mcu serve` that breaks what it carries on purpose, for
//! the network scenarios (4: answers lost, 25: chaos). It runs on its own thread and runtime;
//! the test decides, connection by connection, what befalls each one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::kill::Rng;

/// What happens to one connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Carried faithfully.
    None,
    /// Carried after a pause.
    Slow(Duration),
    /// Cut as the request starts: the server never sees it.
    CutBefore,
    /// The request reaches the server; its answer is dropped and the line cut.
    AnswerLost,
    /// Refused outright (a partition).
    Refused,
}

/// Starts a proxy to `upstream` (`host:port`); `decide` picks each connection's fault. Returns
/// its `http://` address and the count of answers dropped after the server had begun one.
pub fn spawn(
    upstream: String,
    seed: u64,
    decide: impl Fn(&mut Rng) -> Fault + Send + 'static,
) -> (String, Arc<AtomicUsize>) {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap().to_string();
    let dropped = Arc::new(AtomicUsize::new(0));
    let counted = dropped.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            let mut rng = Rng::new(seed);
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let fault = decide(&mut rng);
                if fault == Fault::Refused {
                    continue;
                }
                let (upstream, counted) = (upstream.clone(), counted.clone());
                tokio::spawn(async move {
                    let _ = relay(client, &upstream, fault, &counted).await;
                });
            }
        });
    });
    (format!("http://{addr}"), dropped)
}

async fn relay(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    dropped: &AtomicUsize,
) -> std::io::Result<()> {
    match fault {
        Fault::Slow(d) => tokio::time::sleep(d).await,
        Fault::CutBefore => {
            let mut some = [0u8; 16];
            let _ = client.read(&mut some).await;
            return client.shutdown().await;
        }
        _ => {}
    }
    let mut server = TcpStream::connect(upstream).await?;
    if fault != Fault::AnswerLost {
        tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    }
    // The request goes through whole; the first bytes of the answer are the sign the server
    // has done its work, and then the line is cut.
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let forward = tokio::io::copy(&mut cr, &mut sw);
    let mut first = [0u8; 1];
    tokio::select! {
        _ = forward => {}
        n = sr.read(&mut first) => {
            if n? > 0 {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let _ = cw.shutdown().await;
    Ok(())
}
