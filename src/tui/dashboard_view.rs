//! Drawing the dashboard. At 80×24 the essentials: the queue by time left with the hour's
//! forecast, counts, the breached and at-risk lists, the share within target and the
//! first-response times. From about 150×40 also operators, departments, today's topics and
//! channels, and the hourly intake against the same weekday a week ago.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Padding, Paragraph, Row, Table};

use super::app::App;
use super::dashboard_wide as wide;
use super::keymap::Action;
use super::strings::Lang;
use super::view::{bold, style};
use crate::domain::Status;
use crate::domain::dashboard::{Dashboard, Item, QUEUE_BUCKETS, ResponseTimes, Running};
use crate::present::names;
use crate::present::status::{self, Form};
use crate::sanitize;

pub(super) fn pick(app: &App, ru: &'static str, en: &'static str) -> &'static str {
    match app.lang {
        Lang::Ru => ru,
        Lang::En => en,
    }
}

/// Like the inbox's time-left column: `3ч12м`, `-0ч40м`, `2д4ч`.
fn span_of(app: &App, secs: i64) -> String {
    let m = secs / 60;
    let sign = if secs < 0 { "-" } else { "" };
    let a = m.abs();
    let (d, h, mm) = (a / 1440, (a % 1440) / 60, a % 60);
    match (app.lang, d > 0) {
        (Lang::Ru, true) => format!("{sign}{d}д{h}ч"),
        (Lang::Ru, false) => format!("{sign}{h}ч{mm:02}м"),
        (Lang::En, true) => format!("{sign}{d}d{h}h"),
        (Lang::En, false) => format!("{sign}{h}h{mm:02}m"),
    }
}

pub(super) fn opt_span(app: &App, secs: Option<u32>) -> String {
    secs.map_or_else(|| "—".to_string(), |s| span_of(app, s as i64))
}

/// A titled rule over the content, which keeps a column free on its right so the block beside
/// it does not run into it.
pub(super) fn block<'a>(title: String) -> Block<'a> {
    Block::default()
        .borders(Borders::TOP)
        .padding(Padding::right(1))
        .title(Span::styled(title, bold()))
}

pub(super) fn topic_label(app: &App, id: Option<&str>) -> String {
    let Some(id) = id else {
        return pick(app, "без темы", "no topic").to_string();
    };
    match app.catalog.topic(id) {
        Some(t) => names::pick(&t.name, t.name_en.as_deref(), app.lang).to_string(),
        None => sanitize::line(id),
    }
}

fn key_name(app: &App, a: Action) -> String {
    app.keymap.keys_of(a).into_iter().next().unwrap_or_default()
}

/// The dashboard over `area` (all but the status line).
pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let Some(board) = &app.dash.board else {
        let text = format!(
            "{} — {}",
            pick(app, "Панель смены", "Shift dashboard"),
            app.lang.loading()
        );
        f.render_widget(Paragraph::new(text), area);
        return;
    };
    let d = &board.dashboard;
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(1), Constraint::Min(3)])
        .split(area);
    title(f, app, d, &board.incidents, rows[0]);
    let body = rows[1];
    if body.width >= 150 && body.height >= 40 {
        wide(f, app, d, body);
    } else {
        narrow(f, app, d, body);
    }
}

