//! Russian wording of refusals and store errors, for operators at the CLI and in the console;
//! English stays the source text (`Display`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

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
        Transition::Return => "вернуть операторам",
        Transition::Reply => "ответить на",
        Transition::Ask => "задать вопрос заявителю по",
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
        StoreError::Sqlite(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) => {
            "на диске нет места: база данных не записана — освободите место и повторите".into()
        }
        // A write the file system refused (a file-size limit, a failing disk): nothing was
        // written, as with a full disk.
        StoreError::Sqlite(e)
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::SystemIoFailure) =>
        {
            "ошибка записи на диск: база данных не записана — проверьте место на диске и повторите"
                .into()
        }
        _ => return None,
    })
}

/// When, in the operator's time zone: the time alone today, with the day otherwise (a console
/// that was offline hears of a refusal late, and of changes older still).
fn at_words(at: DateTime<Utc>, tz: Tz, now: DateTime<Utc>, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    let hm = local.format("%H:%M");
    let today = local.date_naive() == now.with_timezone(&tz).date_naive();
    match (lang, today) {
        (Lang::En, true) => format!("at {hm}"),
        (Lang::En, false) => format!("at {hm} on {}", local.format("%d.%m")),
        (_, true) => format!("в {hm}"),
        (_, false) => format!("{} в {hm}", local.format("%d.%m")),
    }
}

