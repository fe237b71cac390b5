//! Views: the built-in queues (`1`…`7`) and the named views an operator saves («ЖКХ не
//! передано») — a built-in view, the `/` filter line as typed and a sort. A saved view keeps
//! the line as text rather than a parsed filter so it stays readable and editable, and is parsed
//! again with the catalog of the day each time it is used: a topic the catalog lost is then a
//! message, never a wrong list. The rules here are the names, the limits, the numbering after
//! the built-ins and finding a view by name or number; console, CLI and server share them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The built-in views, in the order of their keys `1`…`7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Mine,
    New,
    AtRisk,
    Waiting,
    ClosedToday,
    All,
    /// Replies the citizen did not get (failed, or fate unknown): `mcu list --undelivered`.
    Undelivered,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Mine,
        View::New,
        View::AtRisk,
        View::Waiting,
        View::ClosedToday,
        View::All,
        View::Undelivered,
    ];

    /// The view's id in files, on the wire and on the command line (`closed_today`).
    pub fn id(self) -> &'static str {
        match self {
            View::Mine => "mine",
            View::New => "new",
            View::AtRisk => "at_risk",
            View::Waiting => "waiting",
            View::ClosedToday => "closed_today",
            View::All => "all",
            View::Undelivered => "undelivered",
        }
    }

    /// By id, `-` taken for `_` as the command line writes it (`closed-today`).
    pub fn from_id(id: &str) -> Option<View> {
        let id = id.trim().to_lowercase().replace('-', "_");
        View::ALL.into_iter().find(|v| v.id() == id)
    }

    /// Its key and number: `1` for Mine.
    pub fn number(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0) + 1
    }

    /// The order a view lists in when the operator switches to it: closed requests by when
    /// they came, every queue by time left.
    pub fn default_sort(self) -> ViewSort {
        if self == View::ClosedToday {
            ViewSort::Received
        } else {
            ViewSort::TimeLeft
        }
    }
}

/// A saved view's order (the store's `Sort`, which the domain does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewSort {
    #[default]
    TimeLeft,
    Received,
}

impl ViewSort {
    pub fn id(self) -> &'static str {
        match self {
            ViewSort::TimeLeft => "time_left",
            ViewSort::Received => "received",
        }
    }
}

/// A named view: one operator's own (kept in their console's file), or the team's (a shift
/// lead shared it; the server keeps it and every console of the scope shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    /// The built-in view the filter applies on top of.
    pub base: View,
    /// The `/` line as typed (`тема:жкх статус:новое`); may be empty.
    #[serde(default)]
    pub filter: String,
    #[serde(default)]
    pub sort: ViewSort,
    /// Who shared it with the team; `None` for one's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<String>,
    /// When it was first saved (or first shared): views number in this order, so saving one
    /// again, or a new one, moves no other view's number.
    pub since: DateTime<Utc>,
}

/// Longest name, in characters: it must fit a tab and a list line.
pub const MAX_NAME: usize = 40;
/// Longest filter line, in characters.
pub const MAX_FILTER: usize = 500;
/// Most views one operator keeps, and most a team shares: a list anyone can still read, and a
/// bound on what a client can make the server keep.
pub const MAX_VIEWS: usize = 50;

/// Why a view cannot be kept as given. `Display` is the server's English; `ru` the console's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("a view needs a name")]
    NoName,
    #[error("a view's name is at most {MAX_NAME} characters")]
    LongName,
    #[error("a view's name is one line of text")]
    Control,
    #[error("`{0}` is a number: views are switched by number, so a name is words")]
    Numeric(String),
    #[error("`{0}` is a built-in view's name")]
    BuiltIn(String),
    #[error("a view's filter is at most {MAX_FILTER} characters of one line")]
    LongFilter,
    #[error("at most {MAX_VIEWS} views: delete one first")]
    TooMany,
    /// An own view may not take a team view's name: a name must find one view.
    #[error("the team has a view named `{0}`")]
    TeamHas(String),
    #[error("no view named `{0}`")]
    Unknown(String),
}

impl ViewError {
    pub fn ru(&self) -> String {
        match self {
            ViewError::NoName => "у вида должно быть название".into(),
            ViewError::LongName => format!("название вида — не длиннее {MAX_NAME} знаков"),
            ViewError::Control => "название вида — одна строка текста".into(),
            ViewError::Numeric(n) => {
                format!("«{n}» — число: виды переключают по номеру, название должно быть словами")
            }
            ViewError::BuiltIn(n) => format!("«{n}» — название встроенного вида"),
            ViewError::LongFilter => {
                format!("фильтр вида — одна строка не длиннее {MAX_FILTER} знаков")
            }
            ViewError::TooMany => format!("не больше {MAX_VIEWS} видов: сначала удалите один"),
            ViewError::TeamHas(n) => {
                format!("у команды уже есть вид «{n}»: выберите другое название")
            }
            ViewError::Unknown(n) => format!("нет вида «{n}»"),
        }
    }
}

