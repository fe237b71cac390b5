//! After `failed: 1` or `failed: 3` the long poll may have lost events. The backfill reads what
//! they could have been from the history methods: the dialogs active since `since`
//! (`messages.getConversations`, then `messages.getHistory` for each), the community wall's
//! recent posts (`wall.get`) and their comments (`wall.getComments`). It returns everything it
//! finds since then under the same external ids the long poll uses, so what was already stored
//! is recognised as a duplicate and only what was really missed becomes new.

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::time::Duration;

use super::api::Failure;
use super::longpoll::poll_error;
use super::{Vk, parse};
use crate::channels::PollError;
use crate::wire::intake::{InboundEvent, Malformed};

/// How many dialogs, messages per dialog, posts and comments per post one backfill reads: a
/// gap of a few minutes in a busy community fits easily; a longer one is cut here.
const CONVERSATIONS: usize = 200;
const HISTORY: usize = 200;
const POSTS: usize = 30;
const COMMENTS: usize = 100;

/// Community tokens may make about 20 calls a second.
const PACE: Duration = Duration::from_millis(60);

pub async fn run(
    vk: &Vk,
    since: DateTime<Utc>,
) -> Result<(Vec<InboundEvent>, Vec<Malformed>), PollError> {
    let mut events = vec![];
    let mut malformed = vec![];
    let since_ts = since.timestamp();
    let mut keep = |r: Result<InboundEvent, String>, what: String| match r {
        Ok(e) => events.push(e),
        Err(reason) => malformed.push(Malformed {
            external_id: None,
            reason: format!("backfill {what}: {reason}"),
        }),
    };

    let convs = call(
        vk,
        "messages.getConversations",
        vec![
            ("group_id", vk.group_id.to_string()),
            ("count", CONVERSATIONS.to_string()),
            ("filter", "all".into()),
        ],
    )
    .await?;
    for item in items(&convs) {
        let peer = item
            .get("conversation")
            .and_then(|c| c.get("peer"))
            .and_then(|p| p.get("id"))
            .and_then(Value::as_i64);
        let last = item
            .get("last_message")
            .and_then(|m| m.get("date"))
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        let Some(peer) = peer else { continue };
        if last < since_ts {
            continue;
        }
        let history = call(
            vk,
            "messages.getHistory",
            vec![
                ("group_id", vk.group_id.to_string()),
                ("peer_id", peer.to_string()),
                ("count", HISTORY.to_string()),
            ],
        )
        .await?;
        // Newest first: stop at the first message older than the gap.
        for m in items(&history) {
            if m.get("date").and_then(Value::as_i64).unwrap_or(0) < since_ts {
                break;
            }
            keep(parse::message(m, m), format!("message in {peer}"));
        }
    }

    let owner = -vk.group_id;
    let wall = call(
        vk,
        "wall.get",
        vec![
            ("owner_id", owner.to_string()),
            ("count", POSTS.to_string()),
        ],
    )
    .await?;
    for p in items(&wall) {
        let Some(post_id) = p.get("id").and_then(Value::as_i64) else {
            continue;
        };
        if p.get("date").and_then(Value::as_i64).unwrap_or(0) >= since_ts {
            keep(parse::post(p, vk.group_id, p), format!("post {post_id}"));
        }
        let comments = p
            .get("comments")
            .and_then(|c| c.get("count"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if comments == 0 {
            continue;
        }
        let list = call(
            vk,
            "wall.getComments",
            vec![
                ("owner_id", owner.to_string()),
                ("post_id", post_id.to_string()),
                ("count", COMMENTS.to_string()),
                ("sort", "desc".into()),
            ],
        )
        .await?;
        for c in items(&list) {
            if c.get("date").and_then(Value::as_i64).unwrap_or(0) < since_ts {
                break;
            }
            keep(
                parse::comment(c, owner, post_id, vk.group_id, c),
                format!("comment under {post_id}"),
            );
        }
    }
    Ok((events, malformed))
}

fn items(v: &Value) -> &[Value] {
    v.get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// One paced call; "too many requests" and internal errors wait and try again a few times, so
/// one hiccup among dozens of calls does not throw the whole backfill away.
async fn call(vk: &Vk, method: &str, params: Vec<(&str, String)>) -> Result<Value, PollError> {
    let mut attempt = 0;
    loop {
        tokio::time::sleep(PACE).await;
        match vk.call(method, &params, vk.send_timeout).await {
            Err(Failure::Api {
                code: 1 | 6 | 10, ..
            }) if attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            r => return r.map_err(poll_error),
        }
    }
}
