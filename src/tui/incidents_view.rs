//! `m`: the open incidents and the candidate groups, drawn over the inbox.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::App;
use super::shift_view::{centered, window};
use super::view::style;

pub(super) fn list(f: &mut Frame, app: &App, area: Rect, selected: usize) {
    let lang = app.lang;
    let r = centered(
        area,
        96,
        (app.groups.len().max(1) as u16 + 4).min(area.height.saturating_sub(2)),
    );
    let mut lines: Vec<Line> = vec![];
    if app.groups.is_empty() {
        lines.push(Line::from(lang.pick(
            "Ни инцидентов, ни возможных массовых обращений.",
            "No incidents and no candidate groups.",
        )));
    }
    let rows = window(
        selected,
        app.groups.len(),
        r.height.saturating_sub(4) as usize,
    );
    let width = r.width.saturating_sub(2) as usize;
    for (i, g) in app
        .groups
        .iter()
        .enumerate()
        .take(rows.end)
        .skip(rows.start)
    {
        let topic = app
            .catalog
            .topic(&g.topic)
            .map(|t| crate::present::names::pick(&t.name, t.name_en.as_deref(), lang).to_string())
            .unwrap_or_else(|| g.topic.clone());
        let (mark, head, colour) = match (&g.number, &g.title) {
            (Some(n), Some(t)) => (
                "◆",
                format!("{n} {}", crate::sanitize::line(t)),
                app.theme.accent,
            ),
            _ => (
                "◇",
                format!(
                    "{} · {}",
                    lang.pick("возможная группа", "candidate"),
                    crate::sanitize::line(&topic)
                ),
                app.theme.warn,
            ),
        };
        let mut text = format!(
            "{mark} {head} · {} · {} {} · {} {}",
            crate::sanitize::line(&g.place),
            g.citizens,
            lang.pick("заявит.", "citizens"),
            g.members.len(),
            lang.pick("обращ.", "requests"),
        );
        if !g.suggested.is_empty() {
            text.push_str(&format!(
                " · +{} {}",
                g.suggested.len(),
                lang.pick("похожих", "similar")
            ));
        }
        let text: String = text.chars().take(width).collect();
        let mut line = Line::from(Span::styled(text, style(app, colour)));
        if i == selected {
            line = line.style(style(app, app.theme.muted).add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        lang.pick(
            "Enter: показать · c: подтвердить группу · x: отклонить · a: добавить выбранное обращение · t: название · Esc",
            "Enter: show · c: confirm group · x: dismiss · a: add the selected request · t: title · Esc",
        ),
        style(app, app.theme.muted),
    )));
    let title = lang.pick(" Массовые обращения ", " Mass incidents ");
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
