//! `D`: one request joined to another by its number, as a duplicate (closed, its citizen told
//! which request handles it) or, with `Tab`, by merging the threads (its citizen's follow-ups
//! and answers go on in the other request's thread: `domain::merge`). Runs as a command
//! against the store; the pure plans decide the mutations.

use crate::store::{Store, StoreError};

use super::strings;

fn refused(e: StoreError) -> String {
    crate::present::refusal::store_error_ru(&e).unwrap_or_else(|| e.to_string())
}

pub(super) async fn link_duplicate(
    store: &Store,
    target: uuid::Uuid,
    actor: &str,
    number: &str,
    lang: strings::Lang,
) -> Result<String, String> {
    use crate::incidents::plan;
    let original = store.resolve(number).await.map_err(refused)?;
    let repeat = store.resolve(&target.to_string()).await.map_err(refused)?;
    let batch = plan::join_duplicate(&repeat, &original, Some(lang), actor, store.now());
    store
        .apply_batch(batch)
        .await
        .map_err(|(_, e)| refused(e))?;
    Ok(repeat.number.to_string())
}

/// `target`'s thread merged into the request numbered `number`.
pub(super) async fn merge(
    store: &Store,
    target: uuid::Uuid,
    actor: &str,
    number: &str,
    lang: strings::Lang,
) -> Result<String, String> {
    let into = store.resolve(number).await.map_err(refused)?;
    let other = store.resolve(&target.to_string()).await.map_err(refused)?;
    let into_target = match crate::domain::mutation::merged_into(&into) {
        Some(next) => Some(
            store
                .resolve(&next.to_string())
                .await
                .map_err(refused)?
                .number
                .to_string(),
        ),
        None => None,
    };
    let batch = crate::domain::merge::merge(
        &other,
        &into,
        into_target,
        Some(crate::present::merge::told(lang, &other, &into)),
        actor,
        store.now(),
    )
    .map_err(|e| crate::present::merge::merge_refusal(&e, lang))?;
    store
        .apply_batch(batch)
        .await
        .map_err(|(_, e)| refused(e))?;
    Ok(other.number.to_string())
}
