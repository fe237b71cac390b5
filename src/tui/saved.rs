//! Saved views in the console (#19 item 4): `V` saves what is on screen (its view, `/` line
//! and sort) under a name; `v` lists every view by number — the built-in `1`…`7`, then the
//! team's shared ones and this operator's own from `8` — to switch, delete, or (a shift lead
//! in team mode) share with the team and take back; `8` and `9` switch to the first two
//! saved views at once. A view is parsed again with today's catalog when switched to: one
//! that no longer reads opens its filter line to be fixed, with why. The store keeps the
//! views (`store::views`) and the server the shared ones (server/views.rs): nothing here
//! waits for either; their answers arrive as messages.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Mode, View};
use super::update::{Cmd, flash, reload_from_top};
use crate::domain::views::{self, Found, Numbered, Origin, SavedView, ViewError};
use crate::store::views::Views;
use crate::sync::team::News;

/// The saved views as the store last gave them, and which one is on screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    pub own: Vec<SavedView>,
    pub shared: Vec<SavedView>,
    /// The saved view on screen, by name; `None` on a built-in view.
    pub active: Option<String>,
}

impl Saved {
    pub fn numbered(&self) -> Vec<Numbered<'_>> {
        views::numbered(&self.shared, &self.own)
    }
}

/// The window over the inbox (`v`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pane {
    /// The row under the cursor: built-in views first, then the saved ones.
    pub selected: usize,
    /// A number being typed (`1`, `12`): Enter switches to it.
    pub typed: String,
    /// `x` pressed once on this row: the next `x` deletes (or takes back) the view.
    pub confirm: Option<usize>,
}

/// What the store is asked about views.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    Load {
        owner: String,
    },
    Save {
        owner: String,
        view: SavedView,
    },
    Delete {
        owner: String,
        name: String,
    },
    /// The team's views as the server last said, kept for the next start and the CLI.
    Cache {
        owner: String,
        shared: Vec<SavedView>,
    },
    /// The server took `owner`'s view for the team.
    Shared {
        owner: String,
        view: SavedView,
    },
    /// The server no longer shares `name`; `owner` took it back and keeps it.
    Unshared {
        owner: String,
        name: String,
    },
}

/// What the store did, with the views as they are after it.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Loaded,
    Saved { name: String, replaced: bool },
    Deleted(String),
    Shared(String),
    Unshared(String),
    Refused(ViewError),
}

/// Runs `work` on the store's thread (called by the event loop's command runner).
pub async fn run(store: &crate::store::Store, work: Work) -> Result<(Views, Done), String> {
    let e = |e: crate::store::StoreError| {
        crate::present::refusal::store_error_ru(&e).unwrap_or_else(|| e.to_string())
    };
    let (owner, done) = match work {
        Work::Load { owner } => (owner, Done::Loaded),
        Work::Save { owner, view } => match store.save_view(&owner, view).await.map_err(e)? {
            Ok(s) => {
                let name = s.view.name;
                (
                    owner,
                    Done::Saved {
                        name,
                        replaced: s.replaced,
                    },
                )
            }
            Err(refused) => (owner, Done::Refused(refused)),
        },
        Work::Delete { owner, name } => match store.delete_view(&owner, &name).await.map_err(e)? {
            Ok(v) => (owner, Done::Deleted(v.name)),
            Err(refused) => (owner, Done::Refused(refused)),
        },
        Work::Cache { owner, shared } => {
            store.set_shared_views(shared).await.map_err(e)?;
            (owner, Done::Loaded)
        }
        Work::Shared { owner, view } => {
            let name = view.name.clone();
            let now = store.view_shared(&owner, view).await.map_err(e)?;
            return Ok((now, Done::Shared(name)));
        }
        Work::Unshared { owner, name } => {
            let now = store.view_unshared(&owner, &name).await.map_err(e)?;
            return Ok((now, Done::Unshared(name)));
        }
    };
    Ok((store.views(&owner).await.map_err(e)?, done))
}

/// At start: this operator's views and the team's copy.
pub(super) fn load(app: &App) -> Cmd {
    Cmd::Views(Work::Load {
        owner: app.me.clone(),
    })
}

/// Every name a built-in view goes by, in both languages: no saved view may take one.
pub(super) fn built_in_names(v: View) -> Vec<&'static str> {
    use super::strings::Lang;
    vec![Lang::Ru.view(v), Lang::En.view(v)]
}

