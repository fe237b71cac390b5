//! Incidents: the candidate groups among open requests.

use crate::store::incidents::{self, Group};
use crate::store::{Store, StoreError};

impl Store {
    /// Candidate incidents among the open requests (`store::incidents`).
    pub async fn incident_candidates(
        &self,
        rules: crate::incidents::Rules,
    ) -> Result<Vec<Group>, StoreError> {
        let now = self.now();
        self.call(move |c, _| incidents::candidates(c, &rules, now))
            .await
    }
}