/// The name as kept: trimmed, runs of spaces made one.
pub fn clean_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Names are one view whatever their case: «ЖКХ» and «жкх» are the same view.
pub fn key(name: &str) -> String {
    clean_name(name).to_lowercase()
}

/// The view as it may be kept (name and filter cleaned), or why not. `taken` are the names of
/// the built-in views in every language the console speaks, which a saved view may not wear.
pub fn check(view: &SavedView, taken: &[&str]) -> Result<SavedView, ViewError> {
    if view.name.chars().any(char::is_control) {
        return Err(ViewError::Control);
    }
    let name = clean_name(&view.name);
    if name.is_empty() {
        return Err(ViewError::NoName);
    }
    if name.chars().count() > MAX_NAME {
        return Err(ViewError::LongName);
    }
    if name
        .chars()
        .all(|c| c.is_ascii_digit() || c == '№' || c == '#')
    {
        return Err(ViewError::Numeric(name));
    }
    let k = key(&name);
    if View::from_id(&k).is_some() || taken.iter().any(|t| key(t) == k) {
        return Err(ViewError::BuiltIn(name));
    }
    if view.filter.chars().any(char::is_control) || view.filter.chars().count() > MAX_FILTER {
        return Err(ViewError::LongFilter);
    }
    Ok(SavedView {
        name,
        filter: view.filter.split_whitespace().collect::<Vec<_>>().join(" "),
        ..view.clone()
    })
}

/// Whose a saved view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The team's, shared by a shift lead.
    Shared,
    Own,
}

/// A saved view with the number it is switched by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Numbered<'a> {
    pub number: usize,
    pub origin: Origin,
    pub view: &'a SavedView,
}

/// In their order: oldest first, ties by name.
pub fn sorted(mut views: Vec<SavedView>) -> Vec<SavedView> {
    views.sort_by(|a, b| {
        a.since
            .cmp(&b.since)
            .then_with(|| key(&a.name).cmp(&key(&b.name)))
    });
    views
}

/// The saved views numbered after the built-ins (`8`, `9`, …): the team's first, so a lead can
/// say «вид 8» to the whole shift and mean one view, then this operator's own. Each list in
/// the order its views were first saved, so adding a view moves no other's number.
pub fn numbered<'a>(shared: &'a [SavedView], own: &'a [SavedView]) -> Vec<Numbered<'a>> {
    let first = View::ALL.len() + 1;
    shared
        .iter()
        .map(|v| (Origin::Shared, v))
        .chain(own.iter().map(|v| (Origin::Own, v)))
        .enumerate()
        .map(|(i, (origin, view))| Numbered {
            number: first + i,
            origin,
            view,
        })
        .collect()
}

/// A view found by what an operator typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<'a> {
    BuiltIn(View),
    Saved(Numbered<'a>),
}

/// The view `typed` names: its number (`8`), a saved view's name (one's own before the team's
/// when both have it), a built-in view's id (`at_risk`) or one of its names in `labels`.
pub fn find<'a>(
    typed: &str,
    numbered: &[Numbered<'a>],
    labels: impl Fn(View) -> Vec<&'static str>,
) -> Option<Found<'a>> {
    let typed = typed.trim().trim_start_matches('№');
    if let Ok(n) = typed.parse::<usize>() {
        return match View::ALL.get(n.wrapping_sub(1)) {
            Some(v) => Some(Found::BuiltIn(*v)),
            None => numbered
                .iter()
                .find(|s| s.number == n)
                .copied()
                .map(Found::Saved),
        };
    }
    let k = key(typed);
    let named = |o: Origin| {
        numbered
            .iter()
            .find(|s| s.origin == o && key(&s.view.name) == k)
            .copied()
    };
    if let Some(s) = named(Origin::Own).or_else(|| named(Origin::Shared)) {
        return Some(Found::Saved(s));
    }
    View::ALL
        .into_iter()
        .find(|v| View::from_id(&k) == Some(*v) || labels(*v).iter().any(|l| key(l) == k))
        .map(Found::BuiltIn)
}
