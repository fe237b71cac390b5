//! Triage: the model's state, retraining it off every thread that must stay responsive, and
//! a request's suggestion.

use std::time::Instant;

use crate::domain::Catalog;
use crate::store::triage::{self, Status};
use crate::store::{Store, StoreError};
use crate::triage::{Example, Method, Model, Settings};

/// A retraining to run wherever the caller likes (never on the store's thread): the labels
/// the store read, and how to learn from them.
pub struct TrainJob {
    examples: Vec<Example>,
    method: Method,
    catalog: Catalog,
}

/// What [`TrainJob::run`] made, for [`Store::install_triage`].
pub struct Trained {
    model: Model,
    train_ms: u64,
}

impl TrainJob {
    pub fn labels(&self) -> usize {
        self.examples.len()
    }

    /// Trains: seconds on a city's history; the caller's thread is busy meanwhile.
    pub fn run(self) -> Trained {
        let began = Instant::now();
        let model = crate::triage::train(&self.examples, &self.catalog, self.method);
        Trained {
            model,
            train_ms: began.elapsed().as_millis() as u64,
        }
    }
}

impl Store {
    /// `[triage]` for this store: when retraining is due, and whether confident suggestions
    /// apply themselves at intake.
    pub async fn configure_triage(&self, settings: Settings) -> Result<(), StoreError> {
        self.call(move |_, _| {
            triage::configure(settings);
            Ok(())
        })
        .await
    }

    /// The model this file suggests with.
    pub async fn triage_status(&self) -> Result<Option<Status>, StoreError> {
        self.call(|c, _| triage::status(c)).await
    }

    /// The retraining due under `settings` (or any, with `force`): None when nothing is due.
    pub async fn triage_job(
        &self,
        settings: &Settings,
        force: bool,
    ) -> Result<Option<TrainJob>, StoreError> {
        let s = settings.clone();
        let examples = self
            .call(move |c, _| {
                if !force && triage::due(c, &s)?.is_none() {
                    return Ok(None);
                }
                triage::labels(c).map(Some)
            })
            .await?;
        Ok(examples.map(|examples| TrainJob {
            method: Method::for_history(examples.len(), settings.min_history),
            examples,
            catalog: self.env().catalog.clone(),
        }))
    }

    /// Makes a trained model this file's, and scores every open untagged request with it.
    pub async fn install_triage(&self, t: Trained) -> Result<Option<Status>, StoreError> {
        let at = self.now();
        self.call(move |c, _| {
            triage::install(c, t.model, t.train_ms, at)?;
            triage::status(c)
        })
        .await
    }

    /// Retrains when due (or always, with `force`) on a blocking thread, so neither intake on
    /// the store's thread nor the console waits for it, then installs the result. None when
    /// nothing was due.
    pub async fn retrain_triage(
        &self,
        settings: &Settings,
        force: bool,
    ) -> Result<Option<Status>, StoreError> {
        let Some(job) = self.triage_job(settings, force).await? else {
            return Ok(None);
        };
        let trained = tokio::task::spawn_blocking(move || job.run())
            .await
            .map_err(|_| StoreError::Closed)?;
        self.install_triage(trained).await
    }

    /// The labels closed before `since` and those closed from then on: `mcu triage eval
    /// --holdout-days`.
    pub async fn triage_labels_split(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Vec<Example>, Vec<Example>), StoreError> {
        self.call(move |c, _| triage::labels_split(c, since)).await
    }
}