/// A refusal from the sync server in the operator's language, with the value that stands now:
/// the server's code decides the words (its English text is the fallback), `current` — the
/// request as the server has it — says what it is now («теперь: Дороги, исполнитель boris»),
/// and `changed_by`/`changed_at` who made it so and when («— изменил(а) lena в 14:05»), in `tz`
/// as seen at `now`.
pub fn sync_refusal(
    r: &crate::store::mirror::Rejected,
    catalog: &crate::domain::Catalog,
    lang: Lang,
    tz: Tz,
    now: DateTime<Utc>,
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
    // Who made the value that stands now (an older server doesn't say).
    let changer = r.changed_by.as_deref().filter(|n| !n.trim().is_empty());
    let when = r.changed_at.map(|at| at_words(at, tz, now, lang));
    let text = match r.code.as_str() {
        // The one who took it is already the sentence's subject: only when is added.
        "already_claimed" if changer == Some(who.as_str()) => match (&when, en) {
            (Some(w), true) => format!("someone else has the request: {who} (took it {w})"),
            (Some(w), false) => format!("обращение уже взял(а) в работу {who} {w}"),
            (None, true) => format!("someone else has the request: {who}"),
            (None, false) => format!("обращение уже взял(а) в работу {who}"),
        },
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
        "unstorable" if !en => {
            "сервер не может сохранить это действие (недопустимые данные); оно отменено".into()
        }
        "too_long" if !en => format!("слишком длинный текст: {}", r.message),
        "out_of_range" if !en => format!("недопустимое значение: {}", r.message),
        _ if en => r.message.clone(),
        other => format!("сервер отказал ({other}): {}", r.message),
    };
    // Said where the text shows a value that stands now; the rest (a view-only account, a
    // forbidden action) is about the operator, not about a colleague's change.
    let names_a_value = match r.code.as_str() {
        "already_claimed" => changer != Some(who.as_str()),
        "not_assignee" | "stale_base" => true,
        "invalid_transition" => status.is_some(),
        _ => false,
    };
    let text = match changer {
        Some(name) if names_a_value => {
            let by = if en {
                format!("changed by {name}")
            } else {
                format!("изменил(а) {name}")
            };
            match when {
                Some(w) => format!("{text} — {by} {w}"),
                None => format!("{text} — {by}"),
            }
        }
        _ => text,
    };
    // One line whatever the server sent: a name with a newline or an escape can't break it.
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

    /// The request as the server has it: routed to the roads department, boris on it.
    fn claimed_by_boris() -> serde_json::Value {
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
        serde_json::to_value(&current).unwrap()
    }

    fn rejected(
        code: &str,
        message: &str,
        current: Option<serde_json::Value>,
    ) -> crate::store::mirror::Rejected {
        crate::store::mirror::Rejected {
            mutation_uuid: uuid::Uuid::now_v7(),
            request_id: uuid::Uuid::now_v7(),
            number: Some("2026-000005".into()),
            code: code.into(),
            message: message.into(),
            current,
            draft: None,
            changed_by: None,
            changed_at: None,
        }
    }

    /// 30 November 2026, 14:05 in Krasnodar (UTC+3).
    fn at_1405() -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 11, 30, 11, 5, 0).unwrap()
    }

    #[test]
    fn a_sync_refusal_says_what_stands_now_in_russian() {
        let catalog = crate::domain::Catalog::krasnodar();
        let (tz, now) = (chrono_tz::Europe::Moscow, at_1405());
        let r = rejected;
        let doc = Some(claimed_by_boris());
        assert_eq!(
            sync_refusal(
                &r(
                    "stale_base",
                    "the department was changed meanwhile (now: transport_roads)",
                    doc.clone()
                ),
                &catalog,
                Lang::Ru,
                tz,
                now
            ),
            "департамент успели изменить; теперь: Департамент транспорта и дорожного хозяйства"
        );
        assert_eq!(
            sync_refusal(&r("already_claimed", "x", doc), &catalog, Lang::Ru, tz, now),
            "обращение уже взял(а) в работу boris"
        );
        assert_eq!(
            sync_refusal(&r("read_only", "x", None), &catalog, Lang::Ru, tz, now),
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
                Lang::Ru,
                tz,
                now
            ),
            "назначать обращения другим может только старший смены"
        );
    }

    /// Issue #15 item 6: the refusal names who made the value that stands now and when, in the
    /// console's time zone, without naming the same person twice.
    #[test]
    fn a_sync_refusal_says_who_changed_it_and_when() {
        let catalog = crate::domain::Catalog::krasnodar();
        let tz = chrono_tz::Europe::Moscow;
        let by = |code: &str, message: &str, name: &str| crate::store::mirror::Rejected {
            changed_by: Some(name.into()),
            changed_at: Some(at_1405()),
            ..rejected(code, message, Some(claimed_by_boris()))
        };
        let ru = |r: &crate::store::mirror::Rejected| {
            sync_refusal(
                r,
                &catalog,
                Lang::Ru,
                tz,
                at_1405() + chrono::Duration::hours(2),
            )
        };
        let en = |r: &crate::store::mirror::Rejected| {
            sync_refusal(
                r,
                &catalog,
                Lang::En,
                tz,
                at_1405() + chrono::Duration::hours(2),
            )
        };
        // Boris took it himself: he is already the one the sentence is about.
        let took = by("already_claimed", "x", "boris");
        assert_eq!(ru(&took), "обращение уже взял(а) в работу boris в 14:05");
        assert_eq!(
            en(&took),
            "someone else has the request: boris (took it at 14:05)"
        );
        // A lead put boris on it.
        let assigned = by("already_claimed", "x", "lena");
        assert_eq!(
            ru(&assigned),
            "обращение уже взял(а) в работу boris — изменил(а) lena в 14:05"
        );
        assert_eq!(
            en(&assigned),
            "someone else has the request: boris — changed by lena at 14:05"
        );
        assert_eq!(
            ru(&by("not_assignee", "x", "boris")),
            "обращение назначено на boris, а не на вас — изменил(а) boris в 14:05"
        );
        assert_eq!(
            ru(&by(
                "stale_base",
                "the department was changed meanwhile (now: transport_roads)",
                "lena"
            )),
            "департамент успели изменить; теперь: Департамент транспорта и дорожного хозяйства \
             — изменил(а) lena в 14:05"
        );
        // Heard of the next morning: the day too.
        let late = sync_refusal(
            &by("stale_base", "the assignee was changed meanwhile", "lena"),
            &catalog,
            Lang::Ru,
            tz,
            at_1405() + chrono::Duration::hours(20),
        );
        assert_eq!(
            late,
            "исполнителя успели изменить; теперь: boris — изменил(а) lena 30.11 в 14:05"
        );
        assert_eq!(
            en(&by("invalid_transition", "x", "lena")),
            "not possible: the request is new now — changed by lena at 14:05"
        );
        // A refusal about the account, not a value: nobody to name.
        assert_eq!(
            ru(&by("read_only", "x", "lena")),
            "учётная запись только для просмотра: сервер не принимает от неё изменений"
        );
        // A name from the server can't drive the terminal.
        let hostile = ru(&by("not_assignee", "x", "le\u{1b}[2Jna\n"));
        assert!(
            !hostile.contains('\u{1b}') && !hostile.contains('\n'),
            "{hostile:?}"
        );
        assert!(
            hostile.ends_with("изменил(а) le[2Jna  в 14:05"),
            "{hostile:?}"
        );
    }
}
