//! The channel gateway's shared state on the server (docs/sync-protocol.md §7): a lease per channel
//! account with a fencing epoch, the account's cursor, and a record per outbound part a
//! gateway claimed. Every write a gateway makes names its epoch; a gateway paused past its
//! lease (a stopped process, a long GC, a frozen VM) finds the epoch moved and writes nothing.
//!
//! A part is claimed on the server before the channel is called and settled after, so two
//! gateways never both send it: one found `sending` under an older epoch may have reached the
//! citizen, and becomes `unknown` (never resent; Telegram has no idempotency key).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::engine::{ServerError, ServerTx};
use crate::wire::fence::{Claim, Fence, PartState};
use crate::wire::sync::Entity;

const LEASE: &str = "lease";
const CURSOR: &str = "cursor";
const PART: &str = "part";
/// Parts now `sending`, so taking a lease finds the interrupted ones without a scan.
const INFLIGHT: &str = "inflight";
/// A delivery state reached before the message itself was pushed (the bot's own reply).
const EARLY: &str = "early";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LeaseDoc {
    holder: String,
    epoch: i64,
    expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PartDoc {
    lease: String,
    state: PartState,
    epoch: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    /// The message's scope, to record its delivery state where consoles pull it.
    scope: String,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn read<T: for<'de> Deserialize<'de>>(
    tx: &mut dyn ServerTx,
    kind: &str,
    name: &str,
) -> Result<Option<T>, ServerError> {
    tx.gw_get(kind, name)?
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| ServerError::Corrupt(format!("gateway {kind} `{name}`: {e}")))
        })
        .transpose()
}

fn write<T: Serialize>(
    tx: &mut dyn ServerTx,
    kind: &str,
    name: &str,
    doc: &T,
) -> Result<(), ServerError> {
    let v = serde_json::to_value(doc).map_err(|e| ServerError::Corrupt(e.to_string()))?;
    tx.gw_put(kind, name, &v)
}

fn part_key(message_id: Uuid, part_no: i64) -> String {
    format!("{message_id}:{part_no}")
}

/// Takes the lease when it is free, expired or already ours; the epoch moves on every take,
/// so a holder that lost it and comes back is fenced. `Err(holder)` names who has it.
/// Parts the previous holders left `sending` become `unknown` here — or, on a channel that
/// recognises a repeated send (`idempotent`, VK's `random_id`), are sent again.
pub fn acquire(
    tx: &mut dyn ServerTx,
    scope: &str,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: std::time::Duration,
    idempotent: bool,
) -> Result<Result<i64, String>, ServerError> {
    let current: Option<LeaseDoc> = read(tx, LEASE, name)?;
    if let Some(l) = &current
        && l.holder != holder
        && l.expires_at > ms(now)
    {
        return Ok(Err(l.holder.clone()));
    }
    let epoch = current.map_or(1, |l| l.epoch + 1);
    write(
        tx,
        LEASE,
        name,
        &LeaseDoc {
            holder: holder.into(),
            epoch,
            expires_at: ms(now) + ttl.as_millis() as i64,
        },
    )?;
    if !idempotent {
        sweep(tx, scope, name, epoch)?;
    }
    Ok(Ok(epoch))
}

/// Keeps the lease for another `ttl`; false when it has moved to someone else.
pub fn renew(
    tx: &mut dyn ServerTx,
    fence: &Fence,
    now: DateTime<Utc>,
    ttl: std::time::Duration,
) -> Result<bool, ServerError> {
    let Some(mut l) = read::<LeaseDoc>(tx, LEASE, &fence.lease)? else {
        return Ok(false);
    };
    if l.epoch != fence.epoch {
        return Ok(false);
    }
    l.expires_at = ms(now) + ttl.as_millis() as i64;
    write(tx, LEASE, &fence.lease, &l)?;
    Ok(true)
}

/// Gives the lease up at a clean stop, so the next gateway need not wait for it to expire.
pub fn release(tx: &mut dyn ServerTx, fence: &Fence) -> Result<(), ServerError> {
    if let Some(mut l) = read::<LeaseDoc>(tx, LEASE, &fence.lease)?
        && l.epoch == fence.epoch
    {
        l.expires_at = 0;
        write(tx, LEASE, &fence.lease, &l)?;
    }
    Ok(())
}

