//! «Вопрос решён?» — asked once after a request closes as resolved, answered «да» or «нет»
//! by a tap or in words. Pure, like `domain::waiting`: the gateway of the request's channel
//! asks `due` about the few requests closed lately and applies `ask`; intake reads a
//! citizen's message with `reading` before placing it.
//!
//! The question's mutation is named by the request and its close, so a gateway that decides
//! twice — two sweeps, a retried push, a second replica — asks once.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::mutation::{Mutation, Op};
use super::request::{Direction, Message, Request};
use super::status::{CloseReason, Status};

/// A request closed longer ago than this is not asked any more: a center that turns the
/// question on (or upgrades) does not write to everyone it ever helped.
pub const ASK_WITHIN: Duration = Duration::days(1);

/// Whether `r` is to be asked at `now`: closed as resolved at least `after` ago (a close
/// undone at once is not asked about) and at most [`ASK_WITHIN`], never asked, a citizen's
/// request the bot can write to.
pub fn due(r: &Request, after: Duration, now: DateTime<Utc>) -> bool {
    r.status == Status::Closed
        && r.close_reason == Some(CloseReason::Resolved)
        && r.feedback.is_none()
        && !r.is_incident
        && r.channel.delivers()
        && r.channel_ref.chat.is_some()
        && r.closed_at
            .is_some_and(|c| now >= c + after && now <= c + ASK_WITHIN)
}

/// Whether `r` waits for the citizen's answer: asked, not answered, still closed.
pub fn awaits_answer(r: &Request) -> bool {
    r.status == Status::Closed && r.feedback.is_some_and(|f| f.helped.is_none())
}

/// The citizen's message read as an answer: «да» / «нет» and their obvious variants
/// («да, спасибо», «нет, не решён», yes / no); `None` for anything else, which is a message
/// like any other.
pub fn reading(text: &str) -> Option<bool> {
    let t = text.trim().to_lowercase();
    let first = t
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())?;
    // A long message that starts with «да» is about something else («да, но теперь...»
    // reads as a «да» only when it is short).
    if t.chars().count() > 40 {
        return None;
    }
    match first {
        "да" | "yes" | "решён" | "решен" | "решено" | "помогло" | "спасибо" => {
            Some(true)
        }
        "нет" | "no" | "не" => Some(false),
        _ => None,
    }
}

/// The one-tap answers where the channel has buttons: (label, data). The data comes back
/// from the channel and is read by [`button`]; the label is what the thread shows.
pub const BUTTONS: [(&str, &str); 2] = [("Да", "fb:yes"), ("Нет", "fb:no")];

/// A pressed button's data as the answer's words (its label); `None` for data not ours.
pub fn button(data: &str) -> Option<&'static str> {
    BUTTONS.iter().find(|(_, d)| *d == data).map(|(l, _)| *l)
}

/// A pressed button's answer in words: the label the citizen saw when it reads as that
/// answer (the thread then shows what they tapped, «Yes» where the center speaks English),
/// else the button's own label; `None` for data not ours.
pub fn pressed(data: &str, shown: Option<&str>) -> Option<String> {
    let label = button(data)?;
    let yes = reading(label);
    Some(
        shown
            .map(str::trim)
            .filter(|s| !s.is_empty() && reading(s) == yes)
            .unwrap_or(label)
            .to_string(),
    )
}

/// The buttons as the citizen sees them: ours labelled `yes` / `no` (the center's language,
/// `templates::BotTexts`), any other kept as stored.
pub fn labelled(buttons: &[(String, String)], yes: &str, no: &str) -> Vec<(String, String)> {
    buttons
        .iter()
        .map(|(label, data)| {
            let label = match button(data).and_then(reading) {
                Some(true) if !yes.trim().is_empty() => yes,
                Some(false) if !no.trim().is_empty() => no,
                _ => label,
            };
            (label.to_string(), data.clone())
        })
        .collect()
}

/// The citizen's message that answered `r`'s question: their first in its own thread (a
/// merged thread holds other requests' too) since the question that reads as the recorded
/// answer (the answer is kept as a message like any of theirs). The citizen's clock may
/// trail ours by a second or two, hence the slack.
pub fn answer_message<'a>(r: &Request, messages: &'a [Message]) -> Option<&'a Message> {
    let f = r.feedback?;
    let helped = f.helped?;
    let since = f.asked_at - Duration::seconds(5);
    messages
        .iter()
        .filter(|m| m.request_id == r.id && m.direction == Direction::In && m.at >= since)
        .filter(|m| reading(&m.body) == Some(helped))
        .min_by_key(|m| m.at)
}

/// Whether `message` is `r`'s question (it goes with [`BUTTONS`]).
pub fn is_question(r: &Request, message: Uuid) -> bool {
    r.closed_at
        .is_some_and(|c| derived(r.id, c.timestamp_millis(), "message") == message)
}

/// The question's mutation with the text the citizen gets; `actor` is the channel's gateway.
pub fn ask(r: &Request, body: String, actor: &str, now: DateTime<Utc>) -> Mutation {
    let closed = r.closed_at.map_or(0, |c| c.timestamp_millis());
    let message_id = derived(r.id, closed, "message");
    Mutation {
        id: derived(r.id, closed, "mutation"),
        ..Mutation::new(r.id, actor, now, Op::AskFeedback { message_id, body })
    }
}

fn derived(request: Uuid, closed_ms: i64, kind: &str) -> Uuid {
    super::ids::named(&[
        b"mcu-feedback:",
        request.as_bytes(),
        &closed_ms.to_be_bytes(),
        kind.as_bytes(),
    ])
}

#[cfg(test)]
mod tests;
