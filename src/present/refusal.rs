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
        Rejection::TooLong { field, max } => {
            format!(
                "слишком длинно ({}): не больше {max} символов",
                field_ru(field)
            )
        }
        Rejection::OutOfRange { field, why } => format!(
            "недопустимое значение ({}): {}",
            field_ru(field),
            match *why {
                "between 2000-01-01 and a day from now" => "от 2000-01-01 до завтрашнего дня",
                "at most 50 files" => "не больше 50 файлов",
                "from -90 to 90" => "от -90 до 90",
                "from -180 to 180" => "от -180 до 180",
                "lat and lon come together" => "широта и долгота задаются вместе",
                other => other,
            }
        ),
    }
}

/// A field's name in the refusals above.
fn field_ru(field: &str) -> &str {
    match field {
        "text" => "текст",
        "note" => "заметка",
        "tag" => "метка",
        "citizen" => "заявитель",
        "actor" | "assignee" => "имя оператора",
        "address" => "адрес",
        "received_at" => "время поступления",
        "closed_at" => "время закрытия",
        "first_response_at" => "время первого ответа",
        "at" => "время сообщения",
        "lat" => "широта",
        "lon" => "долгота",
        "attachments" => "вложения",
        other => other,
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

/// A refusal from the sync server in the operator's language, with the value that stands now:
/// the server's code decides the words (its English text is the fallback), and `current` — the
/// request as the server has it — says what it is now («теперь: Дороги, исполнитель boris»).
pub fn sync_refusal(
    r: &crate::store::mirror::Rejected,
    catalog: &crate::domain::Catalog,
    lang: Lang,
) -> String {
    let cur = r
        .current
        .as_ref()
        .and_then(|c| serde_json::from_value::<crate::domain::Request>(c.clone()).ok());
    let who = cur
        .as_ref()
        .and_then(|c| c.assignee.clone())
        .unwrap_or_else(|| lang.pick("никто", "nobody").into());
    let dep = cur
        .as_ref()
        .and_then(|c| c.department.as_deref())
        .map_or_else(
            || "—".into(),
            |d| super::names::department(catalog, d, lang),
        );
    let status = cur
        .as_ref()
        .map(|c| status::name(c.status, Form::Row, lang));
    let en = lang == Lang::En;
    let text = match r.code.as_str() {
        "already_claimed" if en => format!("someone else has the request: {who}"),
        "already_claimed" => format!("обращение уже взял(а) в работу {who}"),
        "not_assignee" if en => format!("the request is assigned to {who}, not to you"),
        "not_assignee" => format!("обращение назначено на {who}, а не на вас"),
        "stale_base" if r.message.contains("department") => {
            if en {
                format!("the department was changed meanwhile; now: {dep}")
            } else {
                format!("департамент успели изменить; теперь: {dep}")
            }
        }
        "stale_base" if en => format!("the assignee was changed meanwhile; now: {who}"),
        "stale_base" => format!("исполнителя успели изменить; теперь: {who}"),
        "invalid_transition" => match status {
            Some(s) if en => format!("not possible: the request is {s} now"),
            Some(s) => format!("так нельзя: обращение теперь {s}"),
            None => r.message.clone(),
        },
        "read_only" if en => "a view-only account: the server takes no changes from it".into(),
        "read_only" => {
            "учётная запись только для просмотра: сервер не принимает от неё изменений".into()
        }
        "forbidden" if r.message.contains("assigning") => {
            if en {
                "only a shift lead assigns requests to others".into()
            } else {
                "назначать обращения другим может только старший смены".into()
            }
        }
        "forbidden" if en => format!("not allowed for this account: {}", r.message),
        "forbidden" => "этой учётной записи такое действие не разрешено".into(),
        "not_found" if en => "the server has no such request".into(),
        "not_found" => "на сервере нет такого обращения".into(),
        "unknown_topic" | "unknown_department" if !en => {
            "сервер не знает такой темы или департамента: обновите справочник".into()
        }
        _ if en => r.message.clone(),
        other => format!("сервер отказал ({other}): {}", r.message),
    };
    crate::sanitize::line(&text)
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

    #[test]
    fn a_sync_refusal_says_what_stands_now_in_russian() {
        use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
        use crate::domain::{Catalog, Channel, ClockPolicy, RequestNumber, apply};
        let catalog = Catalog::krasnodar();
        let policy = ClockPolicy::default();
        let t = chrono::Utc::now();
        let new = NewRequest {
            department: Some("transport_roads".into()),
            ..NewRequest::new(Channel::Phone, "Яма", t)
        };
        let m = Mutation::new(uuid::Uuid::now_v7(), "anna", t, Op::Create(Box::new(new)));
        let ctx = Ctx {
            catalog: &catalog,
            policy: &policy,
            now: t,
            new_number: Some(RequestNumber::new(2026, 5)),
        };
        let mut current = apply(None, &m, &ctx).unwrap().request;
        current.assignee = Some("boris".into());
        let r = |code: &str, message: &str, current: Option<serde_json::Value>| {
            crate::store::mirror::Rejected {
                mutation_uuid: uuid::Uuid::now_v7(),
                request_id: uuid::Uuid::now_v7(),
                number: Some("2026-000005".into()),
                code: code.into(),
                message: message.into(),
                current,
                draft: None,
            }
        };
        let doc = serde_json::to_value(&current).ok();
        assert_eq!(
            sync_refusal(
                &r(
                    "stale_base",
                    "the department was changed meanwhile (now: transport_roads)",
                    doc.clone()
                ),
                &catalog,
                Lang::Ru
            ),
            "департамент успели изменить; теперь: Департамент транспорта и дорожного хозяйства"
        );
        assert_eq!(
            sync_refusal(&r("already_claimed", "x", doc), &catalog, Lang::Ru),
            "обращение уже взял(а) в работу boris"
        );
        assert_eq!(
            sync_refusal(&r("read_only", "x", None), &catalog, Lang::Ru),
            "учётная запись только для просмотра: сервер не принимает от неё изменений"
        );
        assert_eq!(
            sync_refusal(
                &r(
                    "forbidden",
                    "an operator claims for themself; assigning is for a shift lead",
                    None
                ),
                &catalog,
                Lang::Ru
            ),
            "назначать обращения другим может только старший смены"
        );
    }
}
