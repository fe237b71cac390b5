//! The composer: the text, its counter against the channel's limit, and what becomes of it —
//! for a reply exactly what the citizen will read; for a note, a department's answer or a
//! forward's note a line saying the citizen never sees it (only the reply goes to them).

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, ComposeTarget, Mode};
use super::popups::popup;
use super::strings::Lang;
use super::view::{bold, names, style};
use crate::sanitize;

pub(super) fn compose(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Compose(c) = &app.mode else { return };
    let r = popup(area, 100, 26);
    f.render_widget(Clear, r);
    // Says which requests the text goes to, and how many: a reply to three marked requests
    // must not read as a reply to the one under the cursor.
    let numbers: Vec<&str> = c.targets.iter().map(|t| t.number.as_str()).collect();
    let room = r.width.saturating_sub(4) as usize;
    // A macro's reply is titled by the macro: Ctrl-S does more than send it.
    let (title, keys) = match &c.run {
        Some(run) => {
            let name = app.lang.macro_name(&run.title);
            let room = room.saturating_sub(name.chars().count() + 3);
            (
                sanitize::line(&format!("{name} · {}", app.lang.targets(&numbers, room))),
                app.lang.macro_keys(),
            )
        }
        None => (
            app.lang.compose_title(c.kind, &numbers, room),
            app.lang.compose_keys(c.kind),
        ),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
        .title_bottom(format!(" {keys} "));
    let inner = block.inner(r);
    f.render_widget(block, r);
    // What the citizen last wrote stays in view while one writes (the window covers the card
    // at 80×24): a few lines at most, cut with `…`, over a rule.
    let strip = said(
        app,
        c.current(),
        inner.width,
        if inner.height < 24 { 3 } else { 5 },
    );
    let strip_h = strip.line_count(inner.width) as u16;
    let rest = inner.height.saturating_sub(strip_h + 1);
    let editor_h = (rest * 45 / 100).max(3);
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(strip_h),
            Constraint::Length(editor_h),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .split(inner);
    f.render_widget(strip, parts[0]);
    let parts = &parts[1..];
    f.render_widget(&c.editor, parts[0]);
    let preview = c.preview();
    let units = crate::wire::split::utf16_units(&preview);
    let counter = match c.current().limit {
        Some(limit) => {
            let parts_n =
                crate::wire::split::split(&preview, limit, crate::wire::split::utf16_units)
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
    let hint = app.lang.compose_more_keys(c.kind);
    let fits = counter.chars().count() + hint.chars().count() + 2 <= parts[1].width as usize;
    f.render_widget(
        Paragraph::new(Span::styled(counter, style(app, app.theme.muted))),
        parts[1],
    );
    if fits {
        f.render_widget(
            Paragraph::new(Span::styled(hint, style(app, app.theme.muted)))
                .alignment(ratatui::layout::Alignment::Right),
            parts[1],
        );
    }
    let title = app.lang.compose_hint(c.kind);
    let mut lines = vec![];
    // Another reply on its way to the same citizen: said before what this one will read.
    let (_, composing) = app.others_on(c.current().id);
    if c.kind.to_citizen() && !composing.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "⚠ {}",
                app.lang
                    .already_replying(&names(&composing), composing.len())
            ),
            style(app, app.theme.bad).add_modifier(Modifier::BOLD),
        )));
    }
    // What else Ctrl-S does, before what the citizen will read.
    if let Some(run) = c.run.as_ref().filter(|r| !r.others.is_empty()) {
        lines.push(Line::from(Span::styled(
            sanitize::line(&app.lang.macro_with(&run.others)),
            style(app, app.theme.accent),
        )));
    }
    lines.push(Line::from(Span::styled(title, bold())));
    if c.targets.len() > 1 {
        lines.push(Line::from(Span::styled(
            app.lang
                .compose_shown(c.shown + 1, c.targets.len(), &c.current().number),
            style(app, app.theme.accent),
        )));
    }
    lines.extend(
        sanitize::text(&preview)
            .lines()
            .map(|l| Line::from(l.to_string())),
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), parts[2]);
    if let Some(list) = &c.templates {
        templates(f, app, r, list, &c.current().vars);
    }
}

/// «Заявитель, 30.11 08:10: …» — the citizen's last message to the target the preview shows,
/// in at most `lines` lines of `width`.
fn said<'a>(app: &App, t: &ComposeTarget, width: u16, lines: usize) -> Paragraph<'a> {
    let head = match &t.said {
        Some((at, _)) => format!(
            "{}, {}: ",
            app.lang.pick("Заявитель", "Citizen"),
            at.with_timezone(&app.tz).format("%d.%m %H:%M")
        ),
        None => format!("{}: ", app.lang.pick("Заявитель", "Citizen")),
    };
    let text = t
        .said
        .as_ref()
        .map(|(_, text)| sanitize::line(text))
        .unwrap_or_default();
    let para = |text: String| {
        Paragraph::new(Line::from(vec![
            Span::styled(head.clone(), bold()),
            Span::raw(text),
        ]))
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::BOTTOM)
                .border_style(style(app, app.theme.muted)),
        )
    };
    // The rule under the text is a line of its own.
    let fits = |p: &Paragraph| p.line_count(width) <= lines + 1;
    if fits(&para(text.clone())) {
        return para(text);
    }
    // The longest beginning that fits with `…`: what the message is about comes first.
    let chars: Vec<char> = text.chars().collect();
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let cut: String = chars[..mid].iter().collect();
        if fits(&para(format!("{cut}…"))) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let cut: String = chars[..lo].iter().collect();
    para(format!("{}…", cut.trim_end()))
}

/// Ready replies over the composer: shortcut and title, and the chosen one as the citizen
/// would read it for this request.
fn templates(
    f: &mut Frame,
    app: &App,
    over: Rect,
    list: &super::app::TemplateList,
    vars: &[(String, String)],
) {
    let shown = super::app::template_matches(&app.templates, &list.query);
    let r = popup(
        over,
        over.width.saturating_sub(8),
        over.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let title = if app.lang == Lang::En {
        " Templates · type to search · Enter inserts · Esc back "
    } else {
        " Шаблоны · печатайте для поиска · Enter вставить · Esc назад "
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(50), Constraint::Min(2)])
        .split(inner);
    let mut lines = vec![Line::from(vec![
        Span::raw("::"),
        Span::styled(format!("{}▏", sanitize::line(&list.query)), bold()),
    ])];
    if shown.is_empty() {
        lines.push(Line::from(Span::styled(
            if app.lang == Lang::En {
                " no template matches"
            } else {
                " нет подходящих шаблонов"
            },
            style(app, app.theme.muted),
        )));
    }
    let room = parts[0].height.saturating_sub(1) as usize;
    let start = list.selected.saturating_sub(room.saturating_sub(1));
    for (i, t) in shown.iter().enumerate().skip(start).take(room) {
        let st = if i == list.selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let name = match (app.lang, &t.title_en) {
            (Lang::En, Some(e)) => e.as_str(),
            _ => t.title.as_str(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" ::{:<8}", sanitize::line(&t.shortcut)), st),
            Span::styled(format!(" {}", sanitize::line(name)), st),
        ]));
    }
    f.render_widget(Paragraph::new(lines), parts[0]);
    if let Some(t) = shown.get(list.selected) {
        let text = sanitize::text(&crate::present::reply_vars::render(&t.text, vars));
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::TOP)),
            parts[1],
        );
    }
}
