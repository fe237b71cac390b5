//! The citizen on the card: their phone, and their other requests (same chat or same
//! phone, newest first, `store::citizen`), so an operator sees at once that this is the
//! fifth letter about one leak. `i` lists them and `Enter` shows the chosen one in the list.

use ratatui::text::{Line, Span};

use super::app::{App, PickerKind};
use super::request_keys::open_picker;
use super::update::{Cmd, flash, reload_from_top};
use super::view::style;
use crate::domain::Request;
use crate::domain::request::Direction;
use crate::present::names::pick;
use crate::sanitize;
use crate::store::Filter;
use crate::store::citizen::CitizenRequest;

/// The card shows this many of the citizen's other requests; `i` lists them all.
const ON_CARD: usize = 3;

/// `+7 918 111-22-33` for the citizen line, when the request has a phone.
pub(super) fn phone(r: &Request) -> Option<String> {
    r.phone.as_deref().map(crate::domain::phone::display)
}

/// One other request as a line: number, date, status, topic.
fn label(app: &App, c: &CitizenRequest) -> String {
    let status = c
        .status
        .parse()
        .map(|s| app.lang.status(s).to_string())
        .unwrap_or_else(|_| sanitize::line(&c.status));
    let topic = c
        .topic
        .as_deref()
        .and_then(|t| app.catalog.topic(t))
        .map(|t| pick(&t.name, t.name_en.as_deref(), app.lang).to_string())
        .unwrap_or_else(|| "—".into());
    format!(
        "{} · {} · {status} · {}",
        c.number,
        c.received_at.with_timezone(&app.tz).format("%d.%m.%y"),
        sanitize::line(&topic)
    )
}

/// The card's lines on the citizen's other requests, when its detail is loaded.
pub(super) fn card_lines(app: &App, r: &Request) -> Vec<Line<'static>> {
    let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) else {
        return vec![];
    };
    let others = &d.citizen_requests;
    if others.is_empty() {
        return vec![];
    }
    let lang = app.lang;
    let more = if others.len() >= crate::store::citizen::SHOWN {
        format!("{}+", others.len())
    } else {
        others.len().to_string()
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(
                "{} {more}",
                lang.pick("Ещё обращения заявителя:", "The citizen's other requests:")
            ),
            style(app, app.theme.accent),
        ),
        Span::raw(lang.pick(" · i список", " · i lists them")),
    ])];
    for c in others.iter().take(ON_CARD) {
        lines.push(Line::from(format!("  {}", label(app, c))));
    }
    lines
}

/// The requests linked to this one as its duplicates, by number: whoever answers this one
/// knows who else is waiting on it.
pub(super) fn duplicate_lines(app: &App, r: &Request) -> Vec<Line<'static>> {
    let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) else {
        return vec![];
    };
    if d.duplicates.is_empty() {
        return vec![];
    }
    const SHOWN: usize = 6;
    let mut numbers = d
        .duplicates
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if d.duplicates.len() > SHOWN {
        numbers.push_str(&format!(" … +{}", d.duplicates.len() - SHOWN));
    }
    vec![Line::from(vec![
        Span::styled(
            format!(
                "{} ({}): ",
                app.lang.pick("Дубликаты", "Duplicates"),
                d.duplicates.len()
            ),
            style(app, app.theme.accent),
        ),
        Span::raw(numbers),
    ])]
}

/// The requests whose threads were merged into this one: their citizens get its answers.
pub(super) fn merged_lines(app: &App, r: &Request) -> Vec<Line<'static>> {
    let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) else {
        return vec![];
    };
    if d.merged.is_empty() {
        return vec![];
    }
    let shown: Vec<String> = d
        .merged
        .iter()
        .take(4)
        .map(|m| {
            let channel = crate::present::channel::name_of_key(&m.channel, app.lang);
            format!("{} ({channel})", m.number)
        })
        .collect();
    let mut text = shown.join(", ");
    if d.merged.len() > 4 {
        text.push_str(&format!(" … +{}", d.merged.len() - 4));
    }
    vec![Line::from(vec![
        Span::styled(
            format!("{}: ", app.lang.pick("Объединено", "Merged")),
            style(app, app.theme.accent),
        ),
        Span::raw(sanitize::line(&text)),
    ])]
}

