//! Open311 GeoReport v2 on a real `mcu serve`: an independent Python client (outside the
//! crate, stdlib + jsonschema) files requests and reads back status and our answers, every
//! JSON answer validated against the GeoReport v2 schemas in tests/open311/schemas, on
//! SQLite and on PostgreSQL. (Keys, limits, XML and races: tests/open311_limits.rs.)

mod common;
#[path = "open311/harness.rs"]
mod harness;

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use mcu_desk::domain::CloseReason;
use mcu_desk::domain::mutation::Op;
use mcu_desk::testkit::contract::{Client, operator};
use mcu_desk::wire::sync::{Entity, PatchOp, PullResponse, PushResponse, Verdict};
use serde_json::Value;
use uuid::Uuid;

use harness::{Env, Server, get, http, push};

/// The Python client; its last stdout line is its JSON result.
fn python(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311/client.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (with python3-jsonschema) runs the Open311 client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client.py {args:?} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap()
}

/// The request ids by number, as an operator's console pulls them.
async fn pull_numbers(server: &Server, token: &str, c: &Client) -> Vec<(String, Uuid)> {
    let resp = http()
        .post(server.url("/v1/sync/pull"))
        .bearer_auth(token)
        .json(&c.pull_req(None, None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page: PullResponse = resp.json().await.unwrap();
    page.patch
        .iter()
        .filter_map(|p| match p {
            PatchOp::Put {
                entity: Entity::Request,
                id,
                value,
            } => {
                let doc = value.value();
                assert_eq!(doc["request"]["channel"], "open311");
                Some((
                    doc["request"]["number"].as_str()?.to_owned(),
                    id.parse().ok()?,
                ))
            }
            _ => None,
        })
        .collect()
}

async fn portal_round_trip(env: Env) {
    let key = env.add_user("portal", "integration");
    let anna = env.add_user("anna", "operator");
    let list = env
        .mcu()
        .args(["user", "list", "-o", "json"])
        .output()
        .unwrap();
    let accounts: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(accounts[1]["name"], "portal");
    assert_eq!(accounts[1]["role"], "integration");
    let server = env.serve().await;

    let filed = tokio::task::spawn_blocking({
        let base = server.base.clone();
        let key = key.clone();
        move || python(&[&base, &key, "submit"])
    })
    .await
    .unwrap();
    let ids: Vec<String> = serde_json::from_value(filed["ids"].clone()).unwrap();
    assert_eq!(ids.len(), 3, "{filed}");
    assert!(filed["checks"].as_u64().unwrap() > 40, "{filed}");

    // The operator sees the three (the retried POSTs made no more), answers the first and
    // closes the second.
    let mut console = Client::new(operator("anna"));
    let numbers = pull_numbers(&server, &anna, &console).await;
    assert_eq!(numbers.len(), 3, "{numbers:?}");
    let id_of = |n: &str| numbers.iter().find(|(m, _)| m == n).unwrap().1;
    let note = "Яма будет заделана до пятницы; бригада выезжает завтра.";
    let now = Utc::now();
    let reply = console.journal_at(
        id_of(&ids[0]),
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: note.into(),
        },
        None,
        now,
    );
    let close = console.journal_at(
        id_of(&ids[1]),
        Op::Close {
            reason: CloseReason::Resolved,
        },
        None,
        now,
    );
    let (status, body) = push(&server, &anna, &console.push_req(vec![reply, close])).await;
    assert_eq!(status, 200, "{body}");
    let pushed: PushResponse = serde_json::from_value(body).unwrap();
    assert!(
        pushed.results.iter().all(|r| r.status == Verdict::Applied),
        "{pushed:?}"
    );

    let verified = tokio::task::spawn_blocking({
        let base = server.base.clone();
        let ids = ids.clone();
        move || python(&[&base, &key, "verify", &ids[0], &ids[1], note])
    })
    .await
    .unwrap();
    assert_eq!(
        verified["verified"],
        serde_json::json!(ids[..2]),
        "{verified}"
    );

    // The retried POSTs were counted as retries, not requests.
    let (_, _, text) = get(&server.url("/metrics")).await;
    for line in [
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 3",
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"retry\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn a_portal_files_and_reads_back_through_python_on_sqlite() {
    portal_round_trip(Env::new("")).await;
}

#[test]
fn a_portal_files_and_reads_back_through_python_on_postgres() {
    let env = Env::postgres("");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(portal_round_trip(env));
}
