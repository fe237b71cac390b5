//! Drawing: everything comes from `App`; nothing here waits on anything. Citizen text passes
//! through `sanitize` before it reaches a cell.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::app::{App, Mode, View};
use super::strings::Lang;
use crate::domain::sla::ClockState;
use crate::domain::{Channel, Request};
use crate::present::channel::{self, Width};
use crate::present::names;
use crate::sanitize;
use crate::store::Sort;

use super::popups;

pub(super) fn style(_app: &App, color: Option<Color>) -> Style {
    super::theme::Theme::fg(color)
}

pub(super) fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn draw(f: &mut Frame, app: &App) {
    draw_with_photo_slot(f, app);
}

/// Draws the screen and returns where the card leaves room for the request's photo (only
/// when one is downloaded and the card is tall enough; the photo itself is drawn by the
/// caller, which owns the image state).
pub fn draw_with_photo_slot(f: &mut Frame, app: &App) -> Option<Rect> {
    let area = f.area();
    let mut slot = None;
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(area);
    if app.dash.shown {
        super::dashboard_view::draw(f, app, rows[0].union(rows[1]));
        status(f, app, rows[2]);
        windows(f, app, area);
        return None;
    }
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
        slot = super::card::detail(f, app, parts[1]);
    } else {
        inbox(f, app, body);
    }
    status(f, app, rows[2]);
    windows(f, app, area);
    // A window over the card would be drawn over by the photo.
    slot.filter(|_| matches!(app.mode, Mode::Normal | Mode::Filter { .. }))
}

fn windows(f: &mut Frame, app: &App, area: Rect) {
    match &app.mode {
        Mode::Help => popups::help(f, app, area),
        Mode::Alarms => popups::alarms(f, app, area),
        Mode::Picker(_) => popups::picker(f, app, area),
        Mode::Tags(_) => super::tags::draw(f, app, area),
        Mode::Compose(_) => super::compose_view::compose(f, app, area),
        Mode::Palette { .. } => popups::palette(f, app, area),
        Mode::Alerts { selected } => super::shift_view::alerts(f, app, area, *selected),
        Mode::Shift { selected } => super::team_view::staff(f, app, area, *selected),
        // The list stays in sight while an incident's title is typed.
        Mode::Incidents { selected } | Mode::IncidentTitle { selected, .. } => {
            super::incidents_view::list(f, app, area, *selected)
        }
        Mode::Handover(p) => super::shift_view::handover(f, app, area, p),
        Mode::Unreachable { targets } => super::undelivered::confirm_window(f, app, area, targets),
        Mode::Views(pane) => super::saved_view::list(f, app, area, pane),
        Mode::SaveView { input } => super::saved_view::save(f, app, area, input),
        _ => {}
    }
}