fn all_built_in_names() -> Vec<&'static str> {
    View::ALL.into_iter().flat_map(built_in_names).collect()
}

fn refused(app: &App, e: &ViewError) -> String {
    match app.lang {
        super::strings::Lang::En => e.to_string(),
        _ => e.ru(),
    }
}

/// The store's answer.
pub(super) fn on_done(app: &mut App, answer: Result<(Views, Done), String>) -> Vec<Cmd> {
    let (now, done) = match answer {
        Ok(a) => a,
        Err(e) => {
            flash(app, e, true);
            return vec![];
        }
    };
    app.saved.own = now.own;
    app.saved.shared = now.shared;
    let number = |app: &App, name: &str| {
        app.saved
            .numbered()
            .iter()
            .find(|n| views::key(&n.view.name) == views::key(name))
            .map_or(0, |n| n.number)
    };
    let lang = app.lang;
    let text = match done {
        Done::Loaded => return vec![],
        Done::Refused(e) => {
            let text = refused(app, &e);
            flash(app, text, true);
            return vec![];
        }
        Done::Saved { name, replaced } => {
            let n = number(app, &name);
            let shown = crate::sanitize::line(&name);
            app.saved.active = Some(name);
            match (lang, replaced) {
                (super::strings::Lang::En, false) => format!("view «{shown}» saved: {n}"),
                (super::strings::Lang::En, true) => format!("view «{shown}» updated: {n}"),
                (_, false) => format!("вид «{shown}» сохранён: {n}"),
                (_, true) => format!("вид «{shown}» обновлён: {n}"),
            }
        }
        Done::Deleted(name) => {
            forget_active(app, &name);
            let shown = crate::sanitize::line(&name);
            lang.pick(
                &format!("вид «{shown}» удалён"),
                &format!("view «{shown}» deleted"),
            )
            .to_string()
        }
        Done::Shared(name) => {
            let (n, shown) = (number(app, &name), crate::sanitize::line(&name));
            match lang {
                super::strings::Lang::En => format!("view «{shown}» is the team's now: {n}"),
                _ => format!("вид «{shown}» теперь у всей команды: {n}"),
            }
        }
        // The lead who took it back keeps it as their own, under the same name.
        Done::Unshared(name) => {
            let (n, shown) = (number(app, &name), crate::sanitize::line(&name));
            match lang {
                super::strings::Lang::En => {
                    format!("view «{shown}» is no longer shared; you keep it: {n}")
                }
                _ => format!("вид «{shown}» больше не общий; он остался у вас: {n}"),
            }
        }
    };
    flash(app, text, false);
    vec![]
}

/// A view gone from the lists: the screen keeps its filter, as a built-in view's.
fn forget_active(app: &mut App, name: &str) {
    if app
        .saved
        .active
        .as_deref()
        .is_some_and(|a| views::key(a) == views::key(name))
    {
        app.saved.active = None;
    }
}

/// The team's views from the server's regular answer: shown, and kept in the file when they
/// changed.
pub(super) fn team_views(app: &mut App, shared: Vec<SavedView>) -> Vec<Cmd> {
    if shared == app.saved.shared {
        return vec![];
    }
    app.saved.shared = shared.clone();
    if let Some(active) = app.saved.active.clone()
        && !app
            .saved
            .numbered()
            .iter()
            .any(|n| views::key(&n.view.name) == views::key(&active))
    {
        app.saved.active = None;
    }
    vec![Cmd::Views(Work::Cache {
        owner: app.me.clone(),
        shared,
    })]
}

/// The server's answer to a share or a take-back.
pub(super) fn on_news(app: &mut App, news: News) -> Vec<Cmd> {
    let owner = app.me.clone();
    match news {
        News::Shared(view) => vec![Cmd::Views(Work::Shared { owner, view })],
        News::Unshared(name) => vec![Cmd::Views(Work::Unshared { owner, name })],
        News::ViewRefused {
            name,
            code,
            message,
        } => {
            let en = app.lang == super::strings::Lang::En;
            let name = crate::sanitize::line(&name);
            let text = match code.as_str() {
                "forbidden" if en => "only a shift lead shares views with the team".into(),
                "forbidden" => "делиться видами с командой может только старший смены".into(),
                "read_only" if en => "a view-only account shares nothing".into(),
                "read_only" => "учётная запись только для просмотра: делиться нельзя".into(),
                "unavailable" if en => format!("the server did not answer; «{name}» unchanged"),
                "unavailable" => format!("сервер не ответил: вид «{name}» не изменён"),
                _ if en => message,
                _ => format!("сервер отказал: {message}"),
            };
            flash(app, crate::sanitize::line(&text), true);
            vec![]
        }
        _ => vec![],
    }
}

