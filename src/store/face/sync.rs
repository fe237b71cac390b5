//! Team mode's side of the store: who this file is to the sync server, the journal of
//! actions waiting to be pushed and their answers, the server's pages written over the local
//! rows, the server's copy a new console may start from, and the follower's copy for new
//! consoles. The sync client decides what to send and when; the store keeps it.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use uuid::Uuid;

use super::super::adopt::{self, Declined};
use super::super::meta::{CLIENT_ID, COOKIE, ID_BASE, SENDS, meta, set_meta};
use super::super::mirror::{self, Journaled, Pulled, Rejected, Step};
use super::super::rows::ms;
use super::super::{Store, StoreError, reset};
use crate::domain::Op;

/// Who this file is to the sync server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncIdentity {
    pub client_id: Uuid,
    /// Journal row number minus this is the action's id on the wire.
    pub base: i64,
}

impl Store {
    /// This file's client id (made and kept on first use: it belongs to the file, so a copy
    /// or a restored file is caught by the server's rules) and its id base.
    pub async fn sync_identity(&self) -> Result<SyncIdentity, StoreError> {
        self.call(|c, _| {
            let id = match meta(c, CLIENT_ID)? {
                Some(id) => id,
                None => {
                    let id = Uuid::now_v7().to_string();
                    set_meta(c, CLIENT_ID, &id)?;
                    id
                }
            };
            let base = meta(c, ID_BASE)?.and_then(|b| b.parse().ok()).unwrap_or(0);
            Ok(SyncIdentity {
                client_id: id
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("client id: {e}")))?,
                base,
            })
        })
        .await
    }

    /// A new client id, with the unsent actions numbered from 1 again (the server dedups what
    /// it already took by each action's uuid).
    pub async fn rotate_client_id(&self) -> Result<(), StoreError> {
        self.call(|c, _| {
            let first = mirror::unacked(c, 1)?.first().map(|j| j.local_id);
            set_meta(c, CLIENT_ID, &Uuid::now_v7().to_string())?;
            set_meta(c, ID_BASE, &first.map_or(0, |f| f - 1).to_string())?;
            Ok(())
        })
        .await
    }

    /// The journal's last row number (0 when empty): a push round sends up to here.
    pub async fn last_journaled(&self) -> Result<i64, StoreError> {
        self.call(|c, _| mirror::last_local_id(c)).await
    }

    /// Up to `limit` actions the server has not confirmed, oldest first.
    pub async fn unacked(&self, limit: usize) -> Result<Vec<Journaled>, StoreError> {
        self.call(move |c, _| mirror::unacked(c, limit)).await
    }

    /// The server's answer to one push, in one transaction: `acked` journal rows confirmed,
    /// `rejected` kept for the operator, and what the `refused` actions wrote locally gone.
    pub async fn settle_push(
        &self,
        acked: Vec<i64>,
        rejected: Vec<Rejected>,
        refused: Vec<Op>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = ms(at);
        self.call(move |c, env| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Before the acknowledgements: a refused action's journal row says what to go back to.
            for r in &rejected {
                mirror::undo(&tx, env, r)?;
            }
            for id in acked {
                mirror::ack(&tx, id, at)?;
            }
            for r in &rejected {
                mirror::reject(&tx, r, at)?;
            }
            for op in &refused {
                mirror::forget(&tx, op)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Journal rows the server refuses for good (a read-only account): each confirmed and its
    /// refusal kept for the operator, so the pulls behind them go on.
    pub async fn refuse_journaled(
        &self,
        refused: Vec<(i64, Rejected)>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = ms(at);
        self.call(move |c, env| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for (id, r) in &refused {
                mirror::undo(&tx, env, r)?;
                mirror::ack(&tx, *id, at)?;
                mirror::reject(&tx, r, at)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Where the file is in the server's history (a `Cookie` as JSON); `None` before its
    /// first pull.
    pub async fn sync_cookie(&self) -> Result<Option<String>, StoreError> {
        self.call(|c, _| meta(c, COOKIE)).await
    }

    /// Writes one pulled page over the local rows, moves the cookie past it and applies the
    /// actions still waiting on top, in one transaction (store/mirror/pulled.rs).
    pub async fn write_pulled(&self, pulled: Pulled, step: Step) -> Result<(), StoreError> {
        self.call(move |c, env| mirror::apply_patch(c, env, &pulled, &step))
            .await
    }

    /// How many times the server turned out restored to an earlier point (store/reset.rs).
    pub async fn server_resets(&self) -> Result<i64, StoreError> {
        self.call(|c, _| reset::resets(c)).await
    }

    /// Actions not yet confirmed by the server.
    pub async fn pending_count(&self) -> Result<i64, StoreError> {
        self.call(|c, _| mirror::pending_count(c)).await
    }

    /// The server's refusals the operator has not been shown yet; marks them shown.
    pub async fn take_rejections(&self) -> Result<Vec<Rejected>, StoreError> {
        self.call(|c, _| mirror::take_rejections(c)).await
    }

    /// What was set aside (`store::quarantine`), newest first, with when (ms).
    pub async fn quarantined(
        &self,
    ) -> Result<Vec<(crate::store::quarantine::Quarantined, i64)>, StoreError> {
        self.call(|c, _| crate::store::quarantine::list(c)).await
    }

    /// Moves the rows that no longer read into the quarantine (`mcu repair`).
    pub async fn repair(&self) -> Result<Vec<crate::store::quarantine::Quarantined>, StoreError> {
        self.call(|c, _| crate::store::quarantine::repair(c)).await
    }

    /// The folder of this file when it may start from the server's copy: it has never
    /// pulled and holds nothing of its own. `None` otherwise, or for a file with no folder.
    pub async fn adoptable_dir(&self) -> Result<Option<PathBuf>, StoreError> {
        self.call(|c, _| {
            let dir = c
                .path()
                .filter(|p| !p.is_empty())
                .and_then(|p| Path::new(p).parent().map(|d| d.to_path_buf()));
            Ok(adopt::fresh(c)?.then_some(dir).flatten())
        })
        .await
    }

    /// Replaces this file's content with the server's copy at `copy`, keeping this file's
    /// identity: how many requests it holds, or why it was not taken.
    pub async fn adopt(&self, copy: PathBuf) -> Result<Result<i64, Declined>, StoreError> {
        self.call(move |c, _| adopt::adopt(c, &copy)).await
    }

    /// Marks this as the server gateway's working file: replies pulled from the server go to
    /// its outbox, and its gateway sends what others wrote.
    pub async fn send_pulled_replies(&self) -> Result<(), StoreError> {
        self.call(|c, _| set_meta(c, SENDS, "1")).await
    }

    /// A consistent copy of the whole file, made beside it on the store's thread, as an open
    /// file whose name is already gone (nothing is left behind if its reader stops), with
    /// its length.
    pub async fn copy_out(&self) -> Result<(std::fs::File, u64), StoreError> {
        self.call(|c, _| {
            let dir = c
                .path()
                .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
                .unwrap_or_else(std::env::temp_dir);
            let tmp = tempfile::Builder::new()
                .prefix(".seed-copy-")
                .tempfile_in(&dir)
                .map_err(|e| StoreError::Open(format!("{}: {e}", dir.display())))?;
            let path: PathBuf = tmp.path().to_path_buf();
            // One file, no journal beside it: the copy is read once, start to end.
            c.backup(rusqlite::MAIN_DB, &path, None)?;
            {
                let copy = rusqlite::Connection::open(&path)?;
                copy.pragma_update(None, "journal_mode", "DELETE")?;
            }
            let (file, name) = tmp.into_parts();
            let len = file
                .metadata()
                .map_err(|e| StoreError::Open(format!("{}: {e}", path.display())))?
                .len();
            drop(name);
            Ok((file, len))
        })
        .await
    }
}
