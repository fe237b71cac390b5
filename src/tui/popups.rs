//! Windows over the main screen: help, pickers, the composer, the command palette.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Mode, PaletteItem};
use super::keymap::Action;
use super::strings::Lang;
use super::view::{bold, style};
use crate::sanitize;

pub(super) fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(10);
    let h = h.min(area.height.saturating_sub(2)).max(3);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Every key the help lists, and what it does: the actions, then the macros that have a key
/// (the others are in the palette, as the help's bottom line says).
fn help_entries(app: &App) -> Vec<(String, String)> {
    let mut ranked = Action::ALL.to_vec();
    ranked.sort_by_key(|a| super::department_mode::help_rank(app, *a));
    let actions = ranked.into_iter().filter_map(|a| {
        let name = super::department_mode::help_name(app, a)?;
        Some((app.keymap.shown(a).join(" "), name))
    });
    // A department presses no macro (each is an operator's reply or close).
    let macros = app.macros.iter().filter(|_| app.department.is_none());
    let macros = macros.filter_map(|m| {
        let key = super::macros::shown_key(m)?;
        Some((key, sanitize::line(&app.lang.macro_name(m.title(app.lang)))))
    });
    actions.chain(macros).collect()
}

/// One column of help: keys right-aligned to the column's widest, names cut with `…` to fit.
fn help_lines(entries: &[(String, String)], width: u16) -> Vec<Line<'static>> {
    let kw = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let room = (width as usize).saturating_sub(kw + 3);
    entries
        .iter()
        .map(|(k, name)| {
            let name = if name.chars().count() > room {
                let cut: String = name.chars().take(room.saturating_sub(1)).collect();
                format!("{cut}…")
            } else {
                name.clone()
            };
            Line::from(vec![
                Span::styled(format!("{k:>kw$}  "), bold()),
                Span::raw(name),
            ])
        })
        .collect()
}

