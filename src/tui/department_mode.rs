//! A department account's console (#21 item 2): the same console, narrowed. The server tells
//! the console who its token is (`/v1/team`); a department's console then opens on its queue
//! (every open request it holds, by the department's clock: at risk and overdue first), and
//! takes only what a department does — `a` its answer, `n` a progress note, `R` (the resend
//! key, which a department never needs) the return of a request that is not theirs. The
//! server refuses the rest anyway; here it is refused before it is written, with what to do.

use super::app::{App, ComposeKind};
use super::keymap::Action;
use super::update::{Cmd, flash};
use crate::domain::views::View;
use crate::wire::team::Me;

/// The server said who this console is: a department account switches to its queue once.
pub(super) fn on_me(app: &mut App, me: Option<&Me>) -> Vec<Cmd> {
    let Some(me) = me.filter(|m| m.role == "department") else {
        return vec![];
    };
    if app.department.as_ref() == Some(&me.departments) {
        return vec![];
    }
    app.department = Some(me.departments.clone());
    let names: Vec<String> = me
        .departments
        .iter()
        .map(|d| {
            app.catalog
                .department(d)
                .map(|x| super::request_keys::label(app.lang, &x.name, &x.name_en))
                .unwrap_or_else(|| d.clone())
        })
        .collect();
    let text = format!(
        "{}: {}",
        app.lang.pick("Очередь департамента", "Department's queue"),
        names.join(", ")
    );
    flash(app, text, false);
    // The file is re-keyed to the department's clock before the queue is read.
    super::perform::set_view(app, View::All)
        .into_iter()
        .map(|c| match c {
            load @ Cmd::LoadPage { .. } => Cmd::MarkDepartment(Box::new(load)),
            other => other,
        })
        .collect()
}

/// What a key does in a department's console: the action itself, another one in its place,
/// or nothing (refused, and said why).
pub(super) fn action(app: &mut App, action: Action) -> Option<Action> {
    if app.department.is_none() {
        return Some(action);
    }
    if allowed(action) {
        return Some(action);
    }
    let text = app.lang.pick(
        "департамент: a — ответ, n — заметка, R — вернуть операторам",
        "department: a — answer, n — note, R — return to the operators",
    );
    flash(app, text.into(), true);
    None
}

/// What the palette (`:`) offers this console: a department's only what it may do, and no
/// macro (each is an operator's reply or close).
pub(super) fn in_palette(app: &App, item: &super::app::PaletteItem) -> bool {
    match item {
        _ if app.department.is_none() => true,
        super::app::PaletteItem::Action(a) => allowed(*a),
        super::app::PaletteItem::Macro(_) => false,
    }
}

/// Whether a department may press the key at all: what it does, moving and reading. `R`
/// (resend, which a department never needs) is its return.
fn allowed(action: Action) -> bool {
    match action {
        Action::DepartmentAnswer | Action::Note | Action::Resend => true,
        Action::Handover
        | Action::Shift
        | Action::Incidents
        | Action::CitizenRequests
        | Action::Split
        | Action::AcceptSuggestion
        | Action::SaveView => false,
        a => !super::perform::is_mutation(a),
    }
}

/// The help's list in a department's console: only the keys it may press, `R` under the name
/// of what it does there. `None` leaves the key out.
pub(super) fn help_name(app: &App, action: Action) -> Option<String> {
    if app.department.is_none() {
        return Some(app.lang.action(action).to_string());
    }
    if !allowed(action) {
        return None;
    }
    Some(match action {
        Action::DepartmentAnswer => app.lang.pick("ответ департамента", "the answer").into(),
        Action::Resend => app.lang.pick("вернуть операторам", "return").into(),
        a => app.lang.action(a).to_string(),
    })
}

/// A department's own actions head its help, before moving and reading.
pub(super) fn help_rank(app: &App, action: Action) -> u8 {
    let own = matches!(
        action,
        Action::DepartmentAnswer | Action::Note | Action::Resend
    );
    u8::from(app.department.is_none() || !own)
}

/// `R` in a department's console: why the request is not theirs, then it goes back.
pub(super) fn give_back(app: &mut App) -> Vec<Cmd> {
    let Some(r) = app.current().cloned() else {
        flash(app, app.lang.nothing_selected().into(), true);
        return vec![];
    };
    super::request_keys::compose(app, ComposeKind::Return, r.id, None)
}
