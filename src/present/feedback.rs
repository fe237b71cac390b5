//! «Вопрос решён?» on a request as people read it, in the console's card and `mcu show`
//! alike: when it was asked, the answer and when, and the citizen's own words for a «нет».

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::Request;
use crate::domain::feedback::answer_message;
use crate::domain::request::Message;
use crate::lang::Lang;

/// `mcu show -o json`'s `feedback` (null when never asked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackView {
    pub asked_at: DateTime<Utc>,
    /// true «да», false «нет», null not answered yet.
    pub helped: Option<bool>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The citizen's answer as they wrote or tapped it (null while unanswered, or when the
    /// thread at hand does not have it).
    pub words: Option<String>,
}

impl FeedbackView {
    /// `messages`: the request's thread, where the answer is kept.
    pub fn of(r: &Request, messages: &[Message]) -> Option<FeedbackView> {
        let f = r.feedback?;
        Some(FeedbackView {
            asked_at: f.asked_at,
            helped: f.helped,
            answered_at: f.answered_at,
            words: answer_message(r, messages).map(|m| m.body.clone()),
        })
    }

    /// One line: `Вопрос решён? — «нет» 07.12 10:20: «Яма на месте» (спросили 07.12 10:15)`;
    /// the words shown when they say more than the bare answer.
    pub fn line(&self, lang: Lang, local: impl Fn(DateTime<Utc>) -> String) -> String {
        let asked = local(self.asked_at);
        let head = lang.pick("Вопрос решён?", "Did it help?");
        let Some(helped) = self.helped else {
            return match lang {
                Lang::Ru => format!("{head} — спросили {asked}, ответа пока нет"),
                Lang::En => format!("{head} — asked {asked}, no answer yet"),
            };
        };
        let answer = match (helped, lang) {
            (true, Lang::Ru) => "«да»",
            (false, Lang::Ru) => "«нет»",
            (true, Lang::En) => "«yes»",
            (false, Lang::En) => "«no»",
        };
        let when = self.answered_at.map(|t| format!(" {}", local(t)));
        let words = self
            .words
            .as_deref()
            .map(crate::sanitize::line)
            .filter(|w| !helped && !matches!(w.trim().to_lowercase().as_str(), "нет" | "no"))
            .map(|w| format!(": «{w}»"))
            .unwrap_or_default();
        let asked_word = lang.pick("спросили", "asked");
        format!(
            "{head} — {answer}{}{words} ({asked_word} {asked})",
            when.unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, min, 0).unwrap()
    }

    fn hm(t: DateTime<Utc>) -> String {
        t.format("%H:%M").to_string()
    }

    #[test]
    fn the_line_says_when_asked_the_answer_and_a_nos_words() {
        let mut v = FeedbackView {
            asked_at: t(15),
            helped: None,
            answered_at: None,
            words: None,
        };
        assert_eq!(
            v.line(Lang::Ru, hm),
            "Вопрос решён? — спросили 10:15, ответа пока нет"
        );
        v.helped = Some(false);
        v.answered_at = Some(t(20));
        v.words = Some("Нет, яма на месте".into());
        assert_eq!(
            v.line(Lang::Ru, hm),
            "Вопрос решён? — «нет» 10:20: «Нет, яма на месте» (спросили 10:15)"
        );
        // A bare tap says nothing more than the answer itself.
        v.words = Some("No".into());
        assert_eq!(
            v.line(Lang::En, hm),
            "Did it help? — «no» 10:20 (asked 10:15)"
        );
        v.helped = Some(true);
        v.words = Some("Да, спасибо".into());
        assert_eq!(
            v.line(Lang::Ru, hm),
            "Вопрос решён? — «да» 10:20 (спросили 10:15)"
        );
    }
}
