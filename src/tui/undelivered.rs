//! A reply the citizen did not get waits for an operator (docs/channels.md, "A reply counts
//! when the citizen has it"): send it again, note a phone call, or mark the citizen
//! unreachable. Those three actions, the confirmation the last one asks for (it stops the clock
//! with nothing said to the citizen), and the card's block that shows the reply.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use uuid::Uuid;

use super::app::{App, ComposeKind, Mode};
use super::keymap::Action;
use super::request_keys::{compose, each};
use super::update::{Cmd, flash};
use crate::domain::Request;
use crate::domain::mutation::{Op, Settle};
use crate::sanitize;

/// The marked requests (or the selected one) that have an undelivered reply; says so when
/// none has.
fn undelivered(app: &mut App, selected: Uuid) -> Vec<Request> {
    let found: Vec<Request> = app
        .targets(selected)
        .into_iter()
        .filter(Request::undelivered)
        .collect();
    if found.is_empty() {
        flash(app, app.lang.no_undelivered().into(), true);
    }
    found
}

pub(super) fn perform(app: &mut App, action: Action, selected: Uuid) -> Vec<Cmd> {
    let targets = undelivered(app, selected);
    if targets.is_empty() {
        return vec![];
    }
    match action {
        // The body is read where the command runs, from the request's own thread: the reply
        // that failed is the one sent again, whatever the card showed.
        Action::Resend => {
            let cmds: Vec<Cmd> = targets
                .iter()
                .map(|r| Cmd::Resend {
                    target: r.id,
                    actor: app.me.clone(),
                    message_id: Uuid::now_v7(),
                })
                .collect();
            super::bulk::start(app, app.lang.action(action), &cmds);
            app.marks.clear();
            cmds
        }
        Action::Phoned => compose(app, ComposeKind::Phoned, selected, None),
        Action::Unreachable => {
            app.mode = Mode::Unreachable {
                targets: targets.iter().map(|r| r.id).collect(),
            };
            vec![]
        }
        _ => vec![],
    }
}

/// The confirmation: Enter (or y, д) marks them unreachable, anything else cancels.
pub(super) fn confirm_key(app: &mut App, k: KeyEvent, targets: Vec<Uuid>) -> Vec<Cmd> {
    if !matches!(k.code, KeyCode::Enter | KeyCode::Char('y' | 'д' | 'н')) {
        return vec![];
    }
    let first = targets[0];
    // `each` works on the marks or the selection; the confirmed set is what goes.
    app.marks = targets.into_iter().collect();
    each(app, first, app.lang.action(Action::Unreachable), |_| {
        Some(Op::SettleReply {
            how: Settle::Unreachable,
        })
    })
}

pub(super) fn confirm_window(f: &mut Frame, app: &App, area: Rect, targets: &[Uuid]) {
    let numbers: Vec<String> = targets
        .iter()
        .filter_map(|id| app.rows.iter().find(|r| r.id == *id))
        .map(|r| r.number.to_string())
        .collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let w = area.width.saturating_sub(4).min(72);
    let text = app
        .lang
        .unreachable_question(&app.lang.targets(&numbers, w as usize / 2));
    let body = Paragraph::new(text).wrap(Wrap { trim: true });
    let h = body.line_count(w.saturating_sub(2)) as u16 + 2;
    let r = super::popups::popup(area, w, h);
    f.render_widget(Clear, r);
    let title = app.lang.action(Action::Unreachable);
    f.render_widget(
        body.block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ")),
        ),
        r,
    );
}

/// The card's block for an undelivered reply: what the channel said and when, the text that
/// did not arrive (from the thread, once the card is loaded), and the three keys.
pub(super) fn card_lines(app: &App, r: &Request) -> Vec<Line<'static>> {
    let Some(pending) = r.reply.as_ref().filter(|_| r.undelivered()) else {
        return vec![];
    };
    let lang = app.lang;
    let bad = super::view::style(app, app.theme.bad).add_modifier(Modifier::BOLD);
    let at = pending
        .at
        .with_timezone(&app.tz)
        .format("%d.%m %H:%M")
        .to_string();
    let mut lines = vec![Line::from(Span::styled(
        format!("✗ {at} {}", lang.undelivered_reply(pending.state)),
        bad,
    ))];
    if let Some(m) = app
        .detail
        .as_ref()
        .filter(|d| d.request.id == r.id)
        .and_then(|d| d.messages.iter().find(|m| m.id == pending.message_id))
    {
        lines.push(Line::from(vec![
            Span::styled("  → ", bad),
            Span::raw(sanitize::line(&m.body)),
        ]));
    }
    let key = |a: Action| app.keymap.shown(a).into_iter().next().unwrap_or_default();
    lines.push(Line::from(Span::styled(
        format!(
            "  {}",
            lang.undelivered_keys(
                &key(Action::Resend),
                &key(Action::Phoned),
                &key(Action::Unreachable)
            )
        ),
        super::view::bold(),
    )));
    lines
}
