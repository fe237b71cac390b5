//! The console's commands run against the store: each on a task of its own, answered with a
//! message for `update`. The UI task only spawns them, so a slow disk never holds a keystroke.

use tokio::sync::mpsc;

use super::outside::{copy_to_clipboard, open_externally};
use super::update::{Cmd, Msg};
use super::{link, saved};
use crate::store::Store;

/// Runs a command against the store and reports back; never blocks the UI task.
pub(super) fn execute(store: &Store, cmd: Cmd, tx: &mpsc::UnboundedSender<Msg>) {
    let store = store.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        if let Some(msg) = run_command(&store, cmd).await {
            let _ = tx.send(msg);
        }
    });
}

/// One command to the message that answers it (`None` for those that answer nothing). Public so
/// the console benchmark drives the same store path as the event loop.
pub async fn run_command(store: &Store, cmd: Cmd) -> Option<Msg> {
    Some(match cmd {
        Cmd::LoadPage {
            generation,
            filter,
            sort,
            after,
            limit,
            append,
        } => match store.inbox(*filter, sort, after, limit).await {
            Ok(page) => Msg::Page {
                generation,
                append,
                page,
            },
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::MarkDepartment(then) => {
            if let Err(e) = store.mark_department_view().await {
                return Some(Msg::Failed(e.to_string()));
            }
            return Box::pin(run_command(store, *then)).await;
        }
        Cmd::LoadDetail(id) => match store.detail(&id.to_string()).await {
            Ok(d) => Msg::Detail(Box::new(d)),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::Apply(batch) => {
            let id = batch.first().map(|m| m.request_id);
            match store.apply_batch(batch).await {
                Ok(_) => {
                    let number = match id {
                        Some(id) => store
                            .resolve(&id.to_string())
                            .await
                            .map(|r| r.number.to_string())
                            .unwrap_or_default(),
                        None => String::new(),
                    };
                    Msg::Applied(id, Ok(number))
                }
                Err((_, e)) => Msg::Applied(
                    id,
                    Err(match crate::present::refusal::store_error_ru(&e) {
                        Some(ru) => ru,
                        None => e.to_string(),
                    }),
                ),
            }
        }
        Cmd::Views(work) => Msg::Views(saved::run(store, work).await),
        Cmd::LoadIncidents(rules) => {
            Msg::Incidents(store.incidents(rules).await.map_err(|e| e.to_string()))
        }
        Cmd::ConfirmIncident {
            members,
            title,
            topic,
            actor,
        } => confirm_incident(store, members, title, topic, &actor).await,
        Cmd::LoadAlarms => match store.open_alarms().await {
            Ok(a) => Msg::Alarms(a),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::LinkDuplicate {
            target,
            actor,
            number,
            lang,
            merge,
        } => Msg::Applied(
            Some(target),
            if merge {
                link::merge(store, target, &actor, &number, lang).await
            } else {
                link::link_duplicate(store, target, &actor, &number, lang).await
            },
        ),
        Cmd::Resend {
            target,
            actor,
            message_id,
        } => Msg::Applied(
            Some(target),
            resend(store, target, &actor, message_id).await,
        ),
        Cmd::ClearAlarms => match store.clear_alarms().await {
            Ok(a) => Msg::Alarms(a),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::Open { program, file } => Msg::Opened(open_externally(&program, &file.path).await),
        Cmd::Copy(text) => {
            copy_to_clipboard(&text);
            return None;
        }
        Cmd::LoadDashboard => Msg::Dashboard(
            store
                .dashboard()
                .await
                .map(Box::new)
                .map_err(|e| e.to_string()),
        ),
        Cmd::ExportCsv {
            filter,
            sort,
            english,
        } => Msg::Exported(match std::env::current_dir() {
            Ok(dir) => export_csv(store, *filter, sort, english, &dir).await,
            Err(e) => Err(e.to_string()),
        }),
        Cmd::LookAlerts { from, to, rules } => Msg::Alerts {
            to,
            found: store
                .alerts(from, to, rules)
                .await
                .map_err(|e| e.to_string()),
        },
        Cmd::LoadHandover { hours } => {
            let now = store.now();
            let shift = chrono::Duration::minutes((hours * 60.0).round() as i64);
            Msg::Handover(
                store
                    .handover(now - shift, now)
                    .await
                    .map(|(open, notes)| {
                        Box::new(crate::present::handover::build(
                            &open,
                            notes,
                            &store.env().policy,
                            now,
                            shift,
                        ))
                    })
                    .map_err(|e| e.to_string()),
            )
        }
        // The event loop runs the editor and rings the bell itself: it owns the terminal; it
        // hands marks to the team link (the store has no part in them).
        Cmd::Edit(_) | Cmd::Bell | Cmd::MarkShift { .. } | Cmd::Team(_) => return None,
    })
}

/// A candidate group made one incident, as `mcu incident confirm` makes it: the members read,
/// the title (when none is given) the topic's name and the first address, the incident's
/// number when stored.
async fn confirm_incident(
    store: &Store,
    members: Vec<uuid::Uuid>,
    title: Option<String>,
    topic: Option<String>,
    actor: &str,
) -> Msg {
    use crate::incidents::plan;
    let refused = |e: crate::store::StoreError| {
        crate::present::refusal::store_error_ru(&e).unwrap_or_else(|| e.to_string())
    };
    let rs = match store.requests_of(members).await {
        Ok(rs) => rs,
        Err(e) => return Msg::Applied(None, Err(refused(e))),
    };
    let catalog = &store.env().catalog;
    let topic = topic.filter(|t| catalog.topic(t).is_some());
    let refs: Vec<&crate::domain::Request> = rs.iter().collect();
    let title = title.unwrap_or_else(|| {
        let name = topic
            .as_deref()
            .and_then(|t| catalog.topic(t))
            .map(|t| t.name.clone());
        plan::default_title(name.as_deref(), plan::place_of(&refs).as_deref())
    });
    let Some((id, batch)) = plan::confirm(&refs, &title, topic.as_deref(), actor, store.now())
    else {
        return Msg::Applied(None, Err("—".into()));
    };
    match store.apply_batch(batch).await {
        Ok(_) => Msg::Applied(
            Some(id),
            store
                .resolve(&id.to_string())
                .await
                .map(|r| r.number.to_string())
                .map_err(refused),
        ),
        Err((_, e)) => Msg::Applied(Some(id), Err(refused(e))),
    }
}

/// A new reply with the undelivered one's text, as `mcu resend` sends it; the request's
/// number when stored.
async fn resend(
    store: &Store,
    target: uuid::Uuid,
    actor: &str,
    message_id: uuid::Uuid,
) -> Result<String, String> {
    use crate::domain::mutation::{Mutation, Op};
    let refused = |e: crate::store::StoreError| {
        crate::present::refusal::store_error_ru(&e).unwrap_or_else(|| e.to_string())
    };
    let d = store.detail(&target.to_string()).await.map_err(refused)?;
    let Some(body) = d.undelivered_reply().map(|m| m.body.clone()) else {
        return Err(crate::present::refusal::rejection_ru(
            &crate::domain::Rejection::NoUndeliveredReply,
        ));
    };
    let m = Mutation::new(target, actor, store.now(), Op::Reply { message_id, body });
    store
        .apply(m)
        .await
        .map(|a| a.request.number.to_string())
        .map_err(refused)
}

/// The list into `mcu-YYYYMMDD-HHMMSS.csv` in `dir` (the console's working directory),
/// written under a temporary name and renamed, so a half-written file never carries the
/// final name.
pub async fn export_csv(
    store: &Store,
    filter: crate::store::Filter,
    sort: crate::store::Sort,
    english: bool,
    dir: &std::path::Path,
) -> Result<(usize, String), String> {
    use crate::report::export::{Lang, list_csv};
    let lang = if english { Lang::En } else { Lang::Ru };
    let now = store.now();
    let tz = store.env().policy.calendar.tz();
    let name = format!("mcu-{}.csv", now.with_timezone(&tz).format("%Y%m%d-%H%M%S"));
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    let shown = path.display().to_string();
    let written = match std::fs::File::create(&partial) {
        Ok(f) => list_csv(store, filter, sort, now, lang, std::io::BufWriter::new(f))
            .await
            .map_err(|e| e.to_string())
            .and_then(|n| {
                std::fs::rename(&partial, &path)
                    .map(|()| n)
                    .map_err(|e| e.to_string())
            }),
        Err(e) => Err(e.to_string()),
    };
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
        .map(|n| (n, shown))
        .map_err(|e| format!("{}: {e}", lang.pick("выгрузка не удалась", "export failed")))
}
