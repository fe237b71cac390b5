//! Texts the bot sends by itself, in Russian and English, from `assets/templates.toml`.

use serde::{Deserialize, Serialize};

const SHIPPED: &str = include_str!("../assets/templates.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotTexts {
    pub ack: String,
    /// The acknowledgement where the citizen can't reply to the bot or ask `/status`.
    pub ack_public: String,
    pub start: String,
    pub status: String,
    pub status_not_found: String,
    /// Added to the acknowledgement of a request about a mass incident already being worked
    /// on (`{incident}`: the incident's number).
    pub known_incident: String,
    /// The one reminder about an unanswered question (`{close_at}`: the day it closes).
    pub waiting_reminder: String,
    /// The polite close of a question never answered.
    pub waiting_closed: String,
    /// To the shift leads' chat when a clock breaches (`{what}`: one of the three below).
    pub escalation: String,
    pub escalation_first_response: String,
    pub escalation_department: String,
    pub escalation_resolution: String,
    /// To the leads' chat when a clock turns at risk (`[escalation] at_risk`): the same
    /// variables, `{what}` one of the three below.
    pub at_risk: String,
    pub at_risk_first_response: String,
    pub at_risk_department: String,
    pub at_risk_resolution: String,
    /// «Вопрос решён?» after a resolved close (`domain::feedback`).
    pub feedback_question: String,
    /// The buttons under it in Telegram and VK dialogs; a tap answers in these words, so
    /// they must read as «да» / «нет» (`domain::feedback::reading`).
    pub feedback_yes: String,
    pub feedback_no: String,
    /// A request posted to a department's Telegram chat (`[departments.<id>]`): {number},
    /// {department}, {due} (its answer's), {text}, {address}, {note} (the operator's).
    pub department_forward: String,
    /// The caption of each of the request's photos, posted after it ({number}).
    pub department_photo: String,
    /// The caption of each of its documents (a scan, a photo sent as a file), the same way.
    pub department_file: String,
    /// To a department's chat when its message names none of its requests.
    pub department_not_found: String,
    /// Not sent: added to a department's answer on the card when it came with {count} photos
    /// or files, which join the request's attachments.
    pub department_attachments: String,
    /// To a department's chat once its answer on {number} is due soon ({due}), and once it is
    /// late.
    pub department_at_risk: String,
    pub department_breached: String,
    /// Departments reached by e-mail: the subject ({number}, {title}), the forward's body
    /// (as `department_forward`'s), and the answer to a mail that names none of their
    /// requests.
    pub department_mail_subject: String,
    pub department_mail_forward: String,
    pub department_mail_not_found: String,
}

#[derive(Debug, Deserialize)]
struct Shipped {
    ru: BotTexts,
    en: BotTexts,
    #[serde(default)]
    reply: Vec<ReplyTemplate>,
}

/// A ready reply an operator inserts with `::shortcut` + Tab or picks from a list (Ctrl-T).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyTemplate {
    pub shortcut: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    pub text: String,
}

/// The shipped reply templates.
pub fn replies() -> Vec<ReplyTemplate> {
    toml::from_str::<Shipped>(SHIPPED)
        .map(|s| s.reply)
        .unwrap_or_default()
}

/// The shipped replies with the center's own: a configured shortcut replaces the shipped one
/// in place, new ones follow.
pub fn merged(own: &[ReplyTemplate]) -> Vec<ReplyTemplate> {
    let mut all = replies();
    for t in own {
        match all.iter_mut().find(|s| s.shortcut == t.shortcut) {
            Some(s) => *s = t.clone(),
            None => all.push(t.clone()),
        }
    }
    all
}

