//! Audit events in the operator's words, for the console's thread and `mcu show`: field names
//! and values as people say them — a topic's name, «решено», a place as coordinates, a
//! duplicate's number — never a raw key, a UUID or a Rust debug form.

use chrono_tz::Tz;

use super::{names, status};
use crate::domain::Catalog;
use crate::domain::request::{DeliveryState, Event};
use crate::lang::Lang;
use crate::sanitize;

pub struct AuditContext<'a> {
    pub catalog: &'a Catalog,
    pub tz: Tz,
    pub lang: Lang,
    /// The number of the request this one duplicates, for the `parent` line.
    pub parent_number: Option<&'a str>,
}

fn field_name(lang: Lang, field: &str) -> Option<&'static str> {
    let (ru, en) = match field {
        "status" => ("статус", "status"),
        "assignee" => ("исполнитель", "assignee"),
        "topic" => ("тема", "topic"),
        "department" => ("департамент", "department"),
        "priority" => ("приоритет", "priority"),
        "tag" => ("метка", "tag"),
        "close_reason" => ("причина закрытия", "close reason"),
        "parent" => ("дубликат обращения", "duplicate of"),
        "merged_into" => ("объединено с обращением", "merged into"),
        "returned" => ("возвращено департаментом", "returned by the department"),
        "created" => ("создано", "created"),
        "location" => ("место", "location"),
        "delivery" => ("доставка ответа", "reply delivery"),
        "reply_settled" => ("недоставленный ответ", "undelivered reply"),
        "escalated" => ("сообщено старшим смены", "shift leads told"),
        "warned" => ("старшие смены предупреждены", "shift leads warned"),
        "phone" => ("телефон", "phone"),
        "split" => (
            "сообщение выделено в новое обращение",
            "a message split into a new request",
        ),
        "reminded" => ("напоминание заявителю", "citizen reminded"),
        // Shown by the thread itself (a message, a file, the first reply's clock).
        _ => return None,
    };
    Some(lang.pick(ru, en))
}

/// `Some(45.03), Some(38.97)` (how older versions wrote a place) or `45.030000, 38.970000`.
fn place(v: &str) -> String {
    let nums: Vec<f64> = v
        .split(',')
        .filter_map(|p| {
            p.trim()
                .trim_start_matches("Some(")
                .trim_end_matches(')')
                .parse()
                .ok()
        })
        .collect();
    match nums[..] {
        [lat, lon] => format!("{lat:.5}, {lon:.5}"),
        _ => v.replace("None", "—"),
    }
}

fn value(cx: &AuditContext, field: &str, v: Option<&str>) -> String {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return "—".into();
    };
    let lang = cx.lang;
    let json = |v: &str| serde_json::Value::String(v.to_string());
    let named = match field {
        "status" => status::name_of_key(v, status::Form::Row, lang),
        "topic" => names::topic(cx.catalog, v, lang),
        "department" | "returned" => names::department(cx.catalog, v, lang),
        "priority" => v
            .parse()
            .map_or_else(|_| v.to_string(), |p| names::priority(p, lang).into()),
        "close_reason" => v
            .parse()
            .map_or_else(|_| v.to_string(), |r| names::close_reason(r, lang).into()),
        "delivery" => serde_json::from_value::<DeliveryState>(json(v))
            .map_or_else(|_| v.to_string(), |d| names::delivery(d, lang).into()),
        "reply_settled" => match v {
            "phoned" => lang.pick("сообщено по телефону", "told by phone").into(),
            "unreachable" => lang
                .pick("заявитель недоступен", "citizen unreachable")
                .into(),
            other => other.into(),
        },
        "parent" | "merged_into" => cx.parent_number.map_or_else(
            || lang.pick("другого обращения", "another request").into(),
            str::to_string,
        ),
        "location" => place(v),
        "escalated" => match v {
            "first_response" => lang.pick("нет ответа в срок", "no answer in time"),
            "department" => lang.pick("департамент не ответил в срок", "department late"),
            "resolution" => lang.pick("не решено в срок", "not resolved in time"),
            other => other,
        }
        .into(),
        "warned" => match v {
            "first_response" => lang.pick("скоро срок ответа", "answer nearly due"),
            "department" => lang.pick("скоро срок департамента", "department nearly due"),
            "resolution" => lang.pick("скоро срок решения", "resolution nearly due"),
            other => other,
        }
        .into(),
        "reminded" => lang.pick("отправлено", "sent").into(),
        "phone" => crate::domain::phone::display(v),
        _ => v.to_string(),
    };
    sanitize::line(&named)
}

