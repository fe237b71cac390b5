//! The console's state. Everything on screen is drawn from an `App`; `update` (update.rs)
//! is the only thing that changes it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ratatui_textarea::TextArea;
use std::sync::Arc;
use uuid::Uuid;

use super::keymap::Keymap;
use super::strings::Lang;
use crate::domain::{Catalog, Request, Status};
use crate::store::{Assignee, Cursor, Detail, Filter, Sort};

/// The built-in views live in the domain (their ids and numbers are the CLI's and the server's
/// words too); what each lists is the console's.
pub use crate::domain::views::View;

impl View {
    pub fn filter(self, me: &str, now: DateTime<Utc>, tz: Tz) -> Filter {
        let mut f = self.unfolded(me, now, tz);
        // An undelivered reply to a member is that member's to settle: listed on its own.
        f.fold_incidents = self != View::Undelivered;
        f
    }

    fn unfolded(self, me: &str, now: DateTime<Utc>, tz: Tz) -> Filter {
        match self {
            View::Mine => Filter {
                assignee: Some(Assignee::Is(me.to_string())),
                open_only: true,
                ..Default::default()
            },
            View::New => Filter {
                statuses: vec![Status::New],
                ..Default::default()
            },
            View::AtRisk => Filter {
                urgent: true,
                ..Default::default()
            },
            View::Waiting => Filter {
                statuses: vec![Status::WaitingDepartment],
                ..Default::default()
            },
            View::ClosedToday => {
                let local = now.with_timezone(&tz).date_naive();
                let start = local
                    .and_hms_opt(0, 0, 0)
                    .and_then(|t| t.and_local_timezone(tz).earliest())
                    .map(|t| t.with_timezone(&Utc));
                Filter {
                    statuses: vec![Status::Closed],
                    closed_from: start,
                    ..Default::default()
                }
            }
            View::All => Filter::default(),
            View::Undelivered => Filter {
                undelivered: true,
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Topic,
    Department,
    Priority,
    CloseReason,
    Forward,
    /// One of the request's stored files, to open externally.
    Attachment,
    /// Whom to assign to: the operators the console knows of, or a name typed in.
    Assign,
    /// One of the citizen's other requests, to show in the list.
    CitizenRequest,
    /// A citizen's follow-up to make a request of its own (`domain::split`).
    SplitMessage,
}

#[derive(Debug, Clone)]
pub struct Picker {
    pub kind: PickerKind,
    pub target: Uuid,
    /// (value, label); the value `""` means "none".
    pub items: Vec<(String, String)>,
    pub query: String,
    pub selected: usize,
}

impl Picker {
    /// Items matching the typed text anywhere in the label or value, case-insensitively.
    pub fn visible(&self) -> Vec<&(String, String)> {
        let q = self.query.to_lowercase();
        self.items
            .iter()
            .filter(|(v, l)| {
                q.is_empty() || l.to_lowercase().contains(&q) || v.to_lowercase().contains(&q)
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeKind {
    Reply,
    Note,
    DepartmentAnswer,
    /// The note that goes with a forward; may stay empty.
    Forward,
    /// What the citizen was told by phone about an undelivered reply (`Settle::Phoned`).
    Phoned,
    /// A reply that asks the citizen something and waits for the answer (`Op::Ask`).
    Ask,
    /// A department gives the request back as not theirs, saying why (`Op::Return`).
    Return,
}

impl ComposeKind {
    /// Goes to the citizen: the channel's length limit, drafts, the «already replying» warning.
    pub fn to_citizen(self) -> bool {
        matches!(self, ComposeKind::Reply | ComposeKind::Ask)
    }
}

/// One request a composer writes to, with what its text's variables become there.
#[derive(Debug, Clone)]
pub struct ComposeTarget {
    pub id: Uuid,
    pub number: String,
    /// The channel's limit for one message (replies only), in UTF-16 units.
    pub limit: Option<usize>,
    /// Values for `{number}`, `{citizen}`, `{department}`, `{due}` in the text.
    pub vars: Vec<(String, String)>,
    /// The citizen's last message (the request's text when the card has no later one), kept
    /// in view while writing.
    pub said: Option<(DateTime<Utc>, String)>,
}

/// A composer's text area: long lines wrap at the window's edge rather than scroll sideways.
pub fn editor(lines: Vec<String>) -> TextArea<'static> {
    let mut t = TextArea::new(lines);
    t.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
    t
}

pub struct Compose {
    pub kind: ComposeKind,
    /// The marked requests (or the selected one), fixed when the composer opened: the text
    /// goes to each, rendered with its own variables.
    pub targets: Vec<ComposeTarget>,
    /// Whose rendering the preview shows (PgDn/PgUp with several targets).
    pub shown: usize,
    /// For Forward: the department picked.
    pub department: Option<String>,
    pub editor: TextArea<'static>,
    /// The list of ready replies (Ctrl-T, or Tab after an unknown `::word`), over the editor.
    pub templates: Option<TemplateList>,
    /// A macro whose reply this is: Ctrl-S does its other steps with it (tui/macros.rs).
    pub run: Option<Box<super::macros::Run>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateList {
    pub query: String,
    pub selected: usize,
    /// Characters before the cursor (`::wor`) that the chosen template replaces.
    pub replace: usize,
}

/// Templates whose shortcut, title or text contains the query, shortcut matches first.
pub fn template_matches<'a>(
    all: &'a [crate::templates::ReplyTemplate],
    query: &str,
) -> Vec<&'a crate::templates::ReplyTemplate> {
    let q = query.trim().to_lowercase();
    let mut hits: Vec<(u8, &crate::templates::ReplyTemplate)> = all
        .iter()
        .filter_map(|t| {
            let rank = if t.shortcut.to_lowercase().starts_with(&q) {
                0
            } else if [&t.title, t.title_en.as_deref().unwrap_or(""), &t.text]
                .iter()
                .any(|f| f.to_lowercase().contains(&q))
            {
                1
            } else {
                return None;
            };
            Some((rank, t))
        })
        .collect();
    hits.sort_by_key(|(rank, _)| *rank);
    hits.into_iter().map(|(_, t)| t).collect()
}

impl Compose {
    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    /// The target the preview shows.
    pub fn current(&self) -> &ComposeTarget {
        &self.targets[self.shown.min(self.targets.len() - 1)]
    }

    /// Exactly what the shown target's citizen will see: variables filled in.
    pub fn preview(&self) -> String {
        crate::present::reply_vars::render(&self.text(), &self.current().vars)
    }
}

pub enum Mode {
    Normal,
    Filter {
        input: String,
    },
    Picker(Picker),
    /// `l`: tags picked from those in use (tui/tags.rs).
    Tags(Box<super::tags::TagPicker>),
    Compose(Box<Compose>),
    Help,
    /// Open alarms and the channel's state.
    Alarms,
    /// The number of the request this one duplicates, or (`merge`, switched by `Tab`) the
    /// one its thread is merged into.
    LinkInput {
        target: Uuid,
        input: String,
        merge: bool,
    },
    /// `w`: the alerts, newest first.
    Alerts {
        selected: usize,
    },
    /// `S`: the team, who is on shift (team mode).
    Shift {
        selected: usize,
    },
    /// `m`: the open incidents and the candidate groups.
    Incidents {
        selected: usize,
    },
    /// `t` over an incident in `m`: its new title (`selected` is where the list returns).
    IncidentTitle {
        id: Uuid,
        selected: usize,
        input: String,
    },
    /// `h`: what this shift hands to the next.
    Handover(Box<super::handover::Pane>),
    /// «Заявитель недоступен» on these requests, waiting for a yes: it stops the clock.
    Unreachable {
        targets: Vec<Uuid>,
    },
    /// `:` — every action by name, fuzzy-matched.
    Palette {
        query: String,
        selected: usize,
    },
    /// `v`: every view by number, built-in and saved (tui/saved.rs).
    Views(super::saved::Pane),
    /// `V`: the name to save what is on screen under.
    SaveView {
        input: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub at: DateTime<Utc>,
}

pub struct App {
    pub lang: Lang,
    pub me: String,
    pub readonly: bool,
    /// A department account's console (the server said so): the catalog departments it works
    /// for. Its queue is what was forwarded to them; it answers, notes and returns, nothing
    /// else (`tui/department_mode.rs`).
    pub department: Option<Vec<String>>,
    pub keymap: Keymap,
    pub catalog: Arc<Catalog>,
    pub tz: Tz,
    pub theme: super::theme::Theme,
    pub view: View,
    /// The saved views, and which is on screen (`view` is then its base).
    pub saved: super::saved::Saved,
    pub sort: Sort,
    pub filter_line: String,
    pub filter: Filter,
    pub rows: Vec<Request>,
    /// Triage's suggestions for the loaded rows without a topic, by request id.
    pub suggested: std::collections::HashMap<Uuid, crate::triage::Suggestion>,
    pub selected: usize,
    pub scroll: usize,
    pub next: Option<Cursor>,
    pub loading: bool,
    /// Bumped on every reload; answers to older loads are dropped.
    pub generation: u64,
    /// The request to keep selected when a reload arrives (new rows may push it down).
    pub keep: Option<Uuid>,
    pub detail: Option<Detail>,
    pub show_detail: bool,
    pub mode: Mode,
    pub flash: Option<Flash>,
    pub alarms: Vec<crate::store::alarms::Alarm>,
    /// Each channel's state: from this process's gateways' events, in the order they first
    /// spoke, or in team mode from the server (`team`); empty when neither runs a channel.
    pub health: Vec<crate::wire::team::ChannelHealth>,
    /// The team as the server last told it; `None` when this console works alone.
    pub team: Option<super::team::Team>,
    /// The last sync round (team mode); None when this console works alone.
    pub sync: Option<crate::sync::runner::SyncStatus>,
    /// Other operators on requests, as the server last said (team mode); never this one.
    pub presence: Vec<crate::wire::presence::Presence>,
    /// How many lines the detail's thread is scrolled back from its newest line.
    pub detail_scroll: u16,
    pub now: DateTime<Utc>,
    /// Inbox rows that fit on screen; pages are sized from it.
    pub height: usize,
    pub last_refresh: DateTime<Utc>,
    /// Requests marked with space: the next action applies to each of them.
    pub marks: std::collections::BTreeSet<Uuid>,
    /// The answers of the last action on several requests, until all are in.
    pub bulk: Option<super::bulk::Bulk>,
    pub templates: Vec<crate::templates::ReplyTemplate>,
    /// The macros, shipped and the center's own (src/macros): palette, help, direct keys.
    pub macros: Vec<crate::macros::Macro>,
    /// A macro on one request waiting for the store's answer, for the status line.
    pub macro_done: Option<super::macros::Done>,
    pub open_command: Vec<String>,
    pub photos: bool,
    /// The shift lead's dashboard, over the inbox while shown.
    pub dash: super::dashboard::Dash,
    pub alerts: super::alerts::Alerts,
    /// A shift's length, for the handover.
    pub shift_hours: f64,
    /// The open incidents and candidate groups as last read (`m`, the rows' marks).
    pub groups: Vec<crate::store::incidents::Group>,
    /// How many members each incident row of the list has.
    pub members: std::collections::HashMap<Uuid, usize>,
    pub incident_rules: crate::incidents::Rules,
    /// When the groups were last asked for on the clock.
    pub incidents_at: DateTime<Utc>,
    pub quit: bool,
}

pub struct Settings {
    pub lang: Lang,
    pub me: String,
    pub readonly: bool,
    pub keymap: Keymap,
    pub catalog: Arc<Catalog>,
    pub tz: Tz,
    pub theme: super::theme::Theme,
    pub templates: Vec<crate::templates::ReplyTemplate>,
    /// The macros as `macros::merged` gives them.
    pub macros: Vec<crate::macros::Macro>,
    /// Opens a file outside the terminal; empty: the platform's opener.
    pub open_command: Vec<String>,
    /// Photos in the card (the terminal is asked for its graphics protocol at start).
    pub photos: bool,
    /// Open on the dashboard rather than the inbox (`mcu console --dashboard`).
    pub dashboard: bool,
    /// What alerts to raise (None: none), and whether to ring the bell with them.
    pub alerts: Option<crate::store::alerts::AlertRules>,
    pub bell: bool,
    pub shift_hours: f64,
    pub incidents: crate::incidents::Rules,
}

impl App {
    pub fn new(s: Settings, now: DateTime<Utc>) -> App {
        let view = View::All;
        let filter = view.filter(&s.me, now, s.tz);
        App {
            lang: s.lang,
            me: s.me,
            readonly: s.readonly,
            department: None,
            keymap: s.keymap,
            catalog: s.catalog,
            tz: s.tz,
            theme: s.theme,
            view,
            saved: Default::default(),
            sort: Sort::TimeLeft,
            filter_line: String::new(),
            filter,
            rows: vec![],
            suggested: Default::default(),
            selected: 0,
            scroll: 0,
            next: None,
            loading: false,
            generation: 0,
            keep: None,
            detail: None,
            show_detail: true,
            mode: Mode::Normal,
            flash: None,
            alarms: vec![],
            health: vec![],
            team: None,
            sync: None,
            presence: vec![],
            detail_scroll: 0,
            now,
            height: 20,
            last_refresh: now,
            marks: Default::default(),
            bulk: None,
            templates: s.templates,
            macros: s.macros,
            macro_done: None,
            open_command: s.open_command,
            photos: s.photos,
            dash: super::dashboard::Dash {
                shown: s.dashboard,
                ..Default::default()
            },
            alerts: super::alerts::Alerts {
                rules: s.alerts,
                bell: s.bell,
                ..Default::default()
            },
            shift_hours: s.shift_hours,
            groups: vec![],
            members: Default::default(),
            incident_rules: s.incidents,
            incidents_at: now,
            quit: false,
        }
    }

    pub fn current(&self) -> Option<&Request> {
        self.rows.get(self.selected)
    }

    /// Where this console is, for the others' screens: the card on screen, or the request a
    /// window over it works on; composing only in the reply composer (a second reply is what
    /// presence prevents; two notes harm nobody).
    pub fn here(&self) -> crate::sync::presence::Here {
        use crate::sync::presence::Here;
        let at = |id: Uuid, composing: bool| Here {
            request_id: Some(id),
            composing,
        };
        match &self.mode {
            Mode::Compose(c) => at(c.current().id, c.kind.to_citizen()),
            Mode::Picker(p) => at(p.target, false),
            Mode::Tags(p) => match p.targets.first() {
                Some(t) => at(t.id, false),
                None => Here {
                    request_id: None,
                    composing: false,
                },
            },
            Mode::LinkInput { target, .. } => at(*target, false),
            _ => Here {
                request_id: self.current().filter(|_| self.show_detail).map(|r| r.id),
                composing: false,
            },
        }
    }

    /// Other operators on request `id`: those looking at it, those writing a reply to it.
    pub fn others_on(&self, id: Uuid) -> (Vec<&str>, Vec<&str>) {
        use crate::wire::presence::Activity;
        let on = |a: Activity| {
            self.presence
                .iter()
                .filter(|p| p.request_id == id && p.activity == a)
                .map(|p| p.user.as_str())
                .collect::<Vec<_>>()
        };
        (on(Activity::Viewing), on(Activity::Composing))
    }

    /// What an action works on: the marked requests, or the selected one.
    pub fn targets(&self, selected: Uuid) -> Vec<Request> {
        if self.marks.is_empty() {
            let mut out: Vec<Request> = self
                .rows
                .iter()
                .filter(|r| r.id == selected)
                .cloned()
                .collect();
            // An incident's action is its open members' too, each with its own variables
            // (one answer to all, one forward, one close).
            if let Some(d) = self
                .detail
                .as_ref()
                .filter(|d| d.request.id == selected && d.request.is_incident)
            {
                out.extend(
                    d.member_requests
                        .iter()
                        .filter(|m| m.status.is_open())
                        .cloned(),
                );
            }
            return out;
        }
        self.rows
            .iter()
            .filter(|r| self.marks.contains(&r.id))
            .cloned()
            .collect()
    }
}

/// One line of the `:` palette: an action, or a macro (its index in `App::macros`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaletteItem {
    Action(super::keymap::Action),
    Macro(usize),
}

/// A palette line's label, matched with its place in the list (labels may repeat).
struct Label<'a>(usize, &'a str);

impl AsRef<str> for Label<'_> {
    fn as_ref(&self) -> &str {
        self.1
    }
}

impl App {
    /// What this console's palette offers for `query` (`palette_matches`, narrowed for a
    /// department's console).
    pub fn palette(&self, query: &str) -> Vec<PaletteItem> {
        palette_matches(self.lang, &self.macros, query)
            .into_iter()
            .filter(|i| super::department_mode::in_palette(self, i))
            .collect()
    }
}

/// What the palette offers for `query`, best match first (all when empty: the actions in
/// keymap order, then the macros, each labelled «макрос: …» so `:макрос` lists them).
pub fn palette_matches(
    lang: super::strings::Lang,
    macros: &[crate::macros::Macro],
    query: &str,
) -> Vec<PaletteItem> {
    use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
    let items: Vec<(PaletteItem, String)> = super::keymap::Action::ALL
        .into_iter()
        .filter(|a| *a != super::keymap::Action::Palette)
        .map(|a| (PaletteItem::Action(a), lang.action(a).to_string()))
        .chain(
            macros
                .iter()
                .enumerate()
                .map(|(i, m)| (PaletteItem::Macro(i), lang.macro_name(m.title(lang)))),
        )
        .collect();
    if query.trim().is_empty() {
        return items.into_iter().map(|(item, _)| item).collect();
    }
    let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let labels = items
        .iter()
        .enumerate()
        .map(|(i, (_, l))| Label(i, l.as_str()));
    pattern
        .match_list(labels, &mut matcher)
        .into_iter()
        .map(|(label, _)| items[label.0].0)
        .collect()
}
