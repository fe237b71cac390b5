//! Drawing the saved views: their tabs after the built-in ones, the views window (`v`) and
//! the name window (`V`). The team's views are marked `◆`, a view that no longer reads `⚠`,
//! and the view on screen `*` when its filter or sort was changed since it was saved.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::{App, View};
use super::popups::popup;
use super::saved::Pane;
use super::saved_keys::{Entry, What, entries};
use super::strings::Lang;
use super::view::{bold, style};
use crate::domain::views::{Numbered, Origin, SavedView};
use crate::sanitize;

/// Longest name a tab shows.
const TAB_NAME: usize = 20;

fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let kept: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// The saved views' tabs: (number, name, on screen).
pub(super) fn tabs(app: &App, active: Option<&(Numbered<'_>, bool)>) -> Vec<(usize, String, bool)> {
    app.saved
        .numbered()
        .iter()
        .map(|n| {
            let on = active.is_some_and(|(a, _)| a.number == n.number);
            let changed = on && active.is_some_and(|(_, c)| *c);
            let mark = if n.origin == Origin::Shared {
                "◆"
            } else {
                ""
            };
            let name = cut(&sanitize::line(&n.view.name), TAB_NAME);
            (
                n.number,
                format!("{mark}{name}{}", if changed { "*" } else { "" }),
                on,
            )
        })
        .collect()
}

/// What a view lists, in a few words: its base view (when given), its filter, its sort.
fn describe(lang: Lang, base: Option<View>, filter: &str, sort: crate::store::Sort) -> String {
    let mut parts = vec![];
    if let Some(base) = base {
        parts.push(lang.view(base).to_string());
    }
    if !filter.is_empty() {
        parts.push(sanitize::line(filter));
    }
    parts.push(
        match sort {
            crate::store::Sort::TimeLeft => lang.pick("по сроку", "by time left"),
            crate::store::Sort::Received => lang.pick("по поступлению", "by receipt"),
        }
        .to_string(),
    );
    parts.join(" · ")
}

fn row(app: &App, e: &Entry, width: usize) -> Line<'static> {
    let (mark, name, more) = match &e.what {
        What::BuiltIn(v) => (" ", app.lang.view(*v).to_string(), String::new()),
        What::Saved {
            origin,
            view,
            problem,
        } => {
            let mut more = match problem {
                Some(why) => why.clone(),
                // «Все» goes without saying.
                None => describe(
                    app.lang,
                    Some(view.base).filter(|b| *b != View::All),
                    &view.filter,
                    view.sort.into(),
                ),
            };
            if *origin == Origin::Shared {
                more.push_str(&format!(
                    " · {} {}",
                    app.lang.pick("команда,", "team,"),
                    sanitize::line(view.shared_by.as_deref().unwrap_or("?"))
                ));
            }
            let mark = match (problem, origin) {
                (Some(_), _) => "⚠",
                (None, Origin::Shared) => "◆",
                (None, Origin::Own) => " ",
            };
            (mark, sanitize::line(&view.name), more)
        }
    };
    let head = format!("{:>3} {mark} {:<22} ", e.number, cut(&name, 22));
    let room = width.saturating_sub(head.chars().count());
    Line::from(vec![
        Span::styled(head, bold()),
        Span::styled(cut(&more, room), style(app, app.theme.muted)),
    ])
}

fn name_of(e: Option<&Entry>) -> Option<&SavedView> {
    match e.map(|e| &e.what) {
        Some(What::Saved { view, .. }) => Some(view),
        _ => None,
    }
}

/// `v`: every view, the cursor's reversed; the keys (or what the next `x` does) below.
pub(super) fn list(f: &mut Frame, app: &App, area: Rect, pane: &Pane) {
    let rows = entries(app);
    let r = popup(area, 78, rows.len() as u16 + 2);
    f.render_widget(Clear, r);
    let room = r.height.saturating_sub(2) as usize;
    let selected = pane.selected.min(rows.len().saturating_sub(1));
    let start = selected.saturating_sub(room.saturating_sub(1));
    let width = r.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(start)
        .take(room)
        .map(|(i, e)| {
            let line = row(app, e, width);
            if i == selected {
                line.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    let lang = app.lang;
    let bottom = match (pane.confirm, name_of(rows.get(selected))) {
        (Some(_), Some(v)) if v.shared_by.is_some() => match lang {
            Lang::En => format!(
                " x again: take «{}» back from the team · Esc ",
                sanitize::line(&v.name)
            ),
            _ => format!(
                " x ещё раз — убрать «{}» из общих · Esc ",
                sanitize::line(&v.name)
            ),
        },
        (Some(_), Some(v)) => match lang {
            Lang::En => format!(" x again: delete «{}» · Esc ", sanitize::line(&v.name)),
            _ => format!(" x ещё раз — удалить «{}» · Esc ", sanitize::line(&v.name)),
        },
        _ if !pane.typed.is_empty() => format!(" № {}▏ Enter ", pane.typed),
        _ => format!(
            " {} ",
            lang.pick(
                "Enter/номер — перейти · x удалить · s поделиться (старший) · Esc",
                "Enter/number: switch · x delete · s share (lead) · Esc",
            )
        ),
    };
    let title = format!(
        " {} ",
        lang.pick("Виды · ◆ общие для команды", "Views · ◆ the team's")
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .title_bottom(cut(&bottom, width));
    f.render_widget(Paragraph::new(lines).block(block), r);
}

/// `V`: what is saved (the view, the filter, the sort) and the name being typed.
pub(super) fn save(f: &mut Frame, app: &App, area: Rect, input: &str) {
    let r = popup(area, 70, 4);
    f.render_widget(Clear, r);
    let lang = app.lang;
    let width = r.width.saturating_sub(2) as usize;
    let what = describe(lang, Some(app.view), &app.filter_line, app.sort);
    let lines = vec![
        Line::from(Span::styled(cut(&what, width), style(app, app.theme.muted))),
        Line::from(vec![
            Span::raw(lang.pick("Название: ", "Name: ")),
            Span::styled(format!("{}▏", sanitize::line(input)), bold()),
        ]),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", lang.pick("Сохранить вид", "Save the view")))
        .title_bottom(format!(
            " {} ",
            lang.pick("Enter сохранить · Esc отмена", "Enter save · Esc cancel")
        ));
    f.render_widget(Paragraph::new(lines).block(block), r);
}
