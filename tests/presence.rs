//! Presence over HTTP: the router `mcu serve` runs, on a free port in this process (so the
//! TTL can be short), over a SQLite server store with real accounts and tokens; the consoles'
//! side is the console's own reporter and stream listener.

use std::time::{Duration, Instant};

use mcu_desk::domain::{Catalog, ClockPolicy};
use mcu_desk::server::engine::Role;
use mcu_desk::server::http::{self, ServeOptions};
use mcu_desk::server::{accounts, sqlite::SqliteStore};
use mcu_desk::sync::presence::{self, Here, PresenceLink};
use mcu_desk::wire::presence::{Activity, Presence};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

const SCOPE: &str = "krasnodar";
/// Long enough for any awaited event on a loaded machine; nothing waits this long when
/// things work.
const WAIT: Duration = Duration::from_secs(10);

struct Server {
    base: String,
    anna: String,
    boris: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(ttl: Duration) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap();
        let now = chrono::Utc::now();
        let city = [SCOPE.to_string()];
        let anna = accounts::add(&store, "anna", Role::Operator, &city, &[], now)
            .unwrap()
            .unwrap();
        let boris = accounts::add(&store, "boris", Role::Lead, &city, &[], now)
            .unwrap()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let opts = ServeOptions {
            presence_ttl: ttl,
            ..ServeOptions::default()
        };
        let task = tokio::spawn(http::serve(
            listener,
            store,
            Catalog::krasnodar(),
            ClockPolicy::default(),
            opts,
            async {
                let _ = stopped.await;
            },
        ));
        Server {
            base,
            anna,
            boris,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    fn client(&self, token: &str) -> PresenceLink {
        PresenceLink::new(&self.base, token, SCOPE).unwrap()
    }

    /// The console's stream listener for `token`, and what it hands the screen.
    fn listen(&self, token: &str) -> mpsc::UnboundedReceiver<Vec<Presence>> {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(presence::listen(self.client(token), tx));
        rx
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let stopped = tokio::time::timeout(WAIT, &mut self.task).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "stopped with its streams open"
        );
    }
}

/// The snapshots a screen receives, up to the first that `want` accepts.
async fn until(
    rx: &mut mpsc::UnboundedReceiver<Vec<Presence>>,
    want: impl Fn(&[Presence]) -> bool,
) -> Vec<Presence> {
    tokio::time::timeout(WAIT, async {
        loop {
            let s = rx.recv().await.expect("the listener ended");
            if want(&s) {
                return s;
            }
        }
    })
    .await
    .expect("the awaited presence snapshot")
}

fn on(request: Uuid, user: &str, activity: Activity) -> Presence {
    Presence {
        request_id: request,
        user: user.into(),
        activity,
    }
}

