//! The selected request's card: head (channel, status, topic → department, citizen, place,
//! clocks, text, files), an optional photo slot, and the thread anchored at its newest line.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::app::App;
use super::strings::Lang;
use super::view::{bold, clock_color, names, style};
use crate::domain::request::{ClockKind, Direction as Dir};
use crate::present::names::pick;
use crate::sanitize;

fn local(app: &App, t: DateTime<Utc>) -> String {
    t.with_timezone(&app.tz).format("%d.%m %H:%M").to_string()
}

/// `[фото 1,2 МБ] IMG_0042.jpg — o открыть`: what it is and what can be done with it; the
/// file's path is the viewer's business.
fn attachment_line(lang: Lang, a: &crate::domain::request::Attachment) -> String {
    use crate::domain::request::AttachmentState as S;
    let en = lang == Lang::En;
    let kind = match (a.kind.as_str(), en) {
        ("photo", false) => "фото",
        ("document", false) => "документ",
        ("video", false) => "видео",
        ("voice", false) => "голосовое",
        ("audio", false) => "аудио",
        (k, _) => k,
    };
    let size = match a.size {
        Some(b) if b >= 1024 * 1024 => format!(
            " {:.1} {}",
            b as f64 / 1048576.0,
            if en { "MB" } else { "МБ" }
        ),
        Some(b) => format!(" {} {}", b.div_ceil(1024), if en { "KB" } else { "КБ" }),
        None => String::new(),
    };
    // Photos have no name but their file id; documents keep the citizen's file name.
    let name = a
        .name
        .as_deref()
        .map(|n| format!(" {}", sanitize::line(n)))
        .unwrap_or_default();
    let state = match (a.state, en) {
        (S::Stored, false) => " — o открыть",
        (S::Stored, true) => " — o opens",
        (S::Pending, false) => " — загружается",
        (S::TooLarge, false) => " — больше 20 МБ, не загружен",
        (S::Failed, false) => " — не загрузился",
        (S::Pending, true) => " — downloading",
        (S::TooLarge, true) => " — over 20 MB, not downloaded",
        (S::Failed, true) => " — download failed",
    };
    format!("[{kind}{size}]{name}{state}")
}

/// «Вопрос решён?» once asked: the answer is the operator's news (a «нет» is why a closed
/// request is back), the words come from the thread once it is loaded.
fn feedback_line(app: &App, r: &crate::domain::Request) -> Option<Line<'static>> {
    let messages = app
        .detail
        .as_ref()
        .filter(|d| d.request.id == r.id)
        .map_or(&[][..], |d| &d.messages[..]);
    let v = crate::present::feedback::FeedbackView::of(r, messages)?;
    let color = match v.helped {
        Some(false) => app.theme.warn,
        Some(true) => app.theme.muted,
        None => app.theme.accent,
    };
    let text = v.line(app.lang, |t| local(app, t));
    Some(Line::from(Span::styled(text, style(app, color))))
}

