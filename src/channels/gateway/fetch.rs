//! The file fetcher: downloads the files citizens attached into `files_dir`, with retries.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::{Ctx, GatewayEvent, backoff, sleep_or_stop};
use crate::channels::{Adapter, FileOutcome};
use crate::domain::request::AttachmentState;
use crate::store::rows::ms;

pub(super) async fn fetcher<C: Adapter>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let Some(dir) = ctx.opts.files_dir.clone() else {
        return;
    };
    let ch = ctx.adapter.channel();
    loop {
        let jobs = ctx.store.due_files(ch, 8).await.unwrap_or_default();
        if jobs.is_empty() {
            if sleep_or_stop(Duration::from_secs(2), &mut stop).await {
                return;
            }
            continue;
        }
        for job in jobs {
            if *stop.borrow() {
                return;
            }
            let outcome = ctx
                .adapter
                .fetch_file(&job.source, ctx.opts.max_file_bytes)
                .await;
            let (state, path) = match outcome {
                FileOutcome::Stored { bytes, name } => {
                    match save(&dir, &job.source, name.as_deref(), &bytes) {
                        Ok(p) => (AttachmentState::Stored, Some(p)),
                        Err(e) => {
                            ctx.emit(GatewayEvent::Warning(format!("cannot save a file: {e}")));
                            (AttachmentState::Failed, None)
                        }
                    }
                }
                FileOutcome::TooLarge { .. } => (AttachmentState::TooLarge, None),
                FileOutcome::Failed(reason) => {
                    ctx.emit(GatewayEvent::Warning(format!(
                        "file {}: {reason}",
                        job.source
                    )));
                    (AttachmentState::Failed, None)
                }
                FileOutcome::RetryLater(reason) if job.attempts < 10 => {
                    let at = ms(ctx.store.now())
                        + backoff(job.attempts as u32 + 1, job.request_rid as u64).as_millis()
                            as i64;
                    let _ = ctx.store.postpone_file(ch, job.clone(), at).await;
                    ctx.emit(GatewayEvent::Warning(format!(
                        "file {}: {reason}; will retry",
                        job.source
                    )));
                    continue;
                }
                FileOutcome::RetryLater(_) => (AttachmentState::Failed, None),
            };
            match ctx.store.settle_file(ch, job.clone(), state, path).await {
                Ok(()) => ctx.emit(GatewayEvent::File {
                    source: job.source.clone(),
                    state,
                }),
                Err(e) => ctx.emit(GatewayEvent::Warning(format!("file {}: {e}", job.source))),
            }
        }
    }
}

/// Stores a file under a name derived from the channel's file id; citizens' file names are
/// untrusted, so only their extension is kept, and only if it is plain.
fn save(
    dir: &std::path::Path,
    source: &str,
    name: Option<&str>,
    bytes: &[u8],
) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin");
    let stem: String = source
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(80)
        .collect();
    let path = dir.join(format!("{stem}.{ext}"));
    let tmp = dir.join(format!(".{stem}.{ext}.part"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path.display().to_string())
}
