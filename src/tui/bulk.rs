//! An action on marked requests is one command per request, and their answers arrive one by
//! one in any order; each used to flash over the last, so the operator saw one request's
//! fate. This keeps the answers of the latest such action together and says how many went
//! through and which were refused, and why.

use uuid::Uuid;

use super::app::App;
use super::strings::Lang;
use super::update::Cmd;

pub struct Bulk {
    /// What was done, as the flash names it (`Ответ заявителю`, `Метки`).
    what: String,
    /// Each request's id and number, in the order they were sent.
    targets: Vec<(Uuid, String)>,
    /// The answers so far: `None` done, `Some(why)` refused.
    answers: Vec<(Uuid, Option<String>)>,
}

/// Starts tracking `cmds` when they go to more than one request.
pub(super) fn start(app: &mut App, what: &str, cmds: &[Cmd]) {
    let targets: Vec<(Uuid, String)> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Apply(ms) => ms.first().map(|m| m.request_id),
            Cmd::Resend { target, .. } => Some(*target),
            _ => None,
        })
        .map(|id| {
            let number = app
                .rows
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.number.to_string())
                .unwrap_or_else(|| id.to_string());
            (id, number)
        })
        .collect();
    app.bulk = (targets.len() > 1).then(|| Bulk {
        what: what.to_string(),
        targets,
        answers: vec![],
    });
}

/// Records an answer to the running bulk action; false when it is not one of its requests
/// (the caller reports it on its own).
pub(super) fn on_applied(app: &mut App, id: Option<Uuid>, result: &Result<String, String>) -> bool {
    let Some(b) = app.bulk.as_mut() else {
        return false;
    };
    let Some(id) = id.filter(|id| {
        b.targets.iter().any(|(t, _)| t == id) && !b.answers.iter().any(|(a, _)| a == id)
    }) else {
        return false;
    };
    b.answers.push((id, result.as_ref().err().cloned()));
    let text = summary(b, app.lang);
    let refused = b.answers.iter().any(|(_, why)| why.is_some());
    if b.answers.len() == b.targets.len() {
        app.bulk = None;
    }
    super::update::flash(app, text, refused);
    true
}

/// `Ответ заявителю: готово 2 из 3; 2026-000025: отказ — …`, with how many are still
/// awaited while some are.
fn summary(b: &Bulk, lang: Lang) -> String {
    let n = b.targets.len();
    let ok = b.answers.iter().filter(|(_, why)| why.is_none()).count();
    let mut text = match lang {
        Lang::Ru => format!("{}: готово {ok} из {n}", b.what),
        Lang::En => format!("{}: done {ok} of {n}", b.what),
    };
    // In the order sent, so the same refusals read the same way every time.
    for (id, number) in &b.targets {
        if let Some((_, Some(why))) = b.answers.iter().find(|(a, _)| a == id) {
            text.push_str(&format!(
                "; {number}: {} — {why}",
                lang.pick("отказ", "refused")
            ));
        }
    }
    let waiting = n - b.answers.len();
    if waiting > 0 {
        text.push_str(&match lang {
            Lang::Ru => format!(" (ждём ещё {waiting})"),
            Lang::En => format!(" (waiting for {waiting})"),
        });
    }
    text
}
