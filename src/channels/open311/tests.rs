//! The client against a local GeoReport server that records what it was asked.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::wire::intake::Inbound;

#[derive(Default)]
struct Seen {
    queries: Vec<HashMap<String, String>>,
    updates: Vec<HashMap<String, String>>,
    /// What `requests.json` answers next: status and body.
    answer: Option<(u16, String)>,
}

type Shared = Arc<Mutex<Seen>>;

async fn requests(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let mut s = s.lock().unwrap();
    s.queries.push(q);
    let (status, body) = s.answer.clone().unwrap_or((200, "[]".into()));
    (
        StatusCode::from_u16(status).unwrap(),
        [("retry-after", "7")],
        body,
    )
}

async fn updates(
    State(s): State<Shared>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let mut s = s.lock().unwrap();
    if form
        .get("description")
        .is_some_and(|d| d.contains("сломать"))
    {
        return (
            StatusCode::BAD_REQUEST,
            r#"[{"code":400,"description":"service_request_id not found"}]"#.to_string(),
        );
    }
    s.updates.push(form);
    (
        StatusCode::OK,
        format!(r#"[{{"update_id":"u{}"}}]"#, s.updates.len()),
    )
}

async fn server() -> (String, Shared) {
    let seen = Shared::default();
    let app = axum::Router::new()
        .route("/open311/v2/requests.json", get(requests))
        .route("/open311/v2/servicerequestupdates.json", post(updates))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/open311/v2"), seen)
}

fn client(url: &str, publish: Publish) -> Open311Client {
    let mut c = Open311Client::new(Options {
        url: url.into(),
        api_key: "sekret-key".into(),
        jurisdiction: "krasnodar".into(),
        publish,
        every: Duration::from_millis(1),
        backfill: Span::days(1),
    })
    .unwrap();
    c.now = || "2026-11-30T09:00:00Z".parse().unwrap();
    c
}

fn part(text: &str) -> OutboundPart {
    OutboundPart {
        key: format!("0190-{}:0", text.len()),
        chat: "638344".into(),
        reply_to: None,
        text: text.into(),
        buttons: vec![],
        files: vec![],
    }
}

#[tokio::test]
async fn the_first_look_goes_back_a_day_then_asks_for_changes_since_the_newest_seen() {
    let (url, seen) = server().await;
    seen.lock().unwrap().answer = Some((
        200,
        r#"[{"service_request_id":"7","status":"open","description":"Яма",
            "requested_datetime":"2026-11-30T08:00:00Z","updated_datetime":"2026-11-30T08:30:00Z"}]"#
            .into(),
    ));
    let c = client(&url, Publish::None);
    let b = c.poll(None).await.unwrap();
    assert!(matches!(&b.events[0].inbound, Inbound::Message(m) if m.text == "Яма"));
    let next = b.next_cursor.clone();
    assert_eq!(next.as_deref(), Some("2026-11-30T08:30:00Z"));
    c.poll(next).await.unwrap();
    let q = &seen.lock().unwrap().queries;
    assert_eq!(
        q[0].get("start_date").map(String::as_str),
        Some("2026-11-29T09:00:00Z")
    );
    assert_eq!(
        q[0].get("jurisdiction_id").map(String::as_str),
        Some("krasnodar")
    );
    assert_eq!(q[0].get("api_key").map(String::as_str), Some("sekret-key"));
    assert!(!q[1].contains_key("start_date"));
    // A few seconds before the newest seen: same-second changes are not skipped.
    assert_eq!(
        q[1].get("updated_after").map(String::as_str),
        Some("2026-11-30T08:29:55Z")
    );
}

#[tokio::test]
async fn refusals_and_outages_say_what_to_do_and_never_show_the_key() {
    let (url, seen) = server().await;
    let c = client(&url, Publish::None);
    seen.lock().unwrap().answer = Some((
        401,
        r#"[{"code":401,"description":"bad api_key sekret-key"}]"#.into(),
    ));
    match c.poll(None).await {
        Err(PollError::Unauthorized(r)) => {
            assert!(
                r.contains("bad api_key") && !r.contains("sekret-key"),
                "{r}"
            )
        }
        other => panic!("{other:?}"),
    }
    seen.lock().unwrap().answer = Some((503, "busy".into()));
    match c.poll(None).await {
        Err(PollError::Transient { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)))
        }
        other => panic!("{other:?}"),
    }
    seen.lock().unwrap().answer = Some((200, "<html>oops</html>".into()));
    assert!(matches!(
        c.poll(None).await,
        Err(PollError::Transient { .. })
    ));
}

#[tokio::test]
async fn replies_go_back_as_updates_where_the_platform_takes_them() {
    let (url, seen) = server().await;
    let c = client(&url, Publish::Updates);
    let out = c.send(&part("Яму засыплют до пятницы")).await;
    assert_eq!(
        out,
        SendOutcome::Sent {
            external_id: "u1".into()
        }
    );
    {
        let s = seen.lock().unwrap();
        let f = &s.updates[0];
        assert_eq!(
            f.get("service_request_id").map(String::as_str),
            Some("638344")
        );
        assert_eq!(
            f.get("description").map(String::as_str),
            Some("Яму засыплют до пятницы")
        );
        assert_eq!(f.get("status").map(String::as_str), Some("OPEN"));
        assert!(f.get("update_id").is_some_and(|u| u.starts_with("mcu-")));
    }
    // The platform refuses one for good: the operator sees why.
    match c.send(&part("сломать")).await {
        SendOutcome::Failed { reason, .. } => assert!(reason.contains("not found"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Nobody listening: nothing reached it, safe to try again.
    let gone = client("http://127.0.0.1:9/open311/v2", Publish::Updates);
    assert!(matches!(
        gone.send(&part("x")).await,
        SendOutcome::RetryLater { .. }
    ));
}

#[tokio::test]
async fn without_publishing_a_reply_is_refused_with_the_reason() {
    let (url, seen) = server().await;
    let c = client(&url, Publish::None);
    match c.send(&part("Ответ")).await {
        SendOutcome::Failed {
            reason,
            unreachable,
        } => {
            assert!(reason.contains("кабинет"), "{reason}");
            assert!(!unreachable);
        }
        other => panic!("{other:?}"),
    }
    assert!(seen.lock().unwrap().updates.is_empty());
}

#[test]
fn a_bad_url_is_refused_at_start() {
    let e = Open311Client::new(Options {
        url: "ftp://x".into(),
        api_key: String::new(),
        jurisdiction: String::new(),
        publish: Publish::None,
        every: Duration::from_secs(60),
        backfill: Span::days(1),
    })
    .unwrap_err();
    assert!(e.contains("http(s)"), "{e}");
}
