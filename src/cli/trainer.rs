//! Triage retrained in the background while a console or gateway runs (#17): a count of new
//! labels asked every half minute on the store's thread, the training itself on a blocking
//! thread, never the console's.

use std::time::Duration;

use crate::store::Store;

/// How often a running console or gateway asks whether triage is due to retrain (a count of
/// labels on the store's thread; the training itself runs on a blocking thread).
const TRIAGE_EVERY: Duration = Duration::from_secs(30);

/// Retrains triage in the background while a console or gateway runs; stops when dropped.
pub(super) struct TriageTrainer(tokio::task::JoinHandle<()>);

impl TriageTrainer {
    pub(super) fn spawn(store: Store, settings: crate::triage::Settings) -> TriageTrainer {
        TriageTrainer(tokio::spawn(async move {
            // The first tick is at once: a console opened after an import trains right away.
            let mut every = tokio::time::interval(TRIAGE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match store.retrain_triage(&settings, false).await {
                    Ok(Some(s)) => tracing::info!(
                        labels = s.labels,
                        version = %s.version,
                        ms = s.train_ms.unwrap_or(0),
                        "triage retrained"
                    ),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "triage could not retrain"),
                }
            }
        }))
    }
}

impl Drop for TriageTrainer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
