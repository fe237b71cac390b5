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
            Err(e) => return Err(sync_failed(e)),
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
/// A sync round that failed other than by the server being out of reach, as the CLI exits with
/// it: the server refusing is the user's to fix (exit 2); this file failing (a full disk, a
/// damaged database) stays the store's error, so the exit code and the Russian wording are the
/// store's own — exit 1 unless the store says the input was at fault.
pub(super) fn sync_failed(e: SyncError) -> anyhow::Error {
    let ru = !super::english();
    match e {
        SyncError::Store(e) => e.into(),
        SyncError::Disabled if ru => Refused(
            "учётная запись отключена на сервере: обратитесь к администратору; действия ждут в этой консоли"
                .into(),
        )
        .into(),
        SyncError::OutOfScope if ru => Refused(
            "учётной записи не открыт этот город на сервере: обратитесь к администратору".into(),
        )
        .into(),
        SyncError::Version { console, server } => {
            let lang = if ru {
                crate::lang::Lang::Ru
            } else {
                crate::lang::Lang::En
            };
            Refused(crate::present::skew::text(console, server, lang)).into()
        }
        other => Refused(other.to_string()).into(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// #16 item 10: a full disk during `mcu sync` is the system failing (exit 1), not input the
    /// user must change (exit 2); a refusal of the server stays exit 2.
    #[test]
    fn a_full_disk_is_no_refused_input() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let e = StoreError::from(full);
        assert!(!e.is_bad_input(), "{e:?}");
        let failed = sync_failed(SyncError::Store(e));
        assert!(!super::super::refused_input(&failed), "{failed:#}");
        let shown = failed
            .downcast_ref::<StoreError>()
            .and_then(crate::present::refusal::store_error_ru)
            .unwrap_or_default();
        assert!(shown.contains("нет места"), "{shown:?}");

        let bad = sync_failed(SyncError::Store(StoreError::BadInput("x".into())));
        assert!(super::super::refused_input(&bad));
        let refused = sync_failed(SyncError::Refused("token revoked".into()));
        assert!(super::super::refused_input(&refused));

        // #20: `mcu sync` against a server of another protocol version names the side to update.
        let skew = sync_failed(SyncError::Version {
            console: 2,
            server: Some(1),
        });
        assert!(super::super::refused_input(&skew));
        assert!(
            skew.to_string().contains("обновите mcu на сервере"),
            "{skew}"
        );
    }
}
