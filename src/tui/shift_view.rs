//! The alerts list (`w`) and the shift handover (`h`), drawn over the inbox or the dashboard.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::alerts::kind_short;
use super::app::App;
use super::handover::Pane;
use super::strings::Lang;
use super::view::{bold, style};
use crate::domain::sla::ClockState;
use crate::present::RequestView;
use crate::present::names;
use crate::present::status::{self, Form};
use crate::sanitize;
use crate::store::alerts::AlertKind;

/// A window of `w`×`h` in the middle of `area`, no larger than it.
pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width).max(10.min(area.width));
    let h = h.min(area.height).max(3.min(area.height));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The first `max` characters of a one-line text.
fn cut(s: &str, max: usize) -> String {
    let clean = sanitize::line(s);
    if clean.chars().count() <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Rows `first..` that fit `height`, keeping `selected` in sight.
pub(super) fn window(selected: usize, len: usize, height: usize) -> std::ops::Range<usize> {
    let height = height.max(1);
    let first = selected
        .saturating_sub(height - 1)
        .min(len.saturating_sub(height));
    first..(first + height).min(len)
}

pub(super) fn alerts(f: &mut Frame, app: &App, area: Rect, selected: usize) {
    let en = app.lang == Lang::En;
    let r = centered(
        area,
        100,
        (app.alerts.list.len().max(1) as u16 + 2).min(area.height.saturating_sub(2)),
    );
    let inner_w = r.width.saturating_sub(2) as usize;
    let list = &app.alerts.list;
    let mut lines: Vec<Line> = vec![];
    if list.is_empty() {
        lines.push(Line::from(if en {
            "No alerts since the console was opened."
        } else {
            "Предупреждений с открытия консоли нет."
        }));
    }
    let rows = window(selected, list.len(), r.height.saturating_sub(2) as usize);
    for (i, a) in list.iter().enumerate().take(rows.end).skip(rows.start) {
        let c = &a.crossing;
        let colour = match c.kind {
            AlertKind::Breached => app.theme.bad,
            _ => app.theme.warn,
        };
        let head = format!(
            "{} №{} {:<12} ",
            c.at.with_timezone(&app.tz).format("%H:%M"),
            c.number,
            kind_short(c.kind, en),
        );
        let who = c
            .assignee
            .as_deref()
            .map(sanitize::line)
            .unwrap_or_default();
        let room = inner_w.saturating_sub(head.chars().count() + who.chars().count() + 3);
        let mut spans = vec![
            Span::styled(head, style(app, colour).add_modifier(Modifier::BOLD)),
            Span::raw(cut(&c.text, room)),
        ];
        if !who.is_empty() {
            spans.push(Span::styled(
                format!(" · {who}"),
                style(app, app.theme.muted),
            ));
        }
        let mut line = Line::from(spans);
        if i == selected {
            line = line.style(Style::default().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    let title = if en {
        " Alerts · Enter opens the request · x clears the list · Esc closes "
    } else {
        " Предупреждения · Enter — открыть обращение · x — очистить · Esc — закрыть "
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}

fn local(app: &App, t: DateTime<Utc>) -> String {
    t.with_timezone(&app.tz).format("%d.%m %H:%M").to_string()
}

/// One listed request: number, time left (or over), topic, assignee, the start of the text.
fn request_line(app: &App, v: &RequestView, width: usize, selected: bool) -> Line<'static> {
    let left = v.minutes_left.map_or(String::new(), |m| {
        let late = m < 0 || v.clock_state == Some(ClockState::Breached);
        let (sign, m) = if late { ("-", m.abs()) } else { ("", m) };
        format!("{sign}{}:{:02}", m / 60, m % 60)
    });
    let colour = match v.clock_state {
        Some(ClockState::Breached) => app.theme.bad,
        Some(ClockState::AtRisk) => app.theme.warn,
        _ => app.theme.ok,
    };
    let topic = v
        .topic
        .as_deref()
        .and_then(|t| app.catalog.topic(t))
        .map(|t| names::pick(&t.name, t.name_en.as_deref(), app.lang).to_string())
        .unwrap_or_else(|| "—".into());
    let who = v
        .assignee
        .as_deref()
        .map(sanitize::line)
        .unwrap_or_else(|| "—".into());
    let head = format!("  №{} {left:>7} ", v.number);
    let mid = format!("{:<18} {:<10} ", cut(&topic, 18), cut(&who, 10));
    let room = width.saturating_sub(head.chars().count() + mid.chars().count());
    let line = Line::from(vec![
        Span::styled(head, style(app, colour).add_modifier(Modifier::BOLD)),
        Span::raw(mid),
        Span::raw(cut(&v.text, room)),
    ]);
    if selected {
        line.style(Style::default().add_modifier(Modifier::REVERSED))
    } else {
        line
    }
}

pub(super) fn handover(f: &mut Frame, app: &App, area: Rect, pane: &Pane) {
    let en = app.lang == Lang::En;
    // As tall as what it lists (two headings, the lists, the notes, blank lines), up to the screen.
    let wanted = pane.data.as_ref().map_or(1, |h| {
        7 + h.breached.len() + h.due_next_shift.len() + h.notes.len().min(12)
    }) as u16;
    let r = centered(area, 120, (wanted + 2).min(area.height.saturating_sub(2)));
    let width = r.width.saturating_sub(2) as usize;
    let height = r.height.saturating_sub(2) as usize;
    let title = if en {
        " Shift handover · Enter opens · r reads again · Esc closes "
    } else {
        " Передача смены · Enter — открыть · r — обновить · Esc — закрыть "
    };
    f.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(title);
    let Some(h) = &pane.data else {
        let text = if en { "Reading…" } else { "Читаю…" };
        f.render_widget(Paragraph::new(text).block(block), r);
        return;
    };
    let total: usize = h.open.values().sum();
    let by_status = h
        .open
        .iter()
        .map(|(s, n)| format!("{} {n}", status::name_of_key(s, Form::Count, app.lang)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut head: Vec<Line> = vec![
        Line::from(Span::styled(
            if en {
                format!(
                    "Now {} · next shift until {}",
                    local(app, h.at),
                    local(app, h.until)
                )
            } else {
                format!(
                    "Сейчас {} · следующая смена до {}",
                    local(app, h.at),
                    local(app, h.until)
                )
            },
            bold(),
        )),
        Line::from(if en {
            format!("Open: {total} ({by_status})")
        } else {
            format!("Открыто: {total} ({by_status})")
        }),
    ];
    // Requests first (they are what the next shift acts on); notes fill what room is left,
    // at least a few lines of it.
    let notes_room = (height / 3).clamp(3, 12).min(h.notes.len() + 1);
    let list_room = height.saturating_sub(head.len() + 2 + notes_room);
    let items = pane.items();
    let mut body: Vec<(Option<usize>, Line)> = vec![];
    let section = |title: String, colour| {
        Line::from(Span::styled(
            title,
            style(app, colour).add_modifier(Modifier::BOLD),
        ))
    };
    body.push((
        None,
        section(
            if en {
                format!("Already late: {}", h.breached.len())
            } else {
                format!("Срок уже нарушен: {}", h.breached.len())
            },
            app.theme.bad,
        ),
    ));
    for (i, v) in h.breached.iter().enumerate() {
        body.push((Some(i), request_line(app, v, width, i == pane.selected)));
    }
    body.push((
        None,
        section(
            if en {
                format!("Fall due during the next shift: {}", h.due_next_shift.len())
            } else {
                format!(
                    "Срок наступит в следующую смену: {}",
                    h.due_next_shift.len()
                )
            },
            app.theme.warn,
        ),
    ));
    for (j, v) in h.due_next_shift.iter().enumerate() {
        let i = h.breached.len() + j;
        body.push((Some(i), request_line(app, v, width, i == pane.selected)));
    }
    // Scroll the list so the selected request's line is in sight.
    let at = body
        .iter()
        .position(|(i, _)| *i == Some(pane.selected.min(items.len().saturating_sub(1))))
        .unwrap_or(0);
    let rows = window(at, body.len(), list_room);
    head.push(Line::from(""));
    head.extend(
        body.into_iter()
            .take(rows.end)
            .skip(rows.start)
            .map(|(_, l)| l),
    );
    head.push(Line::from(""));
    head.push(section(
        if en {
            format!("Notes from the shift that ends: {}", h.notes.len())
        } else {
            format!("Заметки уходящей смены: {}", h.notes.len())
        },
        app.theme.accent,
    ));
    // The newest notes matter most to whoever takes over.
    let shown = notes_room.saturating_sub(1);
    for n in h.notes.iter().rev().take(shown) {
        let lead = format!(
            "  №{} {} {}: ",
            n.number,
            n.at.with_timezone(&app.tz).format("%H:%M"),
            cut(&n.author, 12)
        );
        let room = width.saturating_sub(lead.chars().count());
        head.push(Line::from(vec![
            Span::styled(lead, style(app, app.theme.muted)),
            Span::raw(cut(&n.body, room)),
        ]));
    }
    f.render_widget(Paragraph::new(head).block(block), r);
}
