//! Team mode's picture of the team, from the server (`/v1/team`): its channels' health (the
//! status bar's badges, `!`) and who is on shift (`S`, the assign picker). A shift lead marks
//! operators on and off shift in `S`; an operator marks only themself. The server decides;
//! the list changes when it has answered, never before.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Mode};
use super::update::{Cmd, flash};
use crate::sync::team::News;
use crate::wire::team::StaffMember;

/// Present only in team mode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Team {
    /// Operators and leads, sorted by name.
    pub staff: Vec<StaffMember>,
    /// When the server last answered; `None`: not yet.
    pub seen: Option<DateTime<Utc>>,
    /// Why the last ask failed, until one succeeds: the channels shown may be out of date.
    pub lost: Option<String>,
}

impl Team {
    /// Whether this console's user is known to be a plain operator (then marking the others is
    /// refused here rather than sent); unknown names are left to the server.
    fn plain_operator(&self, me: &str) -> bool {
        self.staff.iter().any(|s| s.user == me && !s.lead)
    }

    pub fn on_shift(&self, user: &str) -> Option<bool> {
        self.staff
            .iter()
            .find(|s| s.user == user)
            .map(|s| s.on_shift)
    }
}

pub(super) fn on_news(app: &mut App, news: News) -> Vec<Cmd> {
    if matches!(
        news,
        News::Shared(_) | News::Unshared(_) | News::ViewRefused { .. }
    ) {
        return super::saved::on_news(app, news);
    }
    let now = app.now;
    let lang = app.lang;
    let Some(team) = app.team.as_mut() else {
        return vec![];
    };
    match news {
        News::Status(s) => {
            team.staff = s.staff;
            team.seen = Some(now);
            team.lost = None;
            app.health = s.channels;
            let mut cmds = super::department_mode::on_me(app, s.me.as_ref());
            cmds.extend(super::saved::team_views(app, s.views));
            return cmds;
        }
        News::Lost(why) => team.lost = Some(why),
        News::Marked(m) => {
            let text = format!(
                "{}: {}",
                crate::sanitize::line(&m.user),
                crate::present::names::shift(m.on_shift, lang)
            );
            match team.staff.iter_mut().find(|s| s.user == m.user) {
                Some(s) => *s = m,
                None => team.staff.push(m),
            }
            flash(app, text, false);
        }
        News::Refused {
            user,
            code,
            message,
        } => {
            let en = lang == super::strings::Lang::En;
            let text = match code.as_str() {
                "forbidden" if en => "only a shift lead marks the others on or off shift".into(),
                "forbidden" => "отмечать других может только старший смены".into(),
                "read_only" if en => "a view-only account marks nobody".into(),
                "read_only" => "учётная запись только для просмотра: отметки не принимаются".into(),
                "unavailable" if en => format!("the server did not answer; {user} not marked"),
                "unavailable" => format!("сервер не ответил: отметка {user} не сохранена"),
                _ if en => message,
                _ => format!("сервер отказал: {message}"),
            };
            flash(app, crate::sanitize::line(&text), true);
        }
        // Answers about views, handled above.
        News::Shared(_) | News::Unshared(_) | News::ViewRefused { .. } => {}
    }
    vec![]
}

/// `S`: the team's list, the cursor on this operator.
pub(super) fn show(app: &mut App) -> Vec<Cmd> {
    let Some(team) = &app.team else {
        let text = app.lang.pick(
            "смены ведёт сервер: список есть только в командном режиме",
            "shifts are kept by the server: the list is there in team mode only",
        );
        flash(app, text.into(), true);
        return vec![];
    };
    let selected = team
        .staff
        .iter()
        .position(|s| s.user == app.me)
        .unwrap_or(0);
    app.mode = Mode::Shift { selected };
    vec![]
}

/// Keys over the list: move; Space or Enter marks the one under the cursor on or off shift;
/// anything else closes it.
pub(super) fn key(app: &mut App, k: KeyEvent, selected: usize) -> Vec<Cmd> {
    let Some(team) = app.team.clone() else {
        return vec![];
    };
    let last = team.staff.len().saturating_sub(1);
    let mut stay = |selected: usize| {
        app.mode = Mode::Shift { selected };
        vec![]
    };
    match k.code {
        KeyCode::Down | KeyCode::Char('j' | 'о') => stay((selected + 1).min(last)),
        KeyCode::Up | KeyCode::Char('k' | 'л') => stay(selected.saturating_sub(1)),
        KeyCode::Home => stay(0),
        KeyCode::End => stay(last),
        KeyCode::Enter | KeyCode::Char(' ') => {
            app.mode = Mode::Shift { selected };
            let Some(member) = team.staff.get(selected) else {
                return vec![];
            };
            if app.readonly {
                flash(app, app.lang.readonly().into(), true);
                return vec![];
            }
            if member.user != app.me && team.plain_operator(&app.me) {
                let text = app.lang.pick(
                    "отмечать других может только старший смены",
                    "only a shift lead marks the others on or off shift",
                );
                flash(app, text.into(), true);
                return vec![];
            }
            vec![Cmd::MarkShift {
                user: member.user.clone(),
                on_shift: !member.on_shift,
            }]
        }
        _ => vec![],
    }
}

/// The assign picker's names: on shift first, then off shift (said so), then names the
/// console knows from elsewhere (a request assigned to someone the server no longer lists).
pub(super) fn assign_items(
    team: &Team,
    others: Vec<String>,
    lang: super::strings::Lang,
) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = vec![];
    for on in [true, false] {
        for s in team.staff.iter().filter(|s| s.on_shift == on) {
            let name = crate::sanitize::line(&s.user);
            let label = if on {
                name.clone()
            } else {
                format!("{name} · {}", crate::present::names::shift(false, lang))
            };
            items.push((name, label));
        }
    }
    for n in others {
        if !items.iter().any(|(v, _)| *v == n) {
            items.push((n.clone(), n));
        }
    }
    items
}
