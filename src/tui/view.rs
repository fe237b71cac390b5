//! Drawing: everything comes from `App`; nothing here waits on anything. Citizen text passes
//! through `sanitize` before it reaches a cell.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::app::{App, Mode, View};
use super::keymap::Action;
use super::strings::Lang;
use crate::domain::request::{ClockKind, Direction as Dir};
use crate::domain::sla::ClockState;
use crate::domain::{Channel, Request};
use crate::sanitize;

fn style(app: &App, color: Color) -> Style {
    if app.color {
        Style::default().fg(color)
    } else {
        Style::default()
    }
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(area);
    header(f, app, rows[0]);
    let body = rows[1];
    if app.show_detail && app.current().is_some() {
        // Side by side on wide screens, stacked on an 80-column one.
        let (dir, split) = if body.width >= 140 {
            (
                Direction::Horizontal,
                [Constraint::Percentage(55), Constraint::Percentage(45)],
            )
        } else {
            (
                Direction::Vertical,
                [Constraint::Percentage(50), Constraint::Percentage(50)],
            )
        };
        let parts = Layout::default()
            .direction(dir)
            .constraints(split)
            .split(body);
        inbox(f, app, parts[0]);
        detail(f, app, parts[1]);
    } else {
        inbox(f, app, body);
    }
    status(f, app, rows[2]);
    match &app.mode {
        Mode::Help => help(f, app, area),
        Mode::Picker(_) => picker(f, app, area),
        Mode::Compose(_) => compose(f, app, area),
        Mode::Palette { .. } => palette(f, app, area),
        _ => {}
    }
}