/// Switches to saved view `number` (`8`, `9` and the list); an unknown number is said.
pub(super) fn switch_number(app: &mut App, number: usize) -> Vec<Cmd> {
    let labels = built_in_names;
    let found = {
        let numbered = app.saved.numbered();
        views::find(&number.to_string(), &numbered, labels).map(|f| match f {
            Found::BuiltIn(v) => Err(v),
            Found::Saved(s) => Ok(s.view.clone()),
        })
    };
    match found {
        Some(Ok(v)) => switch(app, v),
        Some(Err(v)) => super::update::set_view(app, v),
        None => {
            let text = match app.lang {
                super::strings::Lang::En => {
                    format!("no view {number}: `v` lists them, `V` saves one")
                }
                _ => format!("нет вида {number}: список — `v`, сохранить вид — `V`"),
            };
            flash(app, text, true);
            vec![]
        }
    }
}

/// Puts saved view `v` on screen. One that no longer reads (the catalog lost its topic) opens
/// on its base view with its filter line to fix, and says why.
pub(super) fn switch(app: &mut App, v: SavedView) -> Vec<Cmd> {
    app.view = v.base;
    app.sort = v.sort.into();
    app.saved.active = Some(v.name.clone());
    let base = v.base.filter(&app.me, app.now, app.tz);
    match super::filter::parse(&v.filter, base.clone(), &app.catalog, &app.me) {
        Ok(f) => {
            app.filter = f;
            app.filter_line = v.filter;
        }
        Err(e) => {
            app.filter = base;
            app.filter_line.clear();
            let name = crate::sanitize::line(&v.name);
            let text = match app.lang {
                super::strings::Lang::En => {
                    format!("view «{name}»: {e} — fix the filter, Enter, then `V` to save it again")
                }
                _ => format!(
                    "вид «{name}»: {e} — поправьте фильтр, Enter, затем `V` сохранит его снова"
                ),
            };
            flash(app, text, true);
            app.mode = Mode::Filter { input: v.filter };
        }
    }
    reload_from_top(app)
}

/// The saved view on screen, and whether what is shown differs from it (the `/` line or the
/// sort changed since): the tab says so, and `V` saves the change.
pub(super) fn active(app: &App) -> Option<(Numbered<'_>, bool)> {
    let name = app.saved.active.as_deref()?;
    let n = app
        .saved
        .numbered()
        .into_iter()
        .find(|n| views::key(&n.view.name) == views::key(name))?;
    let changed = n.view.base != app.view
        || n.view.filter != app.filter_line
        || crate::store::Sort::from(n.view.sort) != app.sort;
    Some((n, changed))
}

/// `V`: the name to save what is on screen under; the saved view on screen offers its own.
pub(super) fn save_prompt(app: &mut App) -> Vec<Cmd> {
    let input = match active(app) {
        Some((n, _)) if n.origin == Origin::Own => n.view.name.clone(),
        _ => String::new(),
    };
    app.mode = Mode::SaveView { input };
    vec![]
}

/// Keys while the name is typed.
pub(super) fn save_key(app: &mut App, k: KeyEvent, mut input: String) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => vec![],
        KeyCode::Enter => {
            let view = SavedView {
                name: input.clone(),
                base: app.view,
                filter: app.filter_line.clone(),
                sort: app.sort.into(),
                shared_by: None,
                since: app.now,
            };
            let checked = views::check(&view, &all_built_in_names()).and_then(|v| {
                match app
                    .saved
                    .shared
                    .iter()
                    .find(|s| views::key(&s.name) == views::key(&v.name))
                {
                    Some(s) => Err(ViewError::TeamHas(s.name.clone())),
                    None => Ok(v),
                }
            });
            match checked {
                Ok(view) => vec![Cmd::Views(Work::Save {
                    owner: app.me.clone(),
                    view,
                })],
                Err(e) => {
                    let text = refused(app, &e);
                    flash(app, text, true);
                    app.mode = Mode::SaveView { input };
                    vec![]
                }
            }
        }
        _ => {
            super::request_keys::edit_line(&mut input, k, |c| !c.is_control());
            app.mode = Mode::SaveView { input };
            vec![]
        }
    }
}
