//! One address in front of the replicas: each new TCP connection goes to the next replica in
//! turn, as a plain load balancer without sticky sessions would send it. A console's HTTP
//! client keeps its connections alive, so its requests stay on the replica its connection
//! reached; its poke stream is another connection and may reach the other one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Listens on a loopback port and proxies to `upstreams` (`http://host:port`); returns the
/// base URL. Runs until the process ends.
pub async fn spawn(upstreams: Vec<String>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("proxy address");
    let upstreams: Arc<Vec<String>> = Arc::new(
        upstreams
            .into_iter()
            .map(|u| {
                u.trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_owned()
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            let to = upstreams[next.fetch_add(1, Ordering::Relaxed) % upstreams.len()].clone();
            tokio::spawn(async move {
                let _ = inbound.set_nodelay(true);
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&to).await {
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    format!("http://{addr}")
}