/// Refuses a write from a holder whose lease moved on or ran out.
pub fn check(tx: &mut dyn ServerTx, fence: &Fence, now: DateTime<Utc>) -> Result<(), ServerError> {
    match read::<LeaseDoc>(tx, LEASE, &fence.lease)? {
        Some(l) if l.epoch == fence.epoch && l.expires_at > ms(now) => Ok(()),
        _ => Err(ServerError::Fenced(fence.lease.clone())),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CursorDoc {
    cursor: String,
    epoch: i64,
}

/// Where the channel's updates were last confirmed stored on the server.
pub fn cursor(tx: &mut dyn ServerTx, lease: &str) -> Result<Option<String>, ServerError> {
    Ok(read::<CursorDoc>(tx, CURSOR, lease)?.map(|c| c.cursor))
}

/// Moves the cursor forward, never back: a numeric cursor (Telegram's offset) only grows.
pub fn save_cursor(
    tx: &mut dyn ServerTx,
    fence: &Fence,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), ServerError> {
    check(tx, fence, now)?;
    if let Some(old) = read::<CursorDoc>(tx, CURSOR, &fence.lease)?
        && let (Ok(a), Ok(b)) = (old.cursor.parse::<i64>(), value.parse::<i64>())
        && b < a
    {
        return Ok(());
    }
    write(
        tx,
        CURSOR,
        &fence.lease,
        &CursorDoc {
            cursor: value.into(),
            epoch: fence.epoch,
        },
    )
}

/// Takes a part for sending. Only `Go` lets the caller call the channel.
#[allow(clippy::too_many_arguments)]
pub fn claim(
    tx: &mut dyn ServerTx,
    scope: &str,
    fence: &Fence,
    message_id: Uuid,
    part_no: i64,
    now: DateTime<Utc>,
    idempotent: bool,
) -> Result<Claim, ServerError> {
    check(tx, fence, now)?;
    let key = part_key(message_id, part_no);
    if let Some(p) = read::<PartDoc>(tx, PART, &key)? {
        match p.state {
            PartState::Pending => {}
            // Ours from before a retry of this very claim: still ours to send.
            PartState::Sending if p.epoch == fence.epoch => return Ok(Claim::Go),
            // Left mid-send by an earlier holder, on a channel that recognises the repeat:
            // sent again under the same id, so the citizen still gets it once.
            PartState::Sending if idempotent => {}
            PartState::Sending => {
                unknown(tx, &key, p)?;
                return Ok(Claim::Settled(PartState::Unknown));
            }
            settled => return Ok(Claim::Settled(settled)),
        }
    }
    write(
        tx,
        PART,
        &key,
        &PartDoc {
            lease: fence.lease.clone(),
            state: PartState::Sending,
            epoch: fence.epoch,
            external_id: None,
            scope: scope.into(),
        },
    )?;
    tx.gw_put(INFLIGHT, &key, &Value::String(fence.lease.clone()))?;
    Ok(Claim::Go)
}

/// Records how a claimed send ended; the message's delivery state follows for consoles.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    tx: &mut dyn ServerTx,
    fence: &Fence,
    message_id: Uuid,
    part_no: i64,
    parts: i64,
    state: PartState,
    external_id: Option<&str>,
    tracked: bool,
    now: DateTime<Utc>,
) -> Result<(), ServerError> {
    check(tx, fence, now)?;
    let key = part_key(message_id, part_no);
    let Some(mut p) = read::<PartDoc>(tx, PART, &key)? else {
        return Ok(());
    };
    if p.state != PartState::Sending || p.epoch != fence.epoch {
        return Ok(());
    }
    p.state = state;
    p.external_id = external_id.map(str::to_string);
    let scope = p.scope.clone();
    write(tx, PART, &key, &p)?;
    tx.gw_del(INFLIGHT, &key)?;
    // The message is delivered when its last part is; a part in doubt or refused says so
    // for the whole message.
    let shown = match state {
        PartState::Sent if part_no + 1 >= parts => Some("sent"),
        PartState::Unknown => Some("unknown"),
        PartState::Failed => Some("failed"),
        _ => None,
    };
    // `tracked`: the part belongs to a request's message (not a greeting no console shows).
    if let (Some(s), true) = (shown, tracked) {
        set_delivery(tx, &scope, message_id, s)?;
    }
    Ok(())
}

fn unknown(tx: &mut dyn ServerTx, key: &str, mut p: PartDoc) -> Result<(), ServerError> {
    p.state = PartState::Unknown;
    let scope = p.scope.clone();
    write(tx, PART, key, &p)?;
    tx.gw_del(INFLIGHT, key)?;
    if let Some((id, _)) = key.rsplit_once(':')
        && let Ok(id) = id.parse()
    {
        set_delivery(tx, &scope, id, "unknown")?;
    }
    Ok(())
}

/// Parts of this lease left `sending` by an earlier epoch may have reached the citizen.
fn sweep(tx: &mut dyn ServerTx, _scope: &str, lease: &str, epoch: i64) -> Result<(), ServerError> {
    for (key, holder) in tx.gw_list(INFLIGHT)? {
        if holder.as_str() != Some(lease) {
            continue;
        }
        if let Some(p) = read::<PartDoc>(tx, PART, &key)?
            && p.state == PartState::Sending
            && p.epoch < epoch
        {
            unknown(tx, &key, p)?;
        }
    }
    Ok(())
}

/// Writes the message's new delivery state with a fresh seq, so every console pulls it.
fn set_delivery(
    tx: &mut dyn ServerTx,
    scope: &str,
    message_id: Uuid,
    state: &str,
) -> Result<(), ServerError> {
    let id = message_id.to_string();
    let Some(mut doc) = tx.get(Entity::Message, &id)? else {
        // Not pushed yet (the gateway's acknowledgement races its own push), or a greeting
        // that belongs to no request: kept for when the message arrives.
        return tx.gw_put(EARLY, &id, &Value::String(state.into()));
    };
    if doc["delivery"].as_str() == Some(state) {
        return Ok(());
    }
    doc["delivery"] = Value::String(state.into());
    let request_id: Uuid = doc["request_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ServerError::Corrupt(format!("message {id} has no request")))?;
    tx.replace_row(scope, Entity::Message, &id, request_id, &doc)?;
    let seq = tx.bump_seq(scope, 1)?;
    tx.log_change(scope, seq, Entity::Message, &id)
}

/// The delivery state a message reached before it was pushed, if any; taken once.
pub fn early_delivery(
    tx: &mut dyn ServerTx,
    message_id: &str,
) -> Result<Option<String>, ServerError> {
    let Some(v) = tx.gw_get(EARLY, message_id)? else {
        return Ok(None);
    };
    tx.gw_del(EARLY, message_id)?;
    Ok(v.as_str().map(str::to_string))
}