/// The view tabs, then the active filter and the sort, which must always show. When the line
/// is too narrow (80 columns) the less important parts give way first: the other views'
/// names, the other views, the words «сорт:» and «фильтр:», then the sort; the filter is cut
/// only when it alone is wider than the line.
fn header(f: &mut Frame, app: &App, area: Rect) {
    let width = area.width as usize;
    let lang = app.lang;
    let (sort, short) = match app.sort {
        Sort::TimeLeft => (
            lang.pick("по сроку", "by time left"),
            "↓".to_string() + lang.pick("срок", "left"),
        ),
        Sort::Received => (
            lang.pick("по поступлению", "by receipt"),
            "↓".to_string() + lang.pick("поступл.", "received"),
        ),
    };
    let filter = sanitize::line(&app.filter_line);
    // Tabs: 0 all named, 1 only the active one named, 2 only the active one. The saved views
    // follow the built-in ones in their numbers (tui/saved.rs).
    let active = super::saved::active(app);
    let mut named: Vec<(usize, String, bool)> = View::ALL
        .iter()
        .map(|v| {
            (
                v.number(),
                lang.view(*v).to_string(),
                active.is_none() && *v == app.view,
            )
        })
        .collect();
    named.extend(super::saved_view::tabs(app, active.as_ref()));
    let tabs = |level: u8| -> Vec<Span> {
        let mut spans = vec![];
        for (n, name, on) in &named {
            if *on {
                spans.push(Span::styled(
                    format!(" {n}:{name} "),
                    bold().add_modifier(Modifier::REVERSED),
                ));
            } else if level == 0 {
                spans.push(Span::raw(format!(" {n}:{name} ")));
            } else if level == 1 {
                spans.push(Span::raw(format!(" {n} ")));
            }
        }
        spans
    };
    // Words: 2 «фильтр:» and «сорт:», 1 neither, 0 no sort at all.
    let state = |words: u8, filter: &str| -> Vec<Span> {
        let mut spans = vec![Span::styled(" │ ", style(app, app.theme.muted))];
        if !filter.is_empty() {
            spans.push(Span::raw(if words == 2 {
                lang.pick("фильтр: ", "filter: ")
            } else {
                "/ "
            }));
            spans.push(Span::styled(
                filter.to_string(),
                style(app, app.theme.accent).add_modifier(Modifier::BOLD),
            ));
        }
        if words > 0 {
            if !filter.is_empty() {
                spans.push(Span::raw(" · "));
            }
            if words == 2 {
                spans.push(Span::raw(lang.pick("сорт: ", "sort: ")));
                spans.push(Span::raw(sort));
            } else {
                spans.push(Span::raw(short.clone()));
            }
        }
        spans
    };
    let wide = |spans: &[Span]| spans.iter().map(Span::width).sum::<usize>();
    for (level, words) in [(0, 2), (1, 2), (2, 2), (2, 1), (2, 0)] {
        let mut spans = tabs(level);
        spans.extend(state(words, &filter));
        if wide(&spans) <= width || (filter.is_empty() && words == 1) {
            f.render_widget(Paragraph::new(Line::from(spans)), area);
            return;
        }
    }
    // The filter alone is wider than the line: as much of it as fits, and `…`.
    let mut spans = tabs(2);
    let room = width.saturating_sub(wide(&spans) + wide(&state(0, "/")));
    let cut: String = filter.chars().take(room).collect();
    spans.extend(state(0, &format!("{cut}…")));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `⇅ синхр. 18:02:11` online (the last sync, labelled so it is not read as the clock beside
/// it), `⇅ нет связи · ждут 5` offline, with what waits to be sent.
fn sync_badge<'a>(app: &App, s: &crate::sync::runner::SyncStatus) -> Span<'a> {
    let en = app.lang == Lang::En;
    let waiting = if s.pending > 0 {
        format!(" · {} {}", if en { "waiting" } else { "ждут" }, s.pending)
    } else {
        String::new()
    };
    if s.online {
        let at = s
            .last_ok
            .map(|t| t.with_timezone(&app.tz).format("%H:%M:%S").to_string())
            .unwrap_or_default();
        Span::raw(format!(
            " ⇅ {} {at}{waiting} ",
            if en { "synced" } else { "синхр." }
        ))
    } else {
        Span::styled(
            format!(" ⇅ {}{waiting} ", if en { "offline" } else { "нет связи" }),
            style(app, app.theme.warn).add_modifier(Modifier::BOLD),
        )
    }
}

/// A channel in the inbox's three-letter column.
pub fn channel_short(app: &App, c: Channel) -> &'static str {
    channel::name(c, Width::Column, app.lang)
}

/// Working time left on the active clock, short: `3ч12м`, `-0ч40м`, `2д4ч`.
pub fn time_left(app: &App, r: &Request) -> (String, Option<ClockState>) {
    let clock = if app.department.is_some() {
        crate::domain::department::queue_clock(r)
    } else {
        r.active_clock()
    };
    let Some((_, clock)) = clock else {
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

pub(super) fn clock_color(app: &App, s: Option<ClockState>) -> Style {
    match s {
        Some(ClockState::Breached) => style(app, app.theme.bad).add_modifier(Modifier::BOLD),
        Some(ClockState::AtRisk) => style(app, app.theme.warn),
        Some(ClockState::Ok) => style(app, app.theme.ok),
        None => style(app, app.theme.muted),
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
            let suggested = r
                .topic
                .is_none()
                .then(|| super::suggest::inbox_cell(app, r.id))
                .flatten();
            let topic = r
                .topic
                .as_deref()
                .and_then(|t| app.catalog.topic(t))
                .map(|t| names::pick(&t.name, t.name_en.as_deref(), app.lang).to_string())
                .unwrap_or_default();
            let mut marks = String::new();
            if !r.attachments.is_empty() {
                marks.push('+');
            }
            if r.location.as_ref().is_some_and(|l| l.lat.is_some()) {
                marks.push('@');
            }
            if let Some(m) = super::incidents::row_mark(app, r) {
                marks.insert_str(0, &m);
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
            // Someone else on it: one character in front, the names are in the card.
            let text = match presence_mark(app, r.id) {
                Some((mark, st)) => {
                    Line::from(vec![Span::styled(mark, st), Span::raw(format!(" {text}"))])
                }
                None => Line::from(text),
            };
            let mut cells = vec![
                Cell::from(r.number.to_string()),
                Cell::from(super::incidents::channel_cell(app, r)),
                time_cell(app, r, left, state),
                match &suggested {
                    // A suggestion, not a topic: dimmed and marked, so nobody takes it for one.
                    Some(s) => Cell::from(Span::styled(
                        sanitize::line(s),
                        style(app, app.theme.muted).add_modifier(Modifier::ITALIC),
                    )),
                    None => Cell::from(sanitize::line(&topic)),
                },
                Cell::from(if r.department_answer_waiting() {
                    app.lang.pick("ответ деп.", "dept ans.")
                } else {
                    app.lang.status(r.status)
                }),
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

/// Time left, after `✗` in the bad colour when the citizen did not get the reply (the clock
/// runs on: it is theirs to settle), or a quiet `…` while a reply is on its way.
fn time_cell<'a>(app: &App, r: &Request, left: String, state: Option<ClockState>) -> Cell<'a> {
    if r.undelivered() {
        let bad = style(app, app.theme.bad).add_modifier(Modifier::BOLD);
        return Cell::from(format!("✗{left}")).style(bad);
    }
    if r.reply.is_some() {
        return Cell::from(Line::from(vec![
            Span::styled("…", style(app, app.theme.muted)),
            Span::styled(left, clock_color(app, state)),
        ]));
    }
    Cell::from(left).style(clock_color(app, state))
}

/// `✎` someone else is writing a reply to it, `◉` someone else has its card open.
fn presence_mark(app: &App, id: uuid::Uuid) -> Option<(&'static str, Style)> {
    let (viewing, composing) = app.others_on(id);
    if !composing.is_empty() {
        Some(("✎", style(app, app.theme.warn).add_modifier(Modifier::BOLD)))
    } else if !viewing.is_empty() {
        Some(("◉", style(app, app.theme.accent)))
    } else {
        None
    }
}

/// Names from the server, for one line.
pub(super) fn names(people: &[&str]) -> String {
    people
        .iter()
        .map(|n| sanitize::line(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn status(f: &mut Frame, app: &App, area: Rect) {
    let mode = match &app.mode {
        Mode::Normal => {
            if app.readonly {
                "ПРОСМОТР"
            } else if app.department.is_some() {
                app.lang.pick("ДЕПАРТАМЕНТ", "DEPARTMENT")
            } else {
                ""
            }
        }
        Mode::Filter { .. } => "/",
        Mode::Picker(_) | Mode::Tags(_) => "ВЫБОР",
        Mode::Compose(_) => "ТЕКСТ",
        Mode::Help => "?",
        Mode::Alarms => "!",
        Mode::Alerts { .. } => "W",
        Mode::Shift { .. } => "S",
        Mode::Incidents { .. } | Mode::IncidentTitle { .. } => "M",
        Mode::Handover(_) => "H",
        Mode::Palette { .. } => ":",
        Mode::LinkInput { .. } => "D",
        Mode::Unreachable { .. } => "?",
        Mode::Views(_) | Mode::SaveView { .. } => "V",
    };
    let mut left = vec![];
    if let Mode::LinkInput { input, merge, .. } = &app.mode {
        left.push(Span::raw(app.lang.link_prompt(*merge)));
        left.push(Span::styled(format!("{}▏", sanitize::line(input)), bold()));
    } else if let Mode::IncidentTitle { input, .. } = &app.mode {
        left.push(Span::raw(
            app.lang.pick("Название инцидента: ", "Incident title: "),
        ));
        left.push(Span::styled(format!("{}▏", sanitize::line(input)), bold()));
    } else if let Mode::Filter { input } = &app.mode {
        left.push(Span::raw(app.lang.filter_prompt()));
        left.push(Span::styled(format!("{}▏", sanitize::line(input)), bold()));
    } else if let Some(fl) = &app.flash {
        left.push(Span::styled(
            sanitize::line(&fl.text),
            if fl.error {
                style(app, app.theme.bad).add_modifier(Modifier::BOLD)
            } else {
                style(app, app.theme.ok)
            },
        ));
    } else if app.dash.shown {
        if app.readonly {
            left.push(Span::raw(format!("{mode} · ")));
        }
        left.push(Span::raw(super::dashboard_view::hint(app)));
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
        left.push(Span::raw(super::dashboard_view::inbox_hint(app)));
    }
    let mut right = vec![];
    let unseen = app.alerts.unseen();
    if unseen > 0 {
        right.push(Span::styled(
            format!(" ⚑ {unseen} "),
            style(app, app.theme.warn).add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    if !app.alarms.is_empty() {
        right.push(Span::styled(
            format!(" ⚠ {} ", app.alarms.len()),
            style(app, app.theme.bad).add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    // A team console that lost the server can't vouch for the channels it last heard of.
    let stale = app.team.as_ref().is_some_and(|t| t.lost.is_some());
    for h in &app.health {
        let badge = if stale {
            format!("{} ?", crate::present::health::label(h, app.lang))
        } else {
            crate::present::health::badge(h, app.now, app.lang)
        };
        right.push(Span::raw(format!(" {badge} ")));
    }
    if let Some(s) = &app.sync {
        right.push(sync_badge(app, s));
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