/// The open question to the citizen: since when it waits, and whether the reminder went, so
/// nobody answers over it or wonders why the clock stands still.
pub(super) fn waiting_line(app: &App, r: &Request) -> Option<Line<'static>> {
    let w = r.waiting?;
    let at = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&app.tz).format("%d.%m %H:%M").to_string()
    };
    let mut text = format!(
        "⏸ {} {}",
        app.lang
            .pick("Ждём ответа заявителя с", "Waiting for the citizen since"),
        at(w.since)
    );
    if let Some(t) = w.reminded_at {
        text.push_str(&format!(
            " · {} {}",
            app.lang.pick("напомнили", "reminded"),
            at(t)
        ));
    }
    Some(Line::from(Span::styled(text, style(app, app.theme.accent))))
}

/// `i`: the citizen's other requests to pick from; the chosen one is shown in the list.
pub(super) fn list(app: &mut App, r: &Request) -> Vec<Cmd> {
    let lang = app.lang;
    let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) else {
        flash(app, lang.loading().into(), true);
        return vec![];
    };
    let items: Vec<(String, String)> = d
        .citizen_requests
        .iter()
        .map(|c| (c.number.clone(), label(app, c)))
        .collect();
    if items.is_empty() {
        let text = lang.pick(
            "других обращений этого заявителя нет",
            "this citizen has no other requests",
        );
        flash(app, text.into(), false);
        return vec![];
    }
    open_picker(app, PickerKind::CitizenRequest, r.id, items, None)
}

/// `Shift-N`: the citizen's follow-ups (not the message that opened the request, nor an
/// edit), newest first, to make one a request of its own.
pub(super) fn split_list(app: &mut App, r: &Request) -> Vec<Cmd> {
    let lang = app.lang;
    let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) else {
        flash(app, lang.loading().into(), true);
        return vec![];
    };
    let items: Vec<(String, String)> = d
        .messages
        .iter()
        .rev()
        .filter(|m| m.direction == Direction::In && m.edit_of.is_none())
        .filter(|m| !m.body.trim().is_empty())
        .map(|m| {
            let at = m.at.with_timezone(&app.tz).format("%d.%m %H:%M");
            let text: String = sanitize::line(&m.body).chars().take(90).collect();
            (m.id.to_string(), format!("{at} · {text}"))
        })
        .collect();
    if items.is_empty() {
        let text = lang.pick(
            "у заявителя нет сообщений после первого",
            "the citizen has written nothing after the first message",
        );
        flash(app, text.into(), false);
        return vec![];
    }
    open_picker(app, PickerKind::SplitMessage, r.id, items, None)
}

/// The chosen follow-up made a request of its own, in one batch with the old request's record.
pub(super) fn split(app: &mut App, target: uuid::Uuid, message: &str) -> Vec<Cmd> {
    let lang = app.lang;
    let found = app
        .detail
        .as_ref()
        .filter(|d| d.request.id == target)
        .and_then(|d| {
            let m = d.messages.iter().find(|m| m.id.to_string() == message)?;
            Some((d.request.clone(), m.clone()))
        });
    let Some((r, m)) = found else {
        flash(app, lang.loading().into(), true);
        return vec![];
    };
    match crate::domain::split::split(&r, &m, &app.me, app.now) {
        Ok((_, batch)) => {
            let text = lang.pick(
                "сообщение выделено в новое обращение того же заявителя",
                "the message is now a request of its own, the same citizen's",
            );
            flash(app, text.into(), false);
            vec![Cmd::Apply(batch)]
        }
        Err(e) => {
            flash(app, crate::present::merge::split_refusal(&e, lang), true);
            vec![]
        }
    }
}

/// The request chosen in `i`'s list, shown alone in the list (Esc or a view brings the rest).
pub(super) fn show(app: &mut App, number: String) -> Vec<Cmd> {
    app.filter = Filter {
        number: Some(number.clone()),
        ..Default::default()
    };
    app.filter_line = number;
    reload_from_top(app)
}
