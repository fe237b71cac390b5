//! Scenario 4: push answers lost after the server applied them, under load, through a real
//! network hop. Ten consoles — each a real `mcu` process per action — work through a TCP
//! proxy that forwards every request to `mcu serve` and, for one connection in three, drops
//! the server's answer and cuts the line. The consoles push again; the server recognises what
//! it already took. In the end every action is on the server once and the checker passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::kill::Rng;
use crate::support::{Backend, Env, tags};

const CONSOLES: usize = 10;
const EDITS: usize = 12;

/// Forwards `listen` → `upstream`; a connection whose number `drop_every` divides loses the
/// answer. Returns how many answers it dropped so far.
fn proxy(upstream: String, seed: u64) -> (String, Arc<AtomicUsize>) {
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
                let lose = rng.below(3) == 0;
                let (upstream, counted) = (upstream.clone(), counted.clone());
                tokio::spawn(async move {
                    let _ = relay(client, &upstream, lose, &counted).await;
                });
            }
        });
    });
    (format!("http://{addr}"), dropped)
}

async fn relay(
    mut client: TcpStream,
    upstream: &str,
    lose: bool,
    dropped: &AtomicUsize,
) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    if !lose {
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

fn answers_lost_under_load(backend: Backend) {
    let mut rng = Rng::from_env("scenario 4");
    let env = Arc::new(Env::new(backend));
    let tokens: Vec<String> = (0..CONSOLES)
        .map(|i| env.add_user(&format!("op{i}"), "operator"))
        .collect();
    let server = env.serve();
    let upstream = server.base.trim_start_matches("http://").to_string();
    let (via, dropped) = proxy(upstream, rng.next());
    let workers: Vec<_> = (0..CONSOLES)
        .map(|i| {
            let mut c = env.console(
                &server,
                &format!("c{i}.sqlite3"),
                &format!("op{i}"),
                &tokens[i],
            );
            c.base = via.clone();
            std::thread::spawn(move || {
                let number = c.new_request(&format!("Обращение консоли {i}"));
                for e in 0..EDITS {
                    // A lost answer makes the command say the action waits; it never fails.
                    let out = c.run(&["tag", &number, "--add", &format!("t{e:02}")]);
                    assert!(
                        out.status.success() || out.status.code() == Some(4),
                        "{out:?}"
                    );
                }
                c
            })
        })
        .collect();
    let consoles: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let lost = dropped.load(Ordering::Relaxed);
    eprintln!(
        "scenario 4 ({backend:?}): {} actions, {lost} answers dropped",
        CONSOLES * (EDITS + 1)
    );
    assert!(lost > 0, "the proxy dropped nothing");

    // Straight to the server now: everything arrives once, every file ends as the server.
    let mut direct = vec![];
    for mut c in consoles {
        c.base = server.base.clone();
        c.sync_quiet();
        direct.push(c);
    }
    for c in &direct {
        c.sync_quiet();
    }
    let expected: Vec<String> = (0..EDITS).map(|e| format!("t{e:02}")).collect();
    let listed: serde_json::Value =
        serde_json::from_str(&direct[0].ok(&["list", "-o", "json"])).unwrap();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), CONSOLES, "{listed}");
    for r in rows {
        let number = r["number"].as_str().unwrap();
        assert_eq!(tags(&direct[0].show(number)), expected, "{number}");
    }
    let files: Vec<&std::path::Path> = direct.iter().map(|c| c.db.as_path()).collect();
    let summary = env.check(&files);
    assert_eq!(
        summary.applied,
        CONSOLES * (EDITS + 1),
        "{backend:?}: {summary:?}"
    );
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn push_answers_lost_through_a_faulty_proxy_at_ten_consoles_on_sqlite() {
    answers_lost_under_load(Backend::Sqlite);
}

#[test]
fn push_answers_lost_through_a_faulty_proxy_at_ten_consoles_on_postgres() {
    answers_lost_under_load(Backend::Postgres);
}
