//! `m`: the open incidents and the candidate groups, and what the console does with them: a
//! candidate confirmed (one incident) or dismissed (it does not come back), the request under
//! the inbox's cursor added to an incident, an incident opened in the list. The rows and the
//! card mark incidents, their members and candidates from the same list (`app.groups`).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::app::{App, Mode};
use super::request_keys::mutation;
use super::update::{Cmd, flash, reload_from_top};
use super::view::style;
use crate::domain::Request;
use crate::domain::mutation::Op;
use crate::store::Filter;
use crate::store::incidents::Group;

pub(super) fn show(app: &mut App) -> Vec<Cmd> {
    app.mode = Mode::Incidents { selected: 0 };
    vec![Cmd::LoadIncidents(app.incident_rules.clone())]
}

pub(super) fn on_loaded(app: &mut App, found: Result<Vec<Group>, String>) -> Vec<Cmd> {
    match found {
        Ok(groups) => {
            app.groups = groups;
            if let Mode::Incidents { selected } = &mut app.mode {
                *selected = (*selected).min(app.groups.len().saturating_sub(1));
            }
        }
        Err(e) => flash(app, crate::sanitize::line(&e), true),
    }
    vec![]
}

/// Keys over the list: move; Enter shows the incident (or a candidate's first member) in the
/// list; `c` confirms a candidate, `x` dismisses it; `a` adds the inbox's request to the
/// incident; anything else closes it.
pub(super) fn key(app: &mut App, k: KeyEvent, selected: usize) -> Vec<Cmd> {
    let last = app.groups.len().saturating_sub(1);
    let stay = |app: &mut App, selected: usize| {
        app.mode = Mode::Incidents { selected };
        vec![]
    };
    let Some(g) = app.groups.get(selected).cloned() else {
        return vec![];
    };
    let lang = app.lang;
    let acting = matches!(
        k.code,
        KeyCode::Char('c' | 'с' | 'x' | 'ч' | 'a' | 'ф' | 't' | 'е')
    );
    if acting && app.readonly {
        flash(app, lang.readonly().into(), true);
        return stay(app, selected);
    }
    match k.code {
        KeyCode::Down | KeyCode::Char('j' | 'о') => stay(app, (selected + 1).min(last)),
        KeyCode::Up | KeyCode::Char('k' | 'л') => stay(app, selected.saturating_sub(1)),
        KeyCode::Home => stay(app, 0),
        KeyCode::End => stay(app, last),
        KeyCode::Enter => {
            let Some(number) = g.number.clone().or_else(|| g.members.first().cloned()) else {
                return vec![];
            };
            app.filter = Filter {
                number: Some(number.clone()),
                ..Default::default()
            };
            app.filter_line = number;
            reload_from_top(app)
        }
        KeyCode::Char('c' | 'с') if g.candidate => {
            app.mode = Mode::Incidents { selected };
            flash(
                app,
                lang.pick("инцидент создаётся…", "making the incident…")
                    .into(),
                false,
            );
            vec![Cmd::ConfirmIncident {
                members: g.member_ids.clone(),
                title: None,
                topic: (!g.topic.is_empty()).then(|| g.topic.clone()),
                actor: app.me.clone(),
            }]
        }
        KeyCode::Char('x' | 'ч') if g.candidate => {
            let batch = g
                .member_ids
                .iter()
                .map(|id| mutation(app, *id, Op::Ungroup))
                .collect();
            app.groups.remove(selected);
            app.mode = Mode::Incidents {
                selected: selected.min(app.groups.len().saturating_sub(1)),
            };
            vec![Cmd::Apply(batch)]
        }
        KeyCode::Char('a' | 'ф') if !g.candidate => {
            let Some(r) = app.current().cloned() else {
                flash(app, lang.nothing_selected().into(), true);
                return stay(app, selected);
            };
            if r.is_incident || r.incident_id == Some(g.id) {
                let text = lang.pick(
                    "выбранное в списке обращение уже не добавить в этот инцидент",
                    "the request selected in the list can't be added to this incident",
                );
                flash(app, text.into(), true);
                return stay(app, selected);
            }
            app.mode = Mode::Normal;
            vec![Cmd::Apply(vec![mutation(
                app,
                r.id,
                Op::JoinIncident { incident_id: g.id },
            )])]
        }
        KeyCode::Char('t' | 'е') if !g.candidate => {
            app.mode = Mode::IncidentTitle {
                id: g.id,
                selected,
                input: g.title.clone().unwrap_or_default(),
            };
            vec![]
        }
        KeyCode::Char('c' | 'с' | 'x' | 'ч' | 'a' | 'ф' | 't' | 'е') => stay(app, selected),
        _ => vec![],
    }
}

/// Keys on an incident's title: typing edits it, Enter renames the incident (one mutation,
/// so every console and the audit have it), Esc leaves it as it was; either returns to `m`.
pub(super) fn title_key(
    app: &mut App,
    k: KeyEvent,
    id: Uuid,
    selected: usize,
    mut input: String,
) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => {
            app.mode = Mode::Incidents { selected };
            vec![]
        }
        KeyCode::Enter => {
            let title = input.trim().to_string();
            if title.is_empty() {
                let text = app.lang.pick(
                    "у инцидента должно быть название",
                    "an incident needs a title",
                );
                flash(app, text.into(), true);
                app.mode = Mode::IncidentTitle {
                    id,
                    selected,
                    input,
                };
                return vec![];
            }
            if let Some(g) = app.groups.iter_mut().find(|g| g.id == id) {
                g.title = Some(title.clone());
            }
            app.mode = Mode::Incidents { selected };
            vec![Cmd::Apply(vec![mutation(app, id, Op::Retitle { title })])]
        }
        _ => {
            super::request_keys::edit_line(&mut input, k, |c| !c.is_control());
            app.mode = Mode::IncidentTitle {
                id,
                selected,
                input,
            };
            vec![]
        }
    }
}

