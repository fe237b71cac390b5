//! The dashboard's parts that only the wide screen (about 150×40 and up) has room for: load per
//! operator and department, today's topics and channels, the hourly intake chart.

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Cell, Paragraph, Row, Table};

use super::app::App;
use super::dashboard_view::{block, opt_span, pick, topic_label};
use super::strings::Lang;
use super::view::{bold, channel_short, style};
use crate::domain::dashboard::Dashboard;
use crate::present::names;
use crate::sanitize;

/// The department's name without the word every one of them starts with, so the part that
/// tells them apart fits the column.
fn department_label(app: &App, id: &str) -> String {
    let name = match app.catalog.department(id) {
        Some(d) => names::pick(&d.name, d.name_en.as_deref(), app.lang).to_string(),
        None => return sanitize::line(id),
    };
    ["Департамент ", "Department of "]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .map_or(name.clone(), str::to_string)
}

pub(super) fn operators(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(pick(app, "Операторы", "Operators").into());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let header = Row::new(vec![
        pick(app, "КТО", "WHO"),
        pick(app, "В РАБ.", "OPEN"),
        pick(app, "ОТВ.СЕГ", "TODAY"),
        pick(app, "МЕДИАНА", "MEDIAN"),
    ])
    .style(bold());
    let rows: Vec<Row> = d
        .operators
        .iter()
        .map(|o| {
            // Team mode: someone off shift still holding requests is what a lead must see.
            let off = app
                .team
                .as_ref()
                .and_then(|t| t.on_shift(&o.name))
                .is_some_and(|on| !on);
            let who = if off {
                let colour = if o.claimed > 0 {
                    app.theme.warn
                } else {
                    app.theme.muted
                };
                Cell::from(format!("○ {}", sanitize::line(&o.name))).style(style(app, colour))
            } else {
                Cell::from(sanitize::line(&o.name))
            };
            Row::new(vec![
                who,
                Cell::from(o.claimed.to_string()),
                Cell::from(o.replied_today.to_string()),
                Cell::from(opt_span(app, o.median_first_response)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(8),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

pub(super) fn departments(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(
        pick(
            app,
            "Департаменты (часы департамента)",
            "Departments (department clock)",
        )
        .into(),
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let header = Row::new(vec![
        pick(app, "ДЕПАРТАМЕНТ", "DEPARTMENT"),
        pick(app, "ЖДУТ", "WAIT"),
        pick(app, "УГРОЗА", "RISK"),
        pick(app, "ПРОСР.", "LATE"),
    ])
    .style(bold());
    let rows: Vec<Row> = d
        .departments
        .iter()
        .map(|dep| {
            Row::new(vec![
                Cell::from(department_label(app, &dep.name)),
                Cell::from(dep.waiting.to_string()),
                Cell::from(dep.at_risk.to_string()).style(if dep.at_risk > 0 {
                    style(app, app.theme.warn)
                } else {
                    Style::default()
                }),
                Cell::from(dep.overdue.to_string()).style(if dep.overdue > 0 {
                    style(app, app.theme.bad).add_modifier(Modifier::BOLD)
                } else {
                    Style::default()
                }),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(10),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

fn percent(n: u32, total: u32) -> String {
    if total == 0 {
        "—".into()
    } else {
        format!("{:.0}%", 100.0 * n as f64 / total as f64)
    }
}

fn share_lines(rows: Vec<(String, u32)>, total: u32, width: u16) -> Vec<Line<'static>> {
    let w = (width as usize).saturating_sub(11).max(4);
    rows.into_iter()
        .map(|(label, n)| {
            let label: String = label.chars().take(w).collect();
            Line::from(format!("{label:<w$} {n:>4} {:>5}", percent(n, total)))
        })
        .collect()
}

pub(super) fn topics(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(pick(app, "Темы, поступило сегодня", "Topics, received today").into());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let rows = d
        .topics
        .iter()
        .map(|(t, n)| (topic_label(app, t.as_deref()), *n))
        .collect();
    f.render_widget(
        Paragraph::new(share_lines(rows, d.intake_total(), inner.width)),
        inner,
    );
}

pub(super) fn channels(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let b = block(pick(app, "Каналы, сегодня", "Channels, today").into());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let rows = d
        .channels
        .iter()
        .map(|(c, n)| (format!("{} {}", channel_short(app, *c), c.as_str()), *n))
        .collect();
    f.render_widget(
        Paragraph::new(share_lines(rows, d.intake_total(), inner.width)),
        inner,
    );
}

/// Today's intake by hour beside the same weekday a week ago: the week-ago bar on the left of
/// each pair, today's on the right.
pub(super) fn intake(f: &mut Frame, app: &App, d: &Dashboard, area: Rect) {
    let local = d.now.with_timezone(&app.tz);
    let ago = (local - Duration::days(7)).format("%d.%m");
    let total_ago: u32 = d.intake_week_ago.iter().sum();
    let title = match app.lang {
        Lang::Ru => format!(
            "Поступило по часам: сегодня {} (правый столбик) · {ago} {total_ago} (левый)",
            d.intake_total()
        ),
        Lang::En => format!(
            "Received by hour: today {} (right bar) · {ago} {total_ago} (left)",
            d.intake_total()
        ),
    };
    let b = block(title);
    let inner = b.inner(area);
    f.render_widget(b, area);
    // Two bars an hour and a gap between hours, as wide as the screen allows.
    let bar = ((inner.width.saturating_sub(24)) / 48).clamp(1, 4);
    let groups: Vec<BarGroup> = (0..24)
        .map(|h| {
            BarGroup::default()
                .label(Line::from(format!("{h:02}")))
                .bars(&[
                    Bar::default()
                        .value(d.intake_week_ago[h] as u64)
                        .style(style(app, app.theme.muted)),
                    Bar::default()
                        .value(d.intake_today[h] as u64)
                        .style(style(app, app.theme.accent)),
                ])
        })
        .collect();
    let mut chart = BarChart::default()
        .bar_width(bar)
        .bar_gap(0)
        .group_gap(1)
        .value_style(bold().add_modifier(Modifier::REVERSED));
    for g in groups {
        chart = chart.data(g);
    }
    f.render_widget(chart, inner);
}
