//! A CLI action in team mode goes to the server before the command answers, so what it prints
//! is the server's outcome: the request's number as the server gave it, or the refusal with
//! exit 3. Offline, the action waits in the journal as a console's would, and the command says
//! so instead of printing a provisional number as if it were final.

use uuid::Uuid;

use super::{Exit, Invocation, Refused};
use crate::sync::client::{Http, SyncError, sync_once};

impl Invocation {
    /// One sync round after an action (team mode only). Offline it warns and succeeds: the
    /// action is safe in the journal.
    pub(super) async fn settle(&self) -> anyhow::Result<()> {
        let Some(s) = &self.server else {
            return Ok(());
        };
        let en = self.labels.en;
        let t = Http::new(&s.url, &s.token).map_err(|e| Refused(e.to_string()))?;
        match sync_once(&self.store, &t, &s.scope).await {
            Ok(_) => {}
            Err(SyncError::Unavailable(e)) => {
                eprintln!(
                    "mcu: {}",
                    if en {
                        format!(
                            "the server can't be reached ({e}); the action is kept and goes with the next sync (`mcu sync`)"
                        )
                    } else {
                        format!(
                            "сервер недоступен ({e}); действие сохранено и уйдёт при следующей синхронизации (`mcu sync`)"
                        )
                    }
                );
                return Ok(());
            }
            Err(e) => return Err(Refused(e.to_string()).into()),
        }
        let refused = self.store.take_rejections().await?;
        if refused.is_empty() {
            return Ok(());
        }
        let lines = refusal_lines(&refused, &self.store, en);
        Err(Exit {
            code: 3,
            message: format!(
                "{}\n{}",
                if en {
                    "the server refused:"
                } else {
                    "сервер отказал:"
                },
                lines.join("\n")
            ),
        }
        .into())
    }

    /// The request as it stands after [`Invocation::settle`]: renumbered by the server if it
    /// took it.
    pub(super) async fn settled(&self, id: Uuid) -> anyhow::Result<crate::domain::Request> {
        Ok(self.store.resolve(&id.to_string()).await?)
    }
}

/// The server's refusals in the operator's words, each with what stands now, and a refused
/// reply's text so it is not lost (`mcu sync`, and any action in team mode).
pub(super) fn refusal_lines(
    refused: &[crate::store::mirror::Rejected],
    store: &crate::store::Store,
    en: bool,
) -> Vec<String> {
    let lang = if en {
        crate::lang::Lang::En
    } else {
        crate::lang::Lang::Ru
    };
    let (tz, now) = (store.env().policy.calendar.tz(), store.now());
    let mut lines = vec![];
    for r in refused {
        lines.push(format!(
            "{}: {}",
            r.number.as_deref().unwrap_or("?"),
            crate::present::refusal::sync_refusal(r, &store.env().catalog, lang, tz, now)
        ));
        if let Some(d) = &r.draft {
            lines.push(format!(
                "  {}: {}",
                lang.pick("текст ответа (не отправлен)", "the reply's text (not sent)"),
                crate::sanitize::line(d)
            ));
        }
    }
    lines
}