pub(super) fn detail(f: &mut Frame, app: &App, area: Rect) -> Option<Rect> {
    let r = app.current()?;
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
        .map(|d| pick(&d.name, d.name_en.as_deref(), lang).to_string())
        .unwrap_or("—".into());
    let topic = r
        .topic
        .as_deref()
        .and_then(|t| app.catalog.topic(t))
        .map(|t| pick(&t.name, t.name_en.as_deref(), lang).to_string())
        .unwrap_or("—".into());
    lines.push(Line::from(vec![
        Span::styled(
            format!(
                "{} · {} · ",
                super::incidents::channel_cell(app, r),
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
    if r.topic.is_none()
        && let Some(s) = app.suggested.get(&r.id)
    {
        lines.extend(super::suggest::card_lines(app, s));
    }
    lines.extend(super::incidents::card_lines(app, r));
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
    let citizen = match super::citizen::phone(r) {
        Some(p) => format!("{citizen} · {p}"),
        None => citizen,
    };
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
    lines.extend(super::citizen::card_lines(app, r));
    lines.extend(super::citizen::duplicate_lines(app, r));
    lines.extend(super::citizen::merged_lines(app, r));
    lines.extend(super::returned::lines(app, r));
    lines.extend(super::citizen::waiting_line(app, r));
    lines.extend(feedback_line(app, r));
    // Who else is on this request: the line that keeps two operators from one citizen.
    let (viewing, composing) = app.others_on(r.id);
    let mut here = vec![];
    if !viewing.is_empty() {
        here.push(Span::styled(
            format!("◉ {}: {}", lang.viewing(viewing.len()), names(&viewing)),
            style(app, app.theme.accent),
        ));
    }
    if !composing.is_empty() {
        if !here.is_empty() {
            here.push(Span::raw(" · "));
        }
        here.push(Span::styled(
            format!(
                "✎ {}: {}",
                lang.replying(composing.len()),
                names(&composing)
            ),
            style(app, app.theme.warn).add_modifier(Modifier::BOLD),
        ));
    }
    if !here.is_empty() {
        lines.push(Line::from(here));
    }
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
    // Above the text: the citizen still waits for this answer, and it is the operator's move.
    lines.extend(super::undelivered::card_lines(app, r));
    lines.push(Line::from(""));
    for l in sanitize::text(&r.text).lines() {
        lines.push(Line::from(l.to_string()));
    }
    for a in &r.attachments {
        lines.push(Line::from(Span::styled(
            attachment_line(lang, a),
            style(app, app.theme.accent),
        )));
    }
    let mut thread: Vec<Line> = vec![];
    if let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) {
        let mut items: Vec<(DateTime<Utc>, Line)> = vec![];
        for m in &d.messages {
            let (arrow, st) = match m.direction {
                Dir::In => ("←", style(app, app.theme.text)),
                Dir::Out => ("→", style(app, app.theme.accent)),
            };
            let mut meta = m
                .delivery
                .map(|s| format!(" [{}]", lang.delivery(s)))
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
                            sanitize::line(&d.author_of(m))
                        ),
                        st,
                    ),
                    Span::raw(if m.body.trim().is_empty() {
                        if en {
                            "(an attachment, no text)".to_string()
                        } else {
                            "(вложение без текста)".to_string()
                        }
                    } else {
                        sanitize::line(&m.body)
                    }),
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
                    style(app, app.theme.warn),
                )),
            ));
        }
        for e in &d.events {
            if let Some(text) = super::audit::describe(app, e, d.parent_number.as_deref()) {
                items.push((
                    e.at,
                    Line::from(Span::styled(text, style(app, app.theme.muted))),
                ));
            }
        }
        // Stable: a message and the event it caused keep their recorded order.
        items.sort_by_key(|(at, _)| *at);
        thread.extend(items.into_iter().map(|(_, l)| l));
    }
    // The card's head stays; the thread below reads like a chat, its newest line at the
    // bottom, and scrolls back (`K`) through older ones.
    let head = Paragraph::new(lines).wrap(Wrap { trim: false });
    let thread = Paragraph::new(thread).wrap(Wrap { trim: false });
    let head_h = head.line_count(inner.width) as u16;
    let thread_h = thread.line_count(inner.width) as u16;
    let head_max = if thread_h == 0 {
        inner.height
    } else {
        (inner.height / 2).max(inner.height.saturating_sub(thread_h + 1))
    };
    let head_h = head_h.min(head_max);
    // A photo gets a third of a tall card (a 160×48 screen), none at 80×24: `o` opens it.
    let photo_h = if app.photos && super::photo::wanted(app).is_some() && inner.height >= 30 {
        (inner.height / 3).min(16)
    } else {
        0
    };
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(head_h),
            Constraint::Length(photo_h),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .split(inner);
    f.render_widget(head, parts[0]);
    let room = parts[3].height;
    let from_top = thread_h
        .saturating_sub(room)
        .saturating_sub(app.detail_scroll);
    f.render_widget(thread.scroll((from_top, 0)), parts[3]);
    (photo_h > 0).then_some(parts[1])
}