/// `14:05 · anna · статус: новое → в работе`; None for events the thread already shows.
pub fn describe(cx: &AuditContext, e: &Event) -> Option<String> {
    let name = field_name(cx.lang, &e.field)?;
    let change = match (e.field.as_str(), &e.old, &e.new) {
        ("created" | "split", _, _) => String::new(),
        ("tag", None, Some(t)) => format!(": +{}", sanitize::line(t)),
        ("returned", old, _) => format!(": {}", value(cx, "returned", old.as_deref())),
        ("tag", Some(t), None) => format!(": −{}", sanitize::line(t)),
        (
            "parent" | "merged_into" | "reply_settled" | "location" | "escalated" | "warned"
            | "reminded",
            _,
            new,
        ) => {
            format!(": {}", value(cx, &e.field, new.as_deref()))
        }
        (f, old, new) => format!(
            ": {} → {}",
            value(cx, f, old.as_deref()),
            value(cx, f, new.as_deref())
        ),
    };
    Some(format!(
        "{} · {} · {name}{change}",
        e.at.with_timezone(&cx.tz).format("%d.%m %H:%M"),
        sanitize::line(&e.actor)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn event(field: &str, old: Option<&str>, new: Option<&str>) -> Event {
        Event {
            request_id: Uuid::now_v7(),
            mutation_id: Uuid::now_v7(),
            at: Utc.with_ymd_and_hms(2026, 11, 2, 11, 5, 0).unwrap(),
            actor: "anna".into(),
            field: field.into(),
            old: old.map(str::to_string),
            new: new.map(str::to_string),
        }
    }

    /// Issue #15 item 9: no debug forms, raw keys or UUIDs in the audit.
    #[test]
    fn audit_lines_speak_the_operators_words() {
        let catalog = Catalog::krasnodar();
        let cx = AuditContext {
            catalog: &catalog,
            tz: chrono_tz::Europe::Moscow,
            lang: Lang::Ru,
            parent_number: Some("2026-000017"),
        };
        let line = |f, o, n| describe(&cx, &event(f, o, n)).unwrap();
        assert_eq!(
            line("location", None, Some("Some(45.0312), Some(38.9745)")),
            "02.11 14:05 · anna · место: 45.03120, 38.97450"
        );
        assert_eq!(
            line("close_reason", None, Some("resolved")),
            "02.11 14:05 · anna · причина закрытия: — → решено"
        );
        let parent = Uuid::now_v7().to_string();
        assert_eq!(
            line("parent", None, Some(&parent)),
            "02.11 14:05 · anna · дубликат обращения: 2026-000017"
        );
        assert_eq!(
            line("escalated", None, Some("department")),
            "02.11 14:05 · anna · сообщено старшим смены: департамент не ответил в срок"
        );
        assert_eq!(
            line("warned", None, Some("first_response")),
            "02.11 14:05 · anna · старшие смены предупреждены: скоро срок ответа"
        );
        assert_eq!(
            line("status", Some("new"), Some("in_work")),
            "02.11 14:05 · anna · статус: новое → в работе"
        );
        assert_eq!(
            line("topic", None, Some("waste")),
            "02.11 14:05 · anna · тема: — → Мусор"
        );
        assert_eq!(
            line("delivery", Some("queued"), Some("failed")),
            "02.11 14:05 · anna · доставка ответа: в очереди → не доставлено"
        );
        assert_eq!(
            line("priority", Some("normal"), Some("urgent")),
            "02.11 14:05 · anna · приоритет: обычный → срочный"
        );
        assert!(describe(&cx, &event("first_response_at", None, Some("x"))).is_none());
    }
}