async fn get(base: &str, token: Option<&str>, path: &str) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_see_each_other_not_themselves_and_a_goodbye_is_seen_at_once() {
    let server = Server::start(Duration::from_secs(60)).await;
    let request = Uuid::now_v7();
    let mut anna_sees = server.listen(&server.anna);
    let mut boris_sees = server.listen(&server.boris);
    // Each stream opens with the scope as it is: nobody yet.
    assert_eq!(until(&mut anna_sees, |_| true).await, vec![]);
    assert_eq!(until(&mut boris_sees, |_| true).await, vec![]);

    // Anna opens the card, then the reply composer.
    let (anna_here, rx) = watch::channel(Here {
        request_id: Some(request),
        composing: false,
    });
    let anna_reporter = tokio::spawn(presence::report(server.client(&server.anna), rx));
    assert_eq!(
        until(&mut boris_sees, |s| !s.is_empty()).await,
        vec![on(request, "anna", Activity::Viewing)]
    );
    anna_here.send_replace(Here {
        request_id: Some(request),
        composing: true,
    });
    assert_eq!(
        until(&mut boris_sees, |s| s
            .iter()
            .any(|p| p.activity == Activity::Composing))
        .await,
        vec![on(request, "anna", Activity::Composing)]
    );

    // Boris opens the same card: anna sees him; neither sees himself.
    let boris = server.client(&server.boris);
    boris
        .post(Here {
            request_id: Some(request),
            composing: false,
        })
        .await
        .unwrap();
    assert_eq!(
        until(&mut anna_sees, |s| !s.is_empty()).await,
        vec![on(request, "boris", Activity::Viewing)]
    );
    let path = format!("/v1/presence?scope_id={SCOPE}");
    let (status, body) = get(&server.base, Some(&server.boris), &path).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["presence"],
        serde_json::json!([{"request_id": request, "user": "anna", "activity": "composing"}])
    );
    let (_, body) = get(&server.base, Some(&server.anna), &path).await;
    assert_eq!(
        body["presence"],
        serde_json::json!([{"request_id": request, "user": "boris", "activity": "viewing"}])
    );
    // Another city's scope is not anna's to see (#16 item 5).
    let (status, body) = get(
        &server.base,
        Some(&server.anna),
        "/v1/presence?scope_id=sochi",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden_scope");

    // Anna's console closes: her goodbye reaches boris long before the 60 s TTL.
    let closed = Instant::now();
    drop(anna_here);
    assert_eq!(until(&mut boris_sees, |s| s.is_empty()).await, vec![]);
    assert!(closed.elapsed() < Duration::from_secs(10));
    tokio::time::timeout(WAIT, anna_reporter)
        .await
        .expect("the reporter ends after its goodbye")
        .unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_goes_quiet_expires_and_a_beating_one_stays() {
    let ttl = Duration::from_secs(1);
    let server = Server::start(ttl).await;
    let mut boris_sees = server.listen(&server.boris);
    until(&mut boris_sees, |_| true).await;

    // One report and silence (a console killed, a cable pulled): gone after the TTL, and
    // boris's screen hears of it without asking.
    let request = Uuid::now_v7();
    let reported = Instant::now();
    server
        .client(&server.anna)
        .post(Here {
            request_id: Some(request),
            composing: true,
        })
        .await
        .unwrap();
    until(&mut boris_sees, |s| !s.is_empty()).await;
    until(&mut boris_sees, |s| s.is_empty()).await;
    assert!(
        reported.elapsed() >= ttl,
        "expired after {:?}",
        reported.elapsed()
    );

    // A console beating five times per TTL stays through two TTLs.
    let (_here, rx) = watch::channel(Here {
        request_id: Some(request),
        composing: false,
    });
    let anna = server.client(&server.anna).with_heartbeat(ttl / 5);
    let reporter = tokio::spawn(presence::report(anna, rx));
    until(&mut boris_sees, |s| !s.is_empty()).await;
    // Nothing to await here but the absence of a change: a bounded wait is the test.
    let quiet = tokio::time::timeout(ttl * 2, boris_sees.recv()).await;
    assert!(quiet.is_err(), "a change while anna beats: {quiet:?}");
    reporter.abort();
    until(&mut boris_sees, |s| s.is_empty()).await;
    server.stop().await;
}

#[tokio::test]
async fn presence_wants_a_token_and_a_scope() {
    let server = Server::start(Duration::from_secs(15)).await;
    let path = format!("/v1/presence?scope_id={SCOPE}");
    for token in [None, Some("mcu_not_a_token")] {
        let (status, body) = get(&server.base, token, &path).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"], "unauthorized");
        let (status, _) = get(
            &server.base,
            token,
            &format!("/v1/presence/stream?scope_id={SCOPE}"),
        )
        .await;
        assert_eq!(status, 401);
        let mut post = reqwest::Client::new()
            .post(format!("{}/v1/presence", server.base))
            .json(&serde_json::json!({
                "scope_id": SCOPE,
                "session": Uuid::now_v7(),
                "request_id": Uuid::now_v7(),
                "activity": "composing"
            }));
        if let Some(t) = token {
            post = post.bearer_auth(t);
        }
        assert_eq!(post.send().await.unwrap().status().as_u16(), 401);
    }
    // Nothing a refused caller said was kept.
    let (_, body) = get(&server.base, Some(&server.boris), &path).await;
    assert_eq!(body["presence"], serde_json::json!([]));
    let (status, body) = get(&server.base, Some(&server.boris), "/v1/presence").await;
    assert_eq!(status, 400, "{body}");
    // The console's client reports a refusal as one, not as a server away.
    let refused = PresenceLink::new(&server.base, "mcu_not_a_token", SCOPE)
        .unwrap()
        .post(Here::default())
        .await;
    assert!(
        matches!(refused, Err(mcu_desk::sync::client::SyncError::Refused(_))),
        "{refused:?}"
    );
    server.stop().await;
}
