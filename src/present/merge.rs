//! Merging and splitting threads in the operator's and the citizen's words: the refusals of
//! `domain::merge` and `domain::split`, and what a merged request's citizen is told.

use crate::domain::Request;
use crate::domain::merge::MergeError;
use crate::domain::split::SplitError;
use crate::lang::Lang;

/// What the citizen of the merged request is told: where the case goes on, and that they
/// keep writing and reading in the same chat.
pub fn told(lang: Lang, other: &Request, into: &Request) -> String {
    lang.pick(
        "Здравствуйте! Ваше обращение {number} объединено с обращением {into} о том же. \
         Ответы будут приходить сюда же, писать можно в этот чат.",
        "Hello! Your request {number} was merged with request {into} about the same matter. \
         Answers will come here, and you can keep writing in this chat.",
    )
    .replace("{number}", &other.number.to_string())
    .replace("{into}", &into.number.to_string())
}

/// A merge's refusal in the operator's language.
pub fn merge_refusal(e: &MergeError, lang: Lang) -> String {
    match (e, lang) {
        (_, Lang::En) => e.to_string(),
        (MergeError::Same, _) => "обращение нельзя объединить само с собой".into(),
        (MergeError::Incident, _) => {
            "инцидент не объединяют: его обращения присоединяют к другому инциденту".into()
        }
        (MergeError::IntoMerged { into, target }, _) => {
            format!("{into} уже объединено с {target}: объединяйте с {target}")
        }
        (MergeError::Already(a, b), _) => format!("{a} уже объединено с {b}"),
    }
}

/// A split's refusal in the operator's language.
pub fn split_refusal(e: &SplitError, lang: Lang) -> String {
    match (e, lang) {
        (_, Lang::En) => e.to_string(),
        (SplitError::NotAFollowUp, _) => {
            "выделить можно только сообщение заявителя, пришедшее позже".into()
        }
        (SplitError::Empty, _) => "сообщение пустое".into(),
        (SplitError::ThroughMerge(n), _) => {
            format!("сообщение пришло через объединённое обращение {n}: откройте его заново")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_request_to_merge_into() {
        let e = MergeError::IntoMerged {
            into: "2026-000002".into(),
            target: "2026-000001".into(),
        };
        assert!(merge_refusal(&e, Lang::Ru).contains("объединяйте с 2026-000001"));
        assert!(merge_refusal(&e, Lang::En).contains("merge into 2026-000001"));
        let s = split_refusal(&SplitError::ThroughMerge("2026-000077".into()), Lang::Ru);
        assert!(s.contains("2026-000077"), "{s}");
    }
}
