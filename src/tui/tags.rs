//! `l`: tags are picked, not typed as free lines. Typed lines made Enter mean "new line" here
//! and "choose" in every other picker, so a note typed next was saved as tags. The picker
//! lists the tags already in use (on the loaded rows and the card; no store query), filters as
//! one types, and Enter adds or removes the highlighted tag (or adds a name nobody used yet)
//! and closes, as Enter does in every picker: what is typed next never lands here.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use uuid::Uuid;

use super::app::{App, Mode};
use super::request_keys::{edit_line, mutation};
use super::update::Cmd;
use super::view::{bold, style};
use crate::domain::mutation::Op;
use crate::sanitize;

/// One request the picker works on, with its tags as this picker last set them.
pub struct TagTarget {
    pub id: Uuid,
    pub number: String,
    pub tags: BTreeSet<String>,
}

pub struct TagPicker {
    pub targets: Vec<TagTarget>,
    /// Tags seen on the loaded rows and the card.
    pub known: BTreeSet<String>,
    pub query: String,
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagItem {
    /// A tag in use, and on how many of the targets it is.
    Known { tag: String, on: usize },
    /// The typed name, which no request carries yet.
    New(String),
}

impl TagPicker {
    /// The typed name as the store keeps tags: one lower-case word (`#` and `+` are how
    /// operators write tags elsewhere, not part of them).
    fn typed(&self) -> String {
        self.query
            .trim()
            .trim_start_matches(['#', '+'])
            .to_lowercase()
    }

    pub fn items(&self) -> Vec<TagItem> {
        let q = self.typed();
        let on = |t: &str| self.targets.iter().filter(|x| x.tags.contains(t)).count();
        let mut all: BTreeSet<&String> = self.known.iter().collect();
        all.extend(self.targets.iter().flat_map(|t| t.tags.iter()));
        let mut items: Vec<TagItem> = all
            .into_iter()
            .filter(|t| t.contains(&q))
            .map(|t| TagItem::Known {
                tag: t.clone(),
                on: on(t),
            })
            .collect();
        // The request's own tags first: they are the ones to see and to remove.
        items.sort_by_key(|i| matches!(i, TagItem::Known { on: 0, .. }));
        let exact = items
            .iter()
            .any(|i| matches!(i, TagItem::Known { tag, .. } if *tag == q));
        if !q.is_empty() && !exact {
            items.push(TagItem::New(q));
        }
        items
    }
}

/// Opens the picker on the marked requests, or the selected one.
pub(super) fn open(app: &mut App, selected: Uuid) -> Vec<Cmd> {
    let targets = app
        .targets(selected)
        .into_iter()
        .map(|r| TagTarget {
            id: r.id,
            number: r.number.to_string(),
            tags: r.tags,
        })
        .collect();
    let mut known: BTreeSet<String> = app.rows.iter().flat_map(|r| r.tags.clone()).collect();
    if let Some(d) = &app.detail {
        known.extend(d.request.tags.iter().cloned());
    }
    app.mode = Mode::Tags(Box::new(TagPicker {
        targets,
        known,
        query: String::new(),
        selected: 0,
    }));
    vec![]
}

pub(super) fn key(app: &mut App, k: KeyEvent, mut p: Box<TagPicker>) -> Vec<Cmd> {
    let items = p.items();
    match k.code {
        KeyCode::Esc => return vec![],
        KeyCode::Up => p.selected = p.selected.saturating_sub(1),
        KeyCode::Down => p.selected = (p.selected + 1).min(items.len().saturating_sub(1)),
        KeyCode::Enter => match items.get(p.selected) {
            Some(TagItem::Known { tag, on }) if *on == p.targets.len() => {
                return set(app, &p, tag, false);
            }
            Some(TagItem::Known { tag, .. } | TagItem::New(tag)) => return set(app, &p, tag, true),
            None => {}
        },
        KeyCode::Delete => {
            if let Some(TagItem::Known { tag, on }) = items.get(p.selected)
                && *on > 0
            {
                return set(app, &p, tag, false);
            }
        }
        _ => {
            // Tags are one word: a space or a comma could never be stored.
            let word = |c: char| !c.is_whitespace() && c != ',';
            if edit_line(&mut p.query, k, word) {
                p.selected = 0;
            }
        }
    }
    app.mode = Mode::Tags(p);
    vec![]
}

/// Adds `tag` to each target lacking it (or removes it from each that has it), one command
/// per request so a refusal on one holds back none of the others; marks are spent.
fn set(app: &mut App, p: &TagPicker, tag: &str, add: bool) -> Vec<Cmd> {
    let cmds: Vec<Cmd> = p
        .targets
        .iter()
        .filter(|t| t.tags.contains(tag) != add)
        .map(|t| {
            let tag = tag.to_string();
            let op = if add {
                Op::Tag { tag }
            } else {
                Op::Untag { tag }
            };
            Cmd::Apply(vec![mutation(app, t.id, op)])
        })
        .collect();
    super::bulk::start(app, app.lang.pick("Метки", "Tags"), &cmds);
    app.marks.clear();
    cmds
}

pub(super) fn draw(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Tags(p) = &app.mode else { return };
    let lang = app.lang;
    let items = p.items();
    let r = super::popups::popup(area, 70, (items.len() as u16 + 5).clamp(8, 20));
    f.render_widget(Clear, r);
    let numbers: Vec<&str> = p.targets.iter().map(|t| t.number.as_str()).collect();
    let title = format!(
        " {} · {} ",
        lang.pick("Метки", "Tags"),
        lang.targets(&numbers, r.width.saturating_sub(12) as usize)
    );
    let keys = lang.pick(
        " печатайте: поиск или новая · Enter добавить/убрать · Esc отмена ",
        " type to search or name a new one · Enter add/remove · Esc cancel ",
    );
    let current: BTreeSet<&String> = p.targets.iter().flat_map(|t| t.tags.iter()).collect();
    let has = if current.is_empty() {
        lang.pick("меток нет", "no tags").to_string()
    } else {
        current
            .iter()
            .map(|t| sanitize::line(t))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(lang.pick("Сейчас: ", "Now: "), style(app, app.theme.muted)),
            Span::raw(has),
        ]),
        Line::from(vec![
            Span::raw("> "),
            Span::styled(format!("{}▏", sanitize::line(&p.query)), bold()),
        ]),
    ];
    let room = r.height.saturating_sub(4) as usize;
    let start = p.selected.saturating_sub(room.saturating_sub(1));
    let all = p.targets.len();
    for (i, item) in items.iter().enumerate().skip(start).take(room) {
        let st = if i == p.selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let text = match item {
            TagItem::Known { tag, on } if *on == all => format!(" ✓ {}", sanitize::line(tag)),
            TagItem::Known { tag, on: 0 } => format!("   {}", sanitize::line(tag)),
            TagItem::Known { tag, on } => format!(" ◐ {} ({on}/{all})", sanitize::line(tag)),
            TagItem::New(tag) => format!(
                " + {} «{}»",
                lang.pick("новая метка", "new tag"),
                sanitize::line(tag)
            ),
        };
        lines.push(Line::from(Span::styled(text, st)));
    }
    if items.is_empty() {
        lines.push(Line::from(Span::styled(
            lang.pick(
                "   меток ещё нет — напечатайте название",
                "   no tags yet — type a name",
            ),
            style(app, app.theme.muted),
        )));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .title_bottom(keys);
    f.render_widget(Paragraph::new(lines).block(block), r);
}