fn title(
    f: &mut Frame,
    app: &App,
    d: &Dashboard,
    incidents: &[crate::store::dashboard::OpenIncident],
    area: Rect,
) {
    let mut spans = vec![
        Span::styled(
            format!(" {} ", pick(app, "ПАНЕЛЬ СМЕНЫ", "SHIFT DASHBOARD")),
            bold().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(format!(" {} {} · ", pick(app, "открыто", "open"), d.open())),
        Span::styled(
            format!("{} {}", pick(app, "просрочено", "breached"), d.breached),
            style(app, app.theme.bad).add_modifier(Modifier::BOLD),
        ),
        Span::raw(" · "),
        Span::styled(
            format!("{} {}", pick(app, "под угрозой", "at risk"), d.at_risk),
            style(app, app.theme.warn),
        ),
    ];
    // An incident is one in the numbers; how many citizens wait on incidents, said here.
    if !incidents.is_empty() {
        let citizens: usize = incidents.iter().map(|i| i.citizens).sum();
        spans.push(Span::styled(
            format!(
                " · ◆ {} {} ({} {citizens})",
                pick(app, "инцидентов", "incidents"),
                incidents.len(),
                pick(app, "заявителей", "citizens"),
            ),
            style(app, app.theme.accent),
        ));
    }
    let at = d.now.with_timezone(&app.tz).format("%H:%M:%S");
    spans.push(Span::styled(
        format!(" · {} {at}", pick(app, "на", "as of")),
        style(app, app.theme.muted),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn split(dir: Direction, area: Rect, c: &[Constraint]) -> Vec<Rect> {
    Layout::default()
        .direction(dir)
        .constraints(c.to_vec())
        .split(area)
        .to_vec()
}

/// Queue and figures on top, the two lists under them.
fn narrow(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let v = split(
        Direction::Vertical,
        area,
        &[Constraint::Length(11), Constraint::Min(3)],
    );
    top(f, app, d, v[0]);
    lists(f, app, d, v[1]);
}

fn top(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let h = split(
        Direction::Horizontal,
        area,
        &[Constraint::Length(28), Constraint::Min(40)],
    );
    queue(f, app, d, h[0]);
    let v = split(
        Direction::Vertical,
        h[1],
        &[Constraint::Length(3), Constraint::Min(3)],
    );
    counts(f, app, d, v[0]);
    targets(f, app, d, v[1]);
}

fn lists(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let h = split(
        Direction::Horizontal,
        area,
        &[Constraint::Percentage(50), Constraint::Percentage(50)],
    );
    let first = d.breached_list.len();
    list(
        f,
        app,
        format!("{} {}", pick(app, "Просрочено", "Breached"), d.breached),
        &d.breached_list,
        Some(app.dash.selected).filter(|s| *s < first),
        h[0],
    );
    list(
        f,
        app,
        format!("{} {}", pick(app, "Под угрозой", "At risk"), d.at_risk),
        &d.at_risk_list,
        app.dash.selected.checked_sub(first),
        h[1],
    );
}

/// 160×48: the narrow screen on the left half, the rest on the right, the chart under both.
fn wide(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let v = split(
        Direction::Vertical,
        area,
        &[Constraint::Min(20), Constraint::Length(16)],
    );
    let h = split(
        Direction::Horizontal,
        v[0],
        &[Constraint::Percentage(50), Constraint::Percentage(50)],
    );
    narrow(f, app, d, h[0]);
    let right = split(
        Direction::Vertical,
        h[1],
        &[Constraint::Length(11), Constraint::Min(3)],
    );
    let people = split(
        Direction::Horizontal,
        right[0],
        &[Constraint::Length(32), Constraint::Min(30)],
    );
    wide::operators(f, app, d, people[0]);
    wide::departments(f, app, d, people[1]);
    let shares = split(
        Direction::Horizontal,
        right[1],
        &[Constraint::Percentage(60), Constraint::Percentage(40)],
    );
    wide::topics(f, app, d, shares[0]);
    wide::channels(f, app, d, shares[1]);
    wide::intake(f, app, d, v[1]);
}

const QUEUE_LABELS: [(&str, &str); QUEUE_BUCKETS] = [
    ("просрочено", "breached"),
    ("до 15 мин", "≤ 15 min"),
    ("15–30 мин", "15–30 min"),
    ("30–60 мин", "30–60 min"),
    ("1–2 ч", "1–2 h"),
    ("2–4 ч", "2–4 h"),
    ("4–24 ч", "4–24 h"),
    ("больше суток", "over a day"),
];

fn queue(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(pick(app, "Очередь по времени", "Queue by time left").into());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let label_w = 13;
    let count_w = d.queue.iter().max().copied().unwrap_or(0).to_string().len() + 1;
    let bar_w = (inner.width as usize).saturating_sub(label_w + count_w + 1);
    let max = d.queue.iter().max().copied().unwrap_or(0).max(1) as usize;
    let mut lines: Vec<Line> = d
        .queue
        .iter()
        .zip(QUEUE_LABELS)
        .enumerate()
        .map(|(i, (n, (ru, en)))| {
            let st = match i {
                0 => style(app, app.theme.bad).add_modifier(Modifier::BOLD),
                1..=3 => style(app, app.theme.warn),
                _ => style(app, app.theme.ok),
            };
            let len = (*n as usize * bar_w).div_ceil(max);
            Line::from(vec![
                Span::raw(format!("{:<label_w$}", pick(app, ru, en))),
                Span::styled(format!("{:<bar_w$}", "█".repeat(len)), st),
                Span::raw(format!("{n:>count_w$}")),
            ])
        })
        .collect();
    if d.held > 0 {
        lines.push(Line::from(format!(
            "{:<label_w$}{:>w$}",
            pick(app, "на паузе", "held"),
            d.held,
            w = bar_w + count_w
        )));
    }
    lines.insert(
        0,
        Line::from(Span::styled(
            format!(
                "{}: {}",
                pick(app, "нарушится за час", "breach within 1 h"),
                d.forecast_hour
            ),
            style(app, app.theme.warn).add_modifier(Modifier::BOLD),
        )),
    );
    f.render_widget(Paragraph::new(lines), inner);
}

fn counts(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(pick(app, "По статусам", "By status").into());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let n = |s: Status| format!("{} {}", tile(app, s), d.count(s));
    let lines = vec![
        Line::from(format!(
            "{} · {} · {}",
            n(Status::New),
            n(Status::InWork),
            n(Status::WaitingDepartment),
        )),
        Line::from(format!(
            "{} · {} · {} {}",
            n(Status::WaitingCitizen),
            n(Status::Answered),
            pick(app, "закрыто сегодня", "closed today"),
            d.closed_today
        )),
    ];
    f.render_widget(Paragraph::new(lines), inner);
}

fn tile(app: &App, s: Status) -> &'static str {
    status::name(s, Form::Tile, app.lang)
}

fn targets(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(pick(app, "Первый ответ", "First response").into());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let share = |i: usize| {
        let s = d.within_target[i];
        match s.percent() {
            Some(p) => format!("{p:.0}% {}/{}", s.met, s.met + s.missed),
            None => "—".into(),
        }
    };
    let stat = |get: fn(&ResponseTimes) -> Option<u32>| -> Vec<String> {
        d.first_response
            .iter()
            .map(|r| opt_span(app, get(r)))
            .collect()
    };
    let row = |label: &'static str, cells: Vec<String>| {
        let mut v = vec![Cell::from(label)];
        v.extend(cells.into_iter().map(Cell::from));
        Row::new(v)
    };
    let rows = vec![
        row(
            pick(app, "в срок", "within target"),
            (0..3).map(share).collect(),
        ),
        row(pick(app, "среднее", "mean"), stat(|r| r.mean)),
        row(pick(app, "медиана", "median"), stat(|r| r.median)),
        row("p90", stat(|r| r.p90)),
    ];
    let header = Row::new(vec![
        "",
        pick(app, "сегодня", "today"),
        pick(app, "неделя", "week"),
        pick(app, "месяц", "month"),
    ])
    .style(bold());
    let widths = [
        Constraint::Length(13),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Min(8),
    ];
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

fn list(
    f: &mut Frame,
    app: &App,
    title: String,
    items: &[Item],
    selected: Option<usize>,
    area: Rect,
) {
    let b = block(title);
    let inner = b.inner(area);
    f.render_widget(b, area);
    if items.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                pick(app, "нет", "none"),
                style(app, app.theme.muted),
            )),
            inner,
        );
        return;
    }
    let visible = inner.height as usize;
    let skip = match selected {
        Some(s) if s >= visible => s + 1 - visible,
        _ => 0,
    };
    let now = crate::domain::dashboard::secs(app.now) as i64;
    let rows: Vec<Row> = items
        .iter()
        .enumerate()
        .skip(skip)
        .take(visible)
        .map(|(i, it)| {
            let left = it.due as i64 - now;
            let st = if left <= 0 {
                style(app, app.theme.bad).add_modifier(Modifier::BOLD)
            } else {
                style(app, app.theme.warn)
            };
            let clock = match it.running {
                Running::Department => pick(app, "деп", "dep"),
                Running::Resolution => pick(app, "реш", "res"),
                _ => pick(app, "отв", "1st"),
            };
            let row = Row::new(vec![
                Cell::from(it.number.to_string()),
                Cell::from(span_of(app, left)).style(st),
                Cell::from(clock),
                Cell::from(topic_label(app, it.topic.as_deref())),
                Cell::from(sanitize::line(it.assignee.as_deref().unwrap_or("—"))),
            ]);
            if selected == Some(i) {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(11),
        Constraint::Length(7),
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(if inner.width < 50 { 6 } else { 10 }),
    ];
    f.render_widget(Table::new(rows, widths).column_spacing(1), inner);
}

/// The status line's hint while the dashboard is shown.
pub fn hint(app: &App) -> String {
    let b = key_name(app, Action::Dashboard);
    match app.lang {
        Lang::Ru => format!("ПАНЕЛЬ · j/k выбрать · Enter открыть · {b}/Esc к списку · ? справка"),
        Lang::En => format!("DASHBOARD · j/k select · Enter open · {b}/Esc inbox · ? help"),
    }
}

/// The inbox status line's pointer to the dashboard.
pub fn inbox_hint(app: &App) -> String {
    let b = key_name(app, Action::Dashboard);
    match app.lang {
        Lang::Ru => format!(" · {b} панель"),
        Lang::En => format!(" · {b} dashboard"),
    }
}
