//! The channel's last word on an operator's reply becomes `Op::Delivery` through `apply`, in the
//! transaction that records the send. So the first-response clock stops when the citizen has
//! the reply, the undelivered queue fills when they don't, and in a team the gateway's file
//! journals the action for the server like any other: one path for every copy.

use rusqlite::Connection;
use uuid::Uuid;

use super::StoreError;
use super::db::{self, Env, Reindex};
use super::rows;
use crate::domain::request::DeliveryState;
use crate::domain::{Mutation, Op};

/// Called with a message's new delivery state (`outbox::set_delivery`); acts only when the
/// message is its request's pending reply and the state is the channel's last word.
pub fn settled(
    tx: &Connection,
    env: &Env,
    channel: &str,
    rid: Option<i64>,
    message_id: &str,
    state: &str,
) -> Result<(), StoreError> {
    let state = match state {
        "sent" => DeliveryState::Sent,
        "failed" => DeliveryState::Failed,
        "unknown" => DeliveryState::Unknown,
        _ => return Ok(()),
    };
    let Some(rid) = rid else {
        return Ok(());
    };
    let Some((_, request)) = rows::load_by(tx, "rid", &rid.to_string())? else {
        return Ok(());
    };
    let Some(pending) = &request.reply else {
        return Ok(());
    };
    if pending.message_id.to_string() != message_id || pending.state == state {
        return Ok(());
    }
    let m = Mutation {
        id: Uuid::now_v7(),
        ..Mutation::new(
            request.id,
            channel,
            (env.now)(),
            Op::Delivery {
                message_id: pending.message_id,
                state,
            },
        )
    };
    db::apply_with(tx, env, &m, &mut Reindex::Now)?;
    Ok(())
}
