//! Incidents: the open ones with their members, the candidate groups, and the requests an
//! action on an incident is made of (`incidents::plan` turns them into mutations).

use uuid::Uuid;

use crate::domain::Request;
use crate::store::incidents::{self, Group};
use crate::store::{Store, StoreError, rows};

impl Store {
    /// Candidate incidents among the open requests in no incident (`store::incidents`).
    pub async fn incident_candidates(
        &self,
        rules: crate::incidents::Rules,
    ) -> Result<Vec<Group>, StoreError> {
        let now = self.now();
        self.call(move |c, _| incidents::candidates(c, &rules, now))
            .await
    }

    /// The open incidents with their members and suggested members, then the candidate groups.
    pub async fn incidents(
        &self,
        rules: crate::incidents::Rules,
    ) -> Result<Vec<Group>, StoreError> {
        let now = self.now();
        self.call(move |c, _| incidents::incidents(c, &rules, now))
            .await
    }

    /// The candidate group the request `key` names forms with the open requests near it in
    /// place and time (`store::places`): the members' numbers, its own first.
    pub async fn candidates_for(
        &self,
        key: &str,
        rules: crate::incidents::Rules,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let key = key.to_string();
        let now = self.now();
        self.call(move |c, _| {
            let (rid, _) = crate::store::read::resolve(c, &key)?;
            let Some(ids) = crate::store::places::candidates_for(c, rid, &rules, now)? else {
                return Ok(None);
            };
            let mut numbers = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some((_, r)) = rows::load_by(c, "id", &id.to_string())? {
                    numbers.push(r.number.to_string());
                }
            }
            Ok(Some(numbers))
        })
        .await
    }

    /// The requests `ids` name, in that order; those not stored are left out.
    pub async fn requests_of(&self, ids: Vec<Uuid>) -> Result<Vec<Request>, StoreError> {
        self.call(move |c, _| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some((_, r)) = rows::load_by(c, "id", &id.to_string())? {
                    out.push(r);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Incident `id`'s members, earliest first, whatever their status.
    pub async fn incident_members(&self, id: Uuid) -> Result<Vec<Request>, StoreError> {
        let ids = self
            .call(move |c, _| incidents::members(c, id))
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect();
        self.requests_of(ids).await
    }
}