fn header(f: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![];
    for (i, v) in View::ALL.iter().enumerate() {
        let label = format!(" {}:{} ", i + 1, app.lang.view(*v));
        spans.push(if *v == app.view {
            Span::styled(label, bold().add_modifier(Modifier::REVERSED))
        } else {
            Span::raw(label)
        });
    }
    if !app.filter_line.is_empty() {
        spans.push(Span::styled(
            format!(" / {}", sanitize::line(&app.filter_line)),
            style(app, Color::Cyan),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn channel_short(c: Channel) -> &'static str {
    match c {
        Channel::Telegram => "TG",
        Channel::Vk => "VK",
        Channel::Pos => "ПОС",
        Channel::Open311 => "311",
        Channel::Phone => "ТЕЛ",
        Channel::Email => "@",
        Channel::Manual => "РУЧ",
    }
}

/// Working time left on the active clock, short: `3ч12м`, `-0ч40м`, `2д4ч`.
pub fn time_left(app: &App, r: &Request) -> (String, Option<ClockState>) {
    let Some((_, clock)) = r.active_clock() else {
        return ("—".into(), None);
    };
    // The inbox shows wall-clock time left; working-time arithmetic is the detail's job.
    let left = clock.due - app.now;
    let m = left.num_minutes();
    let sign = if m < 0 { "-" } else { "" };
    let a = m.abs();
    let (d, h, mm) = (a / 1440, (a % 1440) / 60, a % 60);
    let text = match (app.lang, d > 0) {
        (Lang::Ru, true) => format!("{sign}{d}д{h}ч"),
        (Lang::Ru, false) => format!("{sign}{h}ч{mm:02}м"),
        (Lang::En, true) => format!("{sign}{d}d{h}h"),
        (Lang::En, false) => format!("{sign}{h}h{mm:02}m"),
    };
    (text, Some(clock.state(app.now)))
}

fn clock_color(app: &App, s: Option<ClockState>) -> Style {
    match s {
        Some(ClockState::Breached) => style(app, Color::Red).add_modifier(Modifier::BOLD),
        Some(ClockState::AtRisk) => style(app, Color::Yellow),
        Some(ClockState::Ok) => style(app, Color::Green),
        None => style(app, Color::DarkGray),
    }
}

fn inbox(f: &mut Frame, app: &App, area: Rect) {
    let block = Block::default().borders(Borders::TOP);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if app.rows.is_empty() {
        let text = if app.loading {
            app.lang.loading()
        } else {
            app.lang.empty()
        };
        f.render_widget(Paragraph::new(text), inner);
        return;
    }
    let visible = (inner.height as usize).saturating_sub(1);
    let scroll = if app.selected >= app.scroll + visible {
        app.selected + 1 - visible.max(1)
    } else {
        app.scroll.min(app.selected)
    };
    let wide = inner.width >= 120;
    let header: Vec<&str> = app.lang.header().to_vec();
    // Number, channel, time left, topic, status, assignee (and department when wide); the text
    // takes the rest.
    let fixed: &[u16] = if wide {
        &[11, 3, 8, 22, 16, 12, 16]
    } else {
        &[11, 3, 8, 12, 10, 8]
    };
    // A first line runs to hundreds of characters and the cell shows a few dozen: cut it before
    // sanitizing, measuring and laying it out, which took most of the inbox's drawing time
    // (benches/console.rs). Twice the columns leaves room for zero-width characters.
    let text_cols = (inner.width as usize)
        .saturating_sub(fixed.iter().map(|w| *w as usize + 1).sum())
        .max(10);
    let rows: Vec<Row> = app
        .rows
        .iter()
        .enumerate()
        .skip(scroll)
        .take(visible)
        .map(|(i, r)| {
            let (left, state) = time_left(app, r);
            let topic = r
                .topic
                .as_deref()
                .and_then(|t| app.catalog.topic(t))
                .map(|t| {
                    if app.lang == Lang::En {
                        t.name_en.clone().unwrap_or(t.name.clone())
                    } else {
                        t.name.clone()
                    }
                })
                .unwrap_or_default();
            let mut marks = String::new();
            if !r.attachments.is_empty() {
                marks.push('+');
            }
            if r.location.as_ref().is_some_and(|l| l.lat.is_some()) {
                marks.push('@');
            }
            let first = r.text.lines().next().unwrap_or("");
            let cut = first
                .char_indices()
                .nth(text_cols * 2)
                .map_or(first, |(i, _)| &first[..i]);
            let first_line = sanitize::line(cut);
            if app.marks.contains(&r.id) {
                marks.insert(0, '*');
            }
            let text = if marks.is_empty() {
                first_line
            } else {
                format!("{marks} {first_line}")
            };
            let mut cells = vec![
                Cell::from(r.number.to_string()),
                Cell::from(channel_short(r.channel)),
                Cell::from(left).style(clock_color(app, state)),
                Cell::from(sanitize::line(&topic)),
                Cell::from(app.lang.status(r.status)),
                Cell::from(sanitize::line(r.assignee.as_deref().unwrap_or(""))),
            ];
            if wide {
                cells.push(Cell::from(sanitize::line(
                    r.department.as_deref().unwrap_or(""),
                )));
            }
            cells.push(Cell::from(text));
            let row = Row::new(cells);
            if i == app.selected {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let mut widths: Vec<Constraint> = fixed.iter().map(|w| Constraint::Length(*w)).collect();
    let mut head = header[..6].to_vec();
    if wide {
        head.push(if app.lang == Lang::En {
            "DEPARTMENT"
        } else {
            "ДЕПАРТАМЕНТ"
        });
    }
    widths.push(Constraint::Min(10));
    head.push(header[6]);
    let table = Table::new(rows, widths)
        .header(Row::new(head).style(bold()))
        .column_spacing(1);
    f.render_widget(table, inner);
}

fn local(app: &App, t: DateTime<Utc>) -> String {
    t.with_timezone(&app.tz).format("%d.%m %H:%M").to_string()
}

fn detail(f: &mut Frame, app: &App, area: Rect) {
    let Some(r) = app.current() else { return };
    let block = Block::default()
        .borders(Borders::TOP | Borders::LEFT)
        .title(Span::styled(format!(" {} ", r.number), bold()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lang = app.lang;
    let en = lang == Lang::En;
    let mut lines: Vec<Line> = vec![];
    let dep = r
        .department
        .as_deref()
        .and_then(|d| app.catalog.department(d))
        .map(|d| {
            if en {
                d.name_en.clone().unwrap_or(d.name.clone())
            } else {
                d.name.clone()
            }
        })
        .unwrap_or("—".into());
    let topic = r
        .topic
        .as_deref()
        .and_then(|t| app.catalog.topic(t))
        .map(|t| {
            if en {
                t.name_en.clone().unwrap_or(t.name.clone())
            } else {
                t.name.clone()
            }
        })
        .unwrap_or("—".into());
    lines.push(Line::from(vec![
        Span::styled(
            format!(
                "{} · {} · ",
                channel_short(r.channel),
                lang.status(r.status)
            ),
            bold(),
        ),
        Span::raw(format!(
            "{} → {}",
            sanitize::line(&topic),
            sanitize::line(&dep)
        )),
    ]));
    let who = r
        .assignee
        .as_deref()
        .map(sanitize::line)
        .unwrap_or_else(|| "—".into());
    let citizen = r
        .citizen
        .as_deref()
        .map(sanitize::line)
        .unwrap_or_else(|| "—".into());
    lines.push(Line::from(format!(
        "{} {citizen} · {} {who} · {}",
        if en {
            "Citizen:"
        } else {
            "Заявитель:"
        },
        if en {
            "assignee:"
        } else {
            "исполнитель:"
        },
        lang.priority(r.priority)
    )));
    if let Some(l) = &r.location {
        let addr = l.address.as_deref().map(sanitize::line).unwrap_or_default();
        let link = l.map_link().unwrap_or_default();
        lines.push(Line::from(format!(
            "{} {addr} {link}",
            if en { "Where:" } else { "Где:" }
        )));
    }
    // All the clocks with their due times; the running one is coloured.
    let active = r.active_clock().map(|(k, _)| k);
    let mut clocks = vec![(
        ClockKind::FirstResponse,
        &r.first_response,
        if en { "1st answer" } else { "ответ" },
    )];
    if let Some(c) = &r.department_clock {
        clocks.push((
            ClockKind::Department,
            c,
            if en {
                "department"
            } else {
                "департамент"
            },
        ));
    }
    clocks.push((
        ClockKind::Resolution,
        &r.resolution,
        if en { "resolution" } else { "решение" },
    ));
    let mut spans = vec![];
    for (kind, c, name) in clocks {
        let state = c.state(app.now);
        let mark = if c.stopped.is_some() { "✓" } else { "" };
        let st = if Some(kind) == active {
            clock_color(app, Some(state))
        } else {
            Style::default()
        };
        spans.push(Span::styled(
            format!("{name} {} {mark}  ", local(app, c.due)),
            st,
        ));
    }
    lines.push(Line::from(spans));
    lines.push(Line::from(""));
    for l in sanitize::text(&r.text).lines() {
        lines.push(Line::from(l.to_string()));
    }
    for a in &r.attachments {
        use crate::domain::request::AttachmentState as S;
        let state = match (a.state, en) {
            (S::Stored, _) => a
                .local_path
                .as_deref()
                .map(sanitize::line)
                .unwrap_or_default(),
            (S::Pending, false) => "загружается".into(),
            (S::TooLarge, false) => "больше 20 МБ — не загружен".into(),
            (S::Failed, false) => "не загрузился".into(),
            (S::Pending, true) => "downloading".into(),
            (S::TooLarge, true) => "over 20 MB — not downloaded".into(),
            (S::Failed, true) => "download failed".into(),
        };
        lines.push(Line::from(Span::styled(
            format!("[{}] {state}", a.kind),
            style(app, Color::Cyan),
        )));
    }
    if let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) {
        lines.push(Line::from(""));
        let mut items: Vec<(DateTime<Utc>, Line)> = vec![];
        for m in &d.messages {
            let (arrow, st) = match m.direction {
                Dir::In => ("←", style(app, Color::White)),
                Dir::Out => ("→", style(app, Color::Cyan)),
            };
            let mut meta = m
                .delivery
                .map(|s| format!(" [{}]", s.as_str()))
                .unwrap_or_default();
            if m.edit_of.is_some() {
                meta.push_str(if en {
                    " (edited)"
                } else {
                    " (изменено)"
                });
            }
            items.push((
                m.at,
                Line::from(vec![
                    Span::styled(
                        format!(
                            "{} {arrow} {}{meta}: ",
                            local(app, m.at),
                            sanitize::line(&m.author)
                        ),
                        st,
                    ),
                    Span::raw(sanitize::line(&m.body)),
                ]),
            ));
        }
        for n in &d.notes {
            items.push((
                n.at,
                Line::from(Span::styled(
                    format!(
                        "{} # {}: {}",
                        local(app, n.at),
                        sanitize::line(&n.author),
                        sanitize::line(&n.body)
                    ),
                    style(app, Color::Yellow),
                )),
            ));
        }
        items.sort_by_key(|(at, _)| *at);
        lines.extend(items.into_iter().map(|(_, l)| l));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn status(f: &mut Frame, app: &App, area: Rect) {
    let mode = match &app.mode {
        Mode::Normal => {
            if app.readonly {
                "ПРОСМОТР"
            } else {
                ""
            }
        }
        Mode::Filter { .. } => "/",
        Mode::Picker(_) => "ВЫБОР",
        Mode::Compose(_) => "ТЕКСТ",
        Mode::Help => "?",
        Mode::Palette { .. } => ":",
        Mode::LinkInput { .. } => "D",
    };
    let mut left = vec![];
    if let Mode::LinkInput { input, .. } = &app.mode {
        left.push(Span::raw(app.lang.link_prompt()));
        left.push(Span::styled(format!("{}▏", sanitize::line(input)), bold()));
    } else if let Mode::Filter { input } = &app.mode {
        left.push(Span::raw(app.lang.filter_prompt()));
        left.push(Span::styled(format!("{}▏", sanitize::line(input)), bold()));
    } else if let Some(fl) = &app.flash {
        left.push(Span::styled(
            sanitize::line(&fl.text),
            if fl.error {
                style(app, Color::Red).add_modifier(Modifier::BOLD)
            } else {
                style(app, Color::Green)
            },
        ));
    } else {
        let more = if app.next.is_some() { "+" } else { "" };
        if !app.marks.is_empty() {
            let label = if app.lang == Lang::En {
                "marked"
            } else {
                "отмечено"
            };
            left.push(Span::styled(
                format!("{label}: {} · ", app.marks.len()),
                bold(),
            ));
        }
        left.push(Span::raw(format!("{mode} {}{more} · ? ", app.rows.len())));
        left.push(Span::raw(if app.lang == Lang::En {
            "help"
        } else {
            "справка"
        }));
    }
    let mut right = vec![];
    if !app.alarms.is_empty() {
        right.push(Span::styled(
            format!(" ⚠ {} ", app.alarms.len()),
            style(app, Color::Red).add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    if let Some(g) = &app.gateway {
        right.push(Span::raw(format!(" {g} ")));
    }
    right.push(Span::styled(
        app.now
            .with_timezone(&app.tz)
            .format(" %H:%M:%S")
            .to_string(),
        bold(),
    ));
    let right_w: u16 = right.iter().map(|s| s.width() as u16).sum();
    let parts = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Min(1), Constraint::Length(right_w)])
        .split(area);
    f.render_widget(Paragraph::new(Line::from(left)), parts[0]);
    f.render_widget(Paragraph::new(Line::from(right)), parts[1]);
}

fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(10);
    let h = h.min(area.height.saturating_sub(2)).max(3);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn help(f: &mut Frame, app: &App, area: Rect) {
    let entries: Vec<Line> = Action::ALL
        .iter()
        .map(|a| {
            Line::from(vec![
                Span::styled(
                    format!("{:>14}  ", app.keymap.keys_of(*a).join(" ")),
                    bold(),
                ),
                Span::raw(app.lang.action(*a)),
            ])
        })
        .collect();
    // Two columns when one does not fit (an 80×24 terminal).
    let two = entries.len() as u16 + 2 > area.height.saturating_sub(2);
    let r = if two {
        popup(area, area.width, entries.len().div_ceil(2) as u16 + 2)
    } else {
        popup(area, 70, entries.len() as u16 + 2)
    };
    f.render_widget(Clear, r);
    let title = if app.lang == Lang::En {
        " Keys (any key closes) "
    } else {
        " Клавиши (любая клавиша закроет) "
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if two {
        let half = entries.len().div_ceil(2);
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
            .split(inner);
        f.render_widget(Paragraph::new(entries[..half].to_vec()), cols[0]);
        f.render_widget(Paragraph::new(entries[half..].to_vec()), cols[1]);
    } else {
        f.render_widget(Paragraph::new(entries), inner);
    }
}

fn picker(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Picker(p) = &app.mode else { return };
    let visible = p.visible();
    let r = popup(area, 60, (visible.len() as u16 + 4).min(20));
    f.render_widget(Clear, r);
    let mut lines = vec![Line::from(vec![
        Span::raw("> "),
        Span::styled(format!("{}▏", sanitize::line(&p.query)), bold()),
    ])];
    let room = r.height.saturating_sub(3) as usize;
    let start = p.selected.saturating_sub(room.saturating_sub(1));
    for (i, (_, label)) in visible.iter().enumerate().skip(start).take(room) {
        let st = if i == p.selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(format!(" {label}"), st)));
    }
    let title = format!(" {} · {} ", app.lang.picker(p.kind), app.lang.picker_keys());
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}

fn compose(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Compose(c) = &app.mode else { return };
    let r = popup(area, 100, 20);
    f.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(format!(
        " {} · {} · {} ",
        app.lang.compose(c.kind),
        c.number,
        app.lang.compose_keys()
    ));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Percentage(55),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .split(inner);
    f.render_widget(&c.editor, parts[0]);
    let preview = c.preview();
    let units = crate::channels::split::utf16_units(&preview);
    let counter = match c.limit {
        Some(limit) => {
            let parts_n =
                crate::channels::split::split(&preview, limit, crate::channels::split::utf16_units)
                    .len()
                    .max(1);
            let over = if parts_n > 1 {
                if app.lang == Lang::En {
                    format!(" — will go as {parts_n} messages")
                } else {
                    format!(" — уйдёт {parts_n} сообщениями")
                }
            } else {
                String::new()
            };
            format!("{units}/{limit}{over}")
        }
        None => format!("{units}"),
    };
    f.render_widget(
        Paragraph::new(Span::styled(counter, style(app, Color::DarkGray))),
        parts[1],
    );
    let title = if app.lang == Lang::En {
        "The citizen will see:"
    } else {
        "Заявитель увидит:"
    };
    let mut lines = vec![Line::from(Span::styled(title, bold()))];
    lines.extend(
        sanitize::text(&preview)
            .lines()
            .map(|l| Line::from(l.to_string())),
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), parts[2]);
}

fn palette(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Palette { query, selected } = &app.mode else {
        return;
    };
    let matches = super::app::palette_matches(app.lang, query);
    let r = popup(area, 60, (matches.len() as u16 + 3).min(18));
    f.render_widget(Clear, r);
    let mut lines = vec![Line::from(vec![
        Span::raw(": "),
        Span::styled(format!("{}▏", sanitize::line(query)), bold()),
    ])];
    let room = r.height.saturating_sub(3) as usize;
    let start = selected.saturating_sub(room.saturating_sub(1));
    for (i, a) in matches.iter().enumerate().skip(start).take(room) {
        let st = if i == *selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let keys = app.keymap.keys_of(*a).join(" ");
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<40}", app.lang.action(*a)), st),
            Span::styled(keys, style(app, Color::DarkGray)),
        ]));
    }
    let title = if app.lang == Lang::En {
        " Commands · type to search · Enter runs "
    } else {
        " Команды · печатайте для поиска · Enter выполнить "
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