impl BotTexts {
    /// The shipped texts in `language` (`ru` unless `en`).
    pub fn shipped(language: &str) -> BotTexts {
        // Parsed by a unit test, so the fallback never runs in a released build.
        match toml::from_str::<Shipped>(SHIPPED) {
            Ok(s) if language == "en" => s.en,
            Ok(s) => s.ru,
            Err(_) => BotTexts {
                ack: "{number}".into(),
                ack_public: "{number}".into(),
                start: "МЦУ".into(),
                status: "{number}: {status}".into(),
                status_not_found: "{number}?".into(),
                known_incident: "{incident}".into(),
                waiting_reminder: "{number}?".into(),
                waiting_closed: "{number}.".into(),
                escalation: "{what}: {number}".into(),
                escalation_first_response: "!".into(),
                escalation_department: "!".into(),
                escalation_resolution: "!".into(),
                at_risk: "{what}: {number}".into(),
                at_risk_first_response: "?".into(),
                at_risk_department: "?".into(),
                at_risk_resolution: "?".into(),
                feedback_question: "{number}?".into(),
                feedback_yes: "Да".into(),
                feedback_no: "Нет".into(),
                department_forward: "{number}: {text}".into(),
                department_photo: "{number}".into(),
                department_file: "{number}".into(),
                department_not_found: "?".into(),
                department_attachments: "+{count}".into(),
                department_at_risk: "{number}: {due}".into(),
                department_breached: "{number}: {due}!".into(),
                department_mail_subject: "[{number}] {title}".into(),
                department_mail_forward: "{number}: {text}".into(),
                department_mail_not_found: "?".into(),
            },
        }
    }
}

/// Replaces `{name}` with its value; unknown names stay as written so a typo is visible.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_parse_in_both_languages() {
        let s: Shipped = toml::from_str(SHIPPED).expect("assets/templates.toml parses");
        assert!(s.ru.ack.contains("{number}") && s.ru.ack.contains("{due}"));
        assert!(s.en.ack.contains("{number}"));
        for t in [&s.ru, &s.en] {
            assert!(
                t.waiting_reminder.contains("{number}")
                    && t.waiting_reminder.contains("{close_at}")
            );
            assert!(t.waiting_closed.contains("{number}"));
            assert!(t.feedback_question.contains("{number}"));
            assert_eq!(
                crate::domain::feedback::reading(&t.feedback_yes),
                Some(true)
            );
            assert_eq!(
                crate::domain::feedback::reading(&t.feedback_no),
                Some(false)
            );
        }
        assert_ne!(BotTexts::shipped("en").start, BotTexts::shipped("ru").start);
        let shortcuts: Vec<String> = replies().into_iter().map(|r| r.shortcut).collect();
        assert_eq!(shortcuts[..4], ["ack", "dep", "ans", "out"]);
        // An МЦУ's real set: accepted, passed on, emergency numbers, asking for an address or
        // a photo, works scheduled and done, declines that say where to turn.
        assert!(shortcuts.len() >= 20, "{shortcuts:?}");
        let unique: std::collections::BTreeSet<&String> = shortcuts.iter().collect();
        assert_eq!(unique.len(), shortcuts.len(), "one shortcut each");
        const VARIABLES: [&str; 6] = ["number", "citizen", "department", "due", "by_due", "answer"];
        for r in replies() {
            assert!(!r.title.is_empty() && !r.text.is_empty(), "{}", r.shortcut);
            assert!(
                r.text.contains("{number}"),
                "{} names the request",
                r.shortcut
            );
            let mut rest = r.text.as_str();
            while let Some(at) = rest.find('{') {
                let name = &rest[at + 1..rest[at..].find('}').map_or(rest.len(), |e| at + e)];
                assert!(VARIABLES.contains(&name), "{}: {{{name}}}", r.shortcut);
                rest = &rest[at + 1..];
            }
        }
    }

    #[test]
    fn own_templates_replace_shipped_ones_in_place_and_add_new() {
        let own = |shortcut: &str, text: &str| ReplyTemplate {
            shortcut: shortcut.into(),
            title: String::new(),
            title_en: None,
            text: text.into(),
        };
        let all = merged(&[
            own("dep", "Передали: {department}"),
            own("snow", "Уборка снега: {department}"),
        ]);
        let shortcuts: Vec<&str> = all.iter().map(|t| t.shortcut.as_str()).collect();
        let shipped = replies().len();
        assert_eq!(shortcuts[..4], ["ack", "dep", "ans", "out"]);
        assert_eq!(shortcuts.len(), shipped + 1);
        assert_eq!(shortcuts[shipped], "snow");
        assert_eq!(all[1].text, "Передали: {department}");
    }

    #[test]
    fn render_fills_known_and_keeps_unknown() {
        assert_eq!(
            render(
                "№{number} до {due} {x}",
                &[("number", "2026-000001"), ("due", "12:00")]
            ),
            "№2026-000001 до 12:00 {x}"
        );
    }
}
