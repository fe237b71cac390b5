//! Saved views (`store::views`): an operator's own, and the copy of the team's the console and
//! the CLI keep from the server. Refusals an operator can fix (a bad name, one too many) come
//! back as `ViewError`, apart from the store's own failures.

use super::super::views::{self, Saved, Views};
use super::super::{Store, StoreError};
use crate::domain::views::{SavedView, ViewError};

impl Store {
    /// `owner`'s views and the team's, each in the order they number in.
    pub async fn views(&self, owner: &str) -> Result<Views, StoreError> {
        let owner = owner.to_string();
        self.call(move |c, _| views::list(c, &owner)).await
    }

    /// Keeps `view` as `owner`'s own (replacing theirs of that name).
    pub async fn save_view(
        &self,
        owner: &str,
        view: SavedView,
    ) -> Result<Result<Saved, ViewError>, StoreError> {
        let owner = owner.to_string();
        self.call(move |c, _| views::save(c, &owner, &view)).await
    }

    /// Deletes `owner`'s own view `name`.
    pub async fn delete_view(
        &self,
        owner: &str,
        name: &str,
    ) -> Result<Result<SavedView, ViewError>, StoreError> {
        let (owner, name) = (owner.to_string(), name.to_string());
        self.call(move |c, _| views::delete(c, &owner, &name)).await
    }

    /// The team's views as the server gave them, kept in place of the last copy.
    pub async fn set_shared_views(&self, shared: Vec<SavedView>) -> Result<(), StoreError> {
        self.call(move |c, _| views::set_shared(c, &shared)).await
    }

    /// The server shares `view`, which was `owner`'s own: it moves to the team's.
    pub async fn view_shared(&self, owner: &str, view: SavedView) -> Result<Views, StoreError> {
        let owner = owner.to_string();
        self.call(move |c, _| {
            views::shared(c, &owner, &view)?;
            views::list(c, &owner)
        })
        .await
    }

    /// The server no longer shares `name`: `owner`, who took it back, keeps it as their own.
    pub async fn view_unshared(&self, owner: &str, name: &str) -> Result<Views, StoreError> {
        let (owner, name) = (owner.to_string(), name.to_string());
        let now = self.now();
        self.call(move |c, _| views::unshared(c, &owner, &name, now))
            .await
    }
}
