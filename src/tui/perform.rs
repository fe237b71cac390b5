//! The inbox's keys turned into actions: the keymap's action performed, the palette that
//! finds one by name, the views. Kept apart from `update` so the message loop stays readable.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Mode, View};
use super::keymap::Action;
use super::request_keys::on_request;
use super::update::{Cmd, flash, move_to, refresh, reload_from_top};
use crate::store::Sort;

pub(super) fn is_mutation(a: Action) -> bool {
    matches!(
        a,
        Action::Claim
            | Action::Release
            | Action::Topic
            | Action::Department
            | Action::Priority
            | Action::Tag
            | Action::Forward
            | Action::DepartmentAnswer
            | Action::Reply
            | Action::Ask
            | Action::Note
            | Action::Close
            | Action::Reopen
            | Action::LinkDuplicate
            | Action::Resend
            | Action::Phoned
            | Action::Unreachable
            | Action::Assign
            | Action::AcceptSuggestion
            | Action::LeaveIncident
    )
}

pub(super) fn palette_key(
    app: &mut App,
    k: KeyEvent,
    mut query: String,
    mut selected: usize,
) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => return vec![],
        KeyCode::Enter => {
            use super::app::PaletteItem;
            return match app.palette(&query).get(selected) {
                Some(PaletteItem::Action(action)) => perform(app, *action),
                Some(PaletteItem::Macro(i)) => super::macros::run(app, *i),
                None => vec![],
            };
        }
        KeyCode::Up => selected = selected.saturating_sub(1),
        KeyCode::Down => selected += 1,
        KeyCode::Backspace => {
            query.pop();
            selected = 0;
        }
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
            query.push(c);
            selected = 0;
        }
        _ => {}
    }
    let n = app.palette(&query).len();
    app.mode = Mode::Palette {
        query,
        selected: selected.min(n.saturating_sub(1)),
    };
    vec![]
}

pub(super) fn normal(app: &mut App, k: KeyEvent) -> Vec<Cmd> {
    let Some(action) = app.keymap.action(k) else {
        // A macro's own key (never an action's: the config refuses that), in the inbox only.
        return match super::macros::by_key(app, k) {
            Some(i) if !app.dash.shown => super::macros::run(app, i),
            _ => vec![],
        };
    };
    if app.dash.shown {
        return super::dashboard::key(app, action);
    }
    perform(app, action)
}

pub(super) fn perform(app: &mut App, action: Action) -> Vec<Cmd> {
    let Some(action) = super::department_mode::action(app, action) else {
        return vec![];
    };
    if app.department.is_some() && action == Action::Resend {
        return super::department_mode::give_back(app);
    }
    if is_mutation(action) && app.readonly {
        flash(app, app.lang.readonly().into(), true);
        return vec![];
    }
    let page = app.height.max(1) as isize;
    let sel = app.selected as isize;
    match action {
        Action::Quit => {
            app.quit = true;
            vec![]
        }
        Action::Help => {
            app.mode = Mode::Help;
            vec![]
        }
        Action::Alarms => {
            app.mode = Mode::Alarms;
            vec![Cmd::LoadAlarms]
        }
        // The thread is anchored at its newest line: up goes back in time.
        Action::DetailUp => {
            app.detail_scroll = app.detail_scroll.saturating_add(3);
            vec![]
        }
        Action::DetailDown => {
            app.detail_scroll = app.detail_scroll.saturating_sub(3);
            vec![]
        }
        Action::Down => move_to(app, sel + 1),
        Action::Up => move_to(app, sel - 1),
        Action::PageDown => move_to(app, sel + page),
        Action::PageUp => move_to(app, sel - page),
        Action::Top => move_to(app, 0),
        Action::Bottom => move_to(app, app.rows.len() as isize - 1),
        Action::Open => {
            app.show_detail = !app.show_detail;
            vec![]
        }
        // Esc: drop the message and the marks, so no action goes to forgotten marks.
        Action::Back => {
            app.flash = None;
            app.marks.clear();
            vec![]
        }
        Action::Filter => {
            app.mode = Mode::Filter {
                input: app.filter_line.clone(),
            };
            vec![]
        }
        Action::Mark => {
            if let Some(id) = app.current().map(|r| r.id)
                && !app.marks.remove(&id)
            {
                app.marks.insert(id);
            }
            move_to(app, app.selected as isize + 1)
        }
        Action::Palette => {
            app.mode = Mode::Palette {
                query: String::new(),
                selected: 0,
            };
            vec![]
        }
        Action::SortToggle => {
            app.sort = match app.sort {
                Sort::TimeLeft => Sort::Received,
                Sort::Received => Sort::TimeLeft,
            };
            reload_from_top(app)
        }
        Action::ViewMine => set_view(app, View::Mine),
        Action::ViewNew => set_view(app, View::New),
        Action::ViewAtRisk => set_view(app, View::AtRisk),
        Action::ViewWaiting => set_view(app, View::Waiting),
        Action::ViewClosedToday => set_view(app, View::ClosedToday),
        Action::ViewAll => set_view(app, View::All),
        Action::ViewUndelivered => set_view(app, View::Undelivered),
        Action::View8 => super::saved::switch_number(app, 8),
        Action::View9 => super::saved::switch_number(app, 9),
        Action::Views => super::saved_keys::show(app),
        Action::SaveView => super::saved::save_prompt(app),
        Action::Dashboard => super::dashboard::show(app),
        Action::Alerts => super::alerts::show(app),
        Action::Handover => super::handover::show(app),
        Action::Shift => super::team::show(app),
        Action::Incidents => super::incidents::show(app),
        Action::Export => {
            flash(app, app.lang.exporting().to_string(), false);
            vec![Cmd::ExportCsv {
                filter: Box::new(app.filter.clone()),
                sort: app.sort,
                english: app.lang == super::strings::Lang::En,
            }]
        }
        Action::Refresh => {
            let mut c = refresh(app);
            c.push(Cmd::LoadAlarms);
            c.push(Cmd::LoadIncidents(app.incident_rules.clone()));
            c
        }
        _ => on_request(app, action),
    }
}

pub(super) fn set_view(app: &mut App, view: View) -> Vec<Cmd> {
    app.view = view;
    app.saved.active = None;
    app.sort = view.default_sort().into();
    app.filter_line.clear();
    app.filter = view.filter(&app.me, app.now, app.tz);
    reload_from_top(app)
}
