//! `S`: the team's list, who is on shift and who marked them, drawn over the inbox or the
//! dashboard.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::App;
use super::shift_view::{centered, window};
use super::strings::Lang;
use super::view::style;

pub(super) fn staff(f: &mut Frame, app: &App, area: Rect, selected: usize) {
    let en = app.lang == Lang::En;
    let Some(team) = &app.team else {
        return;
    };
    let r = centered(
        area,
        72,
        (team.staff.len().max(1) as u16 + 4).min(area.height.saturating_sub(2)),
    );
    let mut lines: Vec<Line> = vec![];
    if team.staff.is_empty() {
        lines.push(Line::from(match (team.seen.is_some(), en) {
            (true, false) => "На сервере нет операторов.",
            (true, true) => "The server has no operators.",
            (false, false) => "Сервер ещё не ответил.",
            (false, true) => "The server has not answered yet.",
        }));
    }
    let rows = window(
        selected,
        team.staff.len(),
        r.height.saturating_sub(4) as usize,
    );
    for (i, s) in team
        .staff
        .iter()
        .enumerate()
        .take(rows.end)
        .skip(rows.start)
    {
        let colour = if s.on_shift {
            app.theme.ok
        } else {
            app.theme.muted
        };
        let mut spans = vec![
            Span::styled(
                format!(
                    "{} {:<16} ",
                    if s.on_shift { "●" } else { "○" },
                    crate::sanitize::line(&s.user)
                ),
                style(app, colour),
            ),
            Span::styled(
                format!("{:<12}", crate::present::names::shift(s.on_shift, app.lang)),
                style(app, colour),
            ),
        ];
        if s.lead {
            spans.push(Span::raw(if en { " lead" } else { " старший" }));
        }
        if let (Some(by), Some(at)) = (&s.marked_by, s.marked_at) {
            spans.push(Span::styled(
                format!(
                    " · {} {} {}",
                    if en {
                        "marked by"
                    } else {
                        "отметил(а)"
                    },
                    crate::sanitize::line(by),
                    at.with_timezone(&app.tz).format("%d.%m %H:%M")
                ),
                style(app, app.theme.muted),
            ));
        }
        let mut line = Line::from(spans);
        if i == selected {
            line = line.style(style(app, app.theme.muted).add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    lines.push(Line::from(""));
    if let Some(why) = &team.lost {
        let text = if en {
            format!("no answer from the server: {}", crate::sanitize::line(why))
        } else {
            "сервер не отвечает: список может быть устаревшим".into()
        };
        lines.push(Line::from(Span::styled(text, style(app, app.theme.bad))));
    } else {
        lines.push(Line::from(Span::styled(
            if en {
                "Space: on/off shift · Esc: close"
            } else {
                "Пробел: на смене / не на смене · Esc: закрыть"
            },
            style(app, app.theme.muted),
        )));
    }
    let title = if en {
        " Team · shift "
    } else {
        " Команда · смена "
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