/// An incident's card lists this many members; `mcu show` has them all.
const CARD_MEMBERS: usize = 8;

/// The channel column of a row: an incident has none of its own.
pub(super) fn channel_cell(app: &App, r: &Request) -> &'static str {
    if r.is_incident {
        app.lang.pick("ИНЦ", "INC")
    } else {
        super::view::channel_short(app, r.channel)
    }
}

/// The candidate group `id` is in, if any.
pub(super) fn candidate_of(app: &App, id: Uuid) -> Option<&Group> {
    app.groups
        .iter()
        .find(|g| g.candidate && g.member_ids.contains(&id))
}

/// The inbox row's mark: `◆N` an incident of N members, `◇` a member of a candidate group,
/// `∈` a member of an incident (found by a search).
pub(super) fn row_mark(app: &App, r: &Request) -> Option<String> {
    if r.is_incident {
        return Some(format!("◆{}", app.members.get(&r.id).copied().unwrap_or(0)));
    }
    if r.incident_id.is_some() {
        return Some("∈".into());
    }
    candidate_of(app, r.id).map(|_| "◇".into())
}

/// The card's lines about incidents: an incident's members by channel with their delivery,
/// the incident a member is in, or the candidate group a request is in.
pub(super) fn card_lines(app: &App, r: &Request) -> Vec<Line<'static>> {
    let lang = app.lang;
    let mut out = vec![];
    let detail = app.detail.as_ref().filter(|d| d.request.id == r.id);
    if r.is_incident {
        let Some(d) = detail else {
            return out;
        };
        let citizens: std::collections::BTreeSet<String> = d
            .member_requests
            .iter()
            .map(|m| {
                m.channel_ref
                    .chat
                    .clone()
                    .or(m.citizen.clone())
                    .unwrap_or_else(|| m.id.to_string())
            })
            .collect();
        out.push(Line::from(Span::styled(
            format!(
                "◆ {} · {}: {} · {}: {}",
                lang.pick("Массовый инцидент", "Mass incident"),
                lang.pick("обращений", "requests"),
                d.members.len(),
                lang.pick("заявителей", "citizens"),
                citizens.len(),
            ),
            style(app, app.theme.accent),
        )));
        // Those the answer did not reach first: they are what is left to do.
        let mut listed: Vec<&Request> = d.member_requests.iter().collect();
        listed.sort_by_key(|m| !m.undelivered());
        let more = listed.len().saturating_sub(CARD_MEMBERS);
        for m in listed.into_iter().take(CARD_MEMBERS) {
            let delivery = match &m.reply {
                Some(p) if m.undelivered() => format!(
                    " · ✗ {}",
                    if p.state == crate::domain::request::DeliveryState::Unknown {
                        lang.pick("доставка неизвестна", "delivery unknown")
                    } else {
                        lang.pick("ответ не доставлен", "reply undelivered")
                    }
                ),
                Some(_) => format!(" · {}", lang.pick("ответ в пути", "reply on its way")),
                None => String::new(),
            };
            let line = format!(
                "  {} {} · {} · {}{delivery}",
                m.number,
                super::view::channel_short(app, m.channel),
                lang.status(m.status),
                crate::sanitize::line(m.citizen.as_deref().unwrap_or("—")),
            );
            let colour = if m.undelivered() {
                app.theme.bad
            } else {
                app.theme.muted
            };
            out.push(Line::from(Span::styled(line, style(app, colour))));
        }
        if more > 0 {
            out.push(Line::from(Span::styled(
                format!(
                    "  … {} {more} (mcu show -o json)",
                    lang.pick("и ещё", "and")
                ),
                style(app, app.theme.muted),
            )));
        }
        return out;
    }
    if let Some(inc) = detail.and_then(|d| d.incident.as_ref()) {
        out.push(Line::from(Span::styled(
            format!(
                "◆ {} {} «{}»",
                lang.pick("В инциденте", "In incident"),
                inc.number,
                crate::sanitize::line(&inc.title)
            ),
            style(app, app.theme.accent),
        )));
    } else if let Some(g) = candidate_of(app, r.id) {
        out.push(Line::from(Span::styled(
            format!(
                "◇ {}: {}: {}, {}: {} · m",
                lang.pick("Возможно массовое", "Possibly a mass incident"),
                lang.pick("заявителей", "citizens"),
                g.citizens,
                lang.pick("обращений", "requests"),
                g.members.len(),
            ),
            style(app, app.theme.warn),
        )));
    }
    // The citizen wrote again about their own open request: one key joins them.
    if let Some(original) = detail.and_then(|d| d.same_case_as.as_ref()) {
        let key = app
            .keymap
            .shown(super::keymap::Action::LinkDuplicate)
            .into_iter()
            .next()
            .unwrap_or_default();
        out.push(Line::from(Span::styled(
            format!(
                "↻ {} {original} · {key} Enter {}",
                lang.pick("Повтор обращения", "Repeats request"),
                lang.pick("объединить", "joins them"),
            ),
            style(app, app.theme.warn),
        )));
    }
    out
}
