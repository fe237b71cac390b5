//! What the crate's own tests look at beyond the operator's methods: compiled only for
//! tests, so the product's list of methods stays what the product needs.

use super::super::{Store, StoreError, mirror, reset};

impl Store {
    /// Whether a reset pull is under way, and the actions still waiting for the server.
    pub async fn reset_state(&self) -> Result<(bool, i64), StoreError> {
        self.call(|c, _| Ok((reset::active(c)?, mirror::pending_count(c)?)))
            .await
    }

    /// Every part in the outbox, whatever its state.
    pub async fn outbox_len(&self) -> Result<i64, StoreError> {
        self.call(|c, _| Ok(c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?))
            .await
    }
}
