//! The names a status goes by in front of people, each spelled here and nowhere else. Russian
//! agrees in number with what it describes — one «обращение новое», a count «новые 3» (a
//! request is «обращение» everywhere: the console, the CLI, refusals, reports, the bot) — and a
//! narrow column needs a short word, so one status has several names; the place that shows it
//! picks the `Form`, this file picks the word.

use crate::domain::Status;
use crate::lang::Lang;

/// What a status name stands next to, which decides its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One request, «обращение новое»: the CLI's table, `mcu show`, refusals («нельзя
    /// закрыть обращение: оно закрыто»).
    Row,
    /// One request in the console's narrow status column, its card and its audit lines.
    Column,
    /// A count of requests, «новые 3»: the shift handover.
    Count,
    /// A count on the console's shift dashboard: like `Count`, short enough for a tile.
    Tile,
    /// One request in the report's request sheet and the CSV export.
    Sheet,
    /// What the bot tells the citizen about their request.
    Citizen,
}

/// The name of `status` in `form`, in `lang`.
pub fn name(status: Status, form: Form, lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => ru(status, form),
        Lang::En => en(status, form),
    }
}

/// The name of a status given by its key (`in_work`), as views and counts carry it; a key that
/// names no status is shown as it is.
pub fn name_of_key(key: &str, form: Form, lang: Lang) -> String {
    match key.parse::<Status>() {
        Ok(s) => name(s, form, lang).to_string(),
        Err(_) => key.to_string(),
    }
}

/// The bot's status word for the citizen, as the gateway's rules take it: a plain `fn`.
pub fn for_citizen(lang: Lang) -> fn(Status) -> &'static str {
    match lang {
        Lang::Ru => |s| ru(s, Form::Citizen),
        Lang::En => |s| en(s, Form::Citizen),
    }
}

/// The Russian name: the only place a Russian status word is spelled.
fn ru(status: Status, form: Form) -> &'static str {
    use Form::*;
    use Status::*;
    match (status, form) {
        (New, Row | Column | Sheet | Citizen) => "новое",
        (New, Count | Tile) => "новые",
        (InWork, _) => "в работе",
        (WaitingDepartment, Row | Sheet | Citizen) => "ждёт департамент",
        (WaitingDepartment, Column) => "ждёт деп.",
        (WaitingDepartment, Count) => "ждут ведомство",
        (WaitingDepartment, Tile) => "ждут деп.",
        (WaitingCitizen, Row | Sheet) => "ждёт заявителя",
        (WaitingCitizen, Column) => "ждёт заяв.",
        (WaitingCitizen, Count) => "ждут заявителя",
        (WaitingCitizen, Tile) => "ждут заяв.",
        (WaitingCitizen, Citizen) => "ждёт вашего ответа",
        (Answered, _) => "отвечено",
        (Closed, Row | Column | Sheet | Citizen) => "закрыто",
        (Closed, Count | Tile) => "закрыты",
    }
}

/// The English name: the only place an English status word is spelled.
fn en(status: Status, form: Form) -> &'static str {
    use Form::*;
    use Status::*;
    match (status, form) {
        (New, Citizen) => "registered",
        (New, _) => "new",
        (InWork, _) => "in work",
        (WaitingDepartment, Row | Count) => "waiting department",
        (WaitingDepartment, Column | Tile) => "waiting dept",
        (WaitingDepartment, Sheet) => "waiting for department",
        (WaitingDepartment, Citizen) => "passed to the department",
        (WaitingCitizen, Row | Count | Sheet) => "waiting citizen",
        (WaitingCitizen, Column | Tile) => "waiting citizen",
        (WaitingCitizen, Citizen) => "waiting for your answer",
        (Answered, _) => "answered",
        (Closed, _) => "closed",
    }
}

/// The status an operator means by a Russian word in the console's filter (`статус:закр`):
/// the start of its name is enough.
pub fn from_ru_word(word: &str) -> Option<Status> {
    // «ждёт заявителя», «ждут заяв.», «жд_заяв»: the citizen's wait; any other «жд…» the
    // department's.
    if word.starts_with("жд") && word.contains("заяв") {
        return Some(Status::WaitingCitizen);
    }
    const STEMS: [(&str, Status); 6] = [
        ("нов", Status::New),
        ("в_работе", Status::InWork),
        ("работ", Status::InWork),
        ("жд", Status::WaitingDepartment),
        ("отвеч", Status::Answered),
        ("закр", Status::Closed),
    ];
    STEMS
        .iter()
        .find(|(stem, _)| word.starts_with(stem))
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_russian_name_leads_back_to_its_status() {
        for s in Status::ALL {
            for form in [
                Form::Row,
                Form::Column,
                Form::Count,
                Form::Tile,
                Form::Sheet,
            ] {
                let word = name(s, form, Lang::Ru).replace(' ', "_");
                assert_eq!(from_ru_word(&word), Some(s), "{word}");
            }
        }
    }

    #[test]
    fn keys_are_named_and_strangers_kept() {
        assert_eq!(name_of_key("new", Form::Count, Lang::Ru), "новые");
        assert_eq!(
            name_of_key("waiting_department", Form::Row, Lang::En),
            "waiting department"
        );
        assert_eq!(name_of_key("lost", Form::Row, Lang::Ru), "lost");
    }
}