pub(super) fn help(f: &mut Frame, app: &App, area: Rect) {
    let all = help_entries(app);
    // Two columns when one does not fit (an 80×24 terminal), using the whole height if need
    // be (the help is modal: the tab bar and status line can wait), three past that.
    let two = all.len() as u16 + 2 > area.height.saturating_sub(2);
    let columns = if all.len().div_ceil(2) as u16 + 2 > area.height {
        3
    } else {
        2
    };
    let r = if two {
        let h = (all.len().div_ceil(columns) as u16 + 2).min(area.height);
        Rect {
            x: area.x,
            y: area.y + (area.height - h) / 2,
            width: area.width,
            height: h,
        }
    } else {
        popup(area, 70, all.len() as u16 + 2)
    };
    f.render_widget(Clear, r);
    let title = if app.lang == Lang::En {
        " Keys (any key closes) "
    } else {
        " Клавиши (любая клавиша закроет) "
    };
    // The inbox's marks, which no key explains.
    let mut legend = app
        .lang
        .pick(
            " ◉ смотрит другой оператор · ✎ пишет ответ ",
            " ◉ another operator views · ✎ writes a reply ",
        )
        .to_string();
    if !app.macros.is_empty() && app.department.is_none() {
        legend.push_str(app.lang.pick("· все макросы: «:» ", "· all macros: «:» "));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .title_bottom(legend);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if two {
        let per = all.len().div_ceil(columns);
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints(vec![Constraint::Ratio(1, columns as u32); columns])
            .split(inner);
        for (col, actions) in cols.iter().zip(all.chunks(per)) {
            // A space between the columns, so a long name never runs into the next key.
            let width = col.width.saturating_sub(1);
            f.render_widget(Paragraph::new(help_lines(actions, width)), *col);
        }
    } else {
        f.render_widget(Paragraph::new(help_lines(&all, inner.width)), inner);
    }
}

pub(super) fn picker(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Picker(p) = &app.mode else { return };
    let visible = p.visible();
    let targets = app.targets(p.target);
    // Wider on marked requests, for their numbers in the title.
    let width = if targets.len() > 1 { 90 } else { 60 };
    let r = popup(area, width, (visible.len() as u16 + 4).min(20));
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
    let name = app.lang.picker(p.kind);
    let keys = format!(" {} ", app.lang.picker_keys());
    // On marked requests: how many and which, before anything is chosen for them; the keys
    // move under the list to make room.
    let block = if targets.len() > 1 {
        let numbers: Vec<String> = targets.iter().map(|t| t.number.to_string()).collect();
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        let room = (r.width as usize).saturating_sub(name.chars().count() + 7);
        Block::default()
            .title(format!(" {name} · {} ", app.lang.targets(&numbers, room)))
            .title_bottom(keys)
    } else {
        Block::default().title(format!(" {name} ·{keys}"))
    };
    f.render_widget(Paragraph::new(lines).block(block.borders(Borders::ALL)), r);
}

pub(super) fn palette(f: &mut Frame, app: &App, area: Rect) {
    let Mode::Palette { query, selected } = &app.mode else {
        return;
    };
    let matches = app.palette(query);
    let r = popup(area, 72, (matches.len() as u16 + 3).min(18));
    f.render_widget(Clear, r);
    let mut lines = vec![Line::from(vec![
        Span::raw(": "),
        Span::styled(format!("{}▏", sanitize::line(query)), bold()),
    ])];
    let room = r.height.saturating_sub(3) as usize;
    let start = selected.saturating_sub(room.saturating_sub(1));
    for (i, item) in matches.iter().enumerate().skip(start).take(room) {
        let st = if i == *selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let (name, keys) = match item {
            PaletteItem::Action(a) => (
                app.lang.action(*a).to_string(),
                app.keymap.keys_of(*a).join(" "),
            ),
            PaletteItem::Macro(m) => match app.macros.get(*m) {
                Some(m) => (
                    sanitize::line(&app.lang.macro_name(m.title(app.lang))),
                    super::macros::shown_key(m).unwrap_or_default(),
                ),
                None => continue,
            },
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {name:<52}"), st),
            Span::styled(keys, style(app, app.theme.muted)),
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

/// `!`: open alarms, newest last, and the channel's state.
pub(super) fn alarms(f: &mut Frame, app: &App, area: Rect) {
    let en = app.lang == Lang::En;
    let mut lines: Vec<Line> = vec![];
    if let Some(team) = &app.team {
        // Team mode: the channels are the server's, as it last said.
        let head = match (&team.lost, team.seen, en) {
            // The reason is the HTTP client's English: for a Russian reader, the fact suffices.
            (Some(_), _, false) => {
                "Сервер не отвечает: состояние каналов может быть устаревшим.".into()
            }
            (Some(why), _, true) => format!(
                "No answer from the server ({}): the channels may be out of date.",
                sanitize::line(why)
            ),
            (None, None, false) => "Сервер ещё не сообщил о каналах.".into(),
            (None, None, true) => "The server has not told about its channels yet.".into(),
            (None, Some(_), _) if app.health.is_empty() => app
                .lang
                .pick(
                    "Сервер не работает ни с одним каналом (mcu serve --channels …).",
                    "The server works no channel (mcu serve --channels …).",
                )
                .into(),
            (None, Some(at), false) => format!(
                "Каналы работают на сервере (сведения на {}):",
                at.with_timezone(&app.tz).format("%H:%M:%S")
            ),
            (None, Some(at), true) => format!(
                "The server works the channels (as of {}):",
                at.with_timezone(&app.tz).format("%H:%M:%S")
            ),
        };
        lines.push(Line::from(Span::styled(head, style(app, app.theme.muted))));
    }
    for h in &app.health {
        lines.extend(
            crate::present::health::describe(h, app.lang, app.tz)
                .into_iter()
                .map(Line::from),
        );
    }
    if app.health.is_empty() && app.team.is_none() {
        lines.push(Line::from(Span::styled(
            if en {
                "No gateway in this console: channels run in `mcu gateway` or the server."
            } else {
                "Шлюз не запущен в этой консоли: каналы работают в `mcu gateway` или на сервере."
            },
            style(app, app.theme.muted),
        )));
    }
    lines.push(Line::from(""));
    if app.alarms.is_empty() {
        lines.push(Line::from(if en {
            "No open alarms."
        } else {
            "Тревог нет."
        }));
    }
    for a in &app.alarms {
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} {} ",
                    a.at.with_timezone(&app.tz).format("%d.%m %H:%M"),
                    sanitize::line(&a.source)
                ),
                bold(),
            ),
            Span::styled(sanitize::line(&a.text), style(app, app.theme.bad)),
        ]));
    }
    let title = match (en, app.alarms.is_empty()) {
        (true, false) => " Alarms and channels · x marks all as dealt with · any key closes ",
        (false, false) => " Тревоги и каналы · x — всё разобрано · любая клавиша закроет ",
        (true, true) => " Alarms and channels · any key closes ",
        (false, true) => " Тревоги и каналы · любая клавиша закроет ",
    };
    let r = popup(area, 110, lines.len() as u16 + 4);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
