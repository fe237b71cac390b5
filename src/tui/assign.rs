//! `A`: a shift lead assigns (or unassigns) the selected or marked requests. In team mode it
//! offers the server's operators, those on shift first (tui/team.rs); besides, the names it
//! knows — the others on requests right now (team presence), whoever has a loaded request,
//! this operator — and a name typed in. The server decides who may assign (`forbidden` for a
//! plain operator); the console says so.

use super::app::{App, Picker};
use super::strings::Lang;

/// «никому» first, then the known names, sorted.
pub(super) fn items(app: &App) -> Vec<(String, String)> {
    let mut names: Vec<String> = app
        .presence
        .iter()
        .map(|p| p.user.clone())
        .chain(app.rows.iter().filter_map(|r| r.assignee.clone()))
        .chain(std::iter::once(app.me.clone()))
        .map(|n| crate::sanitize::line(&n))
        .filter(|n| !n.trim().is_empty())
        .collect();
    names.sort();
    names.dedup();
    let known: Vec<(String, String)> = match &app.team {
        Some(team) if !team.staff.is_empty() => super::team::assign_items(team, names, app.lang),
        _ => names.into_iter().map(|n| (n.clone(), n)).collect(),
    };
    std::iter::once((String::new(), app.lang.nobody().to_string()))
        .chain(known)
        .collect()
}

/// Keeps one item for the typed name when no known name is exactly it, so Enter can assign to
/// someone the console has not seen yet.
pub(super) fn typed(lang: Lang, p: &mut Picker) {
    p.items.retain(|(v, l)| *l != lang.new_assignee(v));
    let name = p.query.trim().to_string();
    if !name.is_empty() && !p.items.iter().any(|(v, _)| *v == name) {
        let label = lang.new_assignee(&name);
        p.items.push((name, label));
    }
}
