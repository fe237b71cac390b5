//! Russian wording of refusals and store errors, for operators at the CLI and in the console;
//! English stays the source text (`Display`).

use crate::domain::Rejection;
use crate::domain::status::Transition;
use crate::lang::Lang;
use crate::present::status::{self, Form};
use crate::store::StoreError;

fn verb_ru(a: Transition) -> &'static str {
    match a {
        Transition::Change => "изменить",
        Transition::Claim => "взять в работу",
        Transition::Forward => "передать в департамент",
        Transition::DepartmentAnswer => "записать ответ департамента на",
        Transition::Reply => "ответить на",
        Transition::Close => "закрыть",
        Transition::Reopen => "переоткрыть",
        Transition::CitizenWrote => "добавить сообщение заявителя в",
    }
}

pub fn rejection_ru(r: &Rejection) -> String {
    match r {
        Rejection::NotFound => "обращение не найдено".into(),
        Rejection::AlreadyExists => "обращение уже существует".into(),
        Rejection::InvalidTransition(t) => {
            format!(
                "нельзя {} обращение: оно {}",
                verb_ru(t.action),
                status::name(t.from, Form::Row, Lang::Ru)
            )
        }
        Rejection::UnknownTopic(t) => format!("неизвестная тема `{t}`"),
        Rejection::UnknownDepartment(d) => format!("неизвестный департамент `{d}`"),
        Rejection::AlreadyClaimed(a) => format!("обращение уже взял(а) в работу {a}"),
        Rejection::NotAssignee(a) => format!("обращение назначено на {a}, а не на вас"),
        Rejection::NoDepartment => "не указан департамент: задайте --department".into(),
        Rejection::Empty(what) => format!("пустое значение: {what}"),
        Rejection::SelfLink => "обращение не может быть дубликатом самого себя".into(),
        Rejection::NoUndeliveredReply => "у обращения нет недоставленного ответа".into(),
        Rejection::Invalid(s) => s.clone(),
    }
}

/// The Russian message for store errors that have one; None keeps the English text.
pub fn store_error_ru(e: &StoreError) -> Option<String> {
    Some(match e {
        StoreError::Rejected(r) => rejection_ru(r),
        StoreError::UnknownRequest(k) => format!("нет обращения `{k}`"),
        StoreError::Busy => "база данных занята другой программой — повторите позже".into(),
        StoreError::TooNew { found, ours } => format!(
            "база данных записана более новой версией mcu (схема {found}, эта программа знает {ours}); обновите mcu"
        ),
        StoreError::Corrupt(d) => format!("база данных повреждена: {d}"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status::{Status, TransitionError};

    #[test]
    fn transition_refusal_reads_naturally() {
        let r = Rejection::InvalidTransition(TransitionError {
            from: Status::Closed,
            action: Transition::Close,
        });
        assert_eq!(rejection_ru(&r), "нельзя закрыть обращение: оно закрыто");
        assert_eq!(r.to_string(), "cannot close a request that is closed");
    }
}
