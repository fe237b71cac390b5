//! Audit events as lines of the detail's thread: who changed what, in the operator's words.

use super::app::App;
use super::strings::Lang;
use crate::domain::Status;
use crate::domain::request::Event;
use crate::present::names;
use crate::sanitize;

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
        "created" => ("создано", "created"),
        "location" => ("место", "location"),
        // Shown by the thread itself (a message, a file, the first reply's clock).
        _ => return None,
    };
    Some(if lang == Lang::En { en } else { ru })
}

fn value(app: &App, field: &str, v: Option<&str>) -> String {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return "—".into();
    };
    let named = match field {
        "status" => v
            .parse::<Status>()
            .ok()
            .map(|s| app.lang.status(s).to_string()),
        "topic" => Some(names::topic(&app.catalog, v, app.lang)),
        "department" => Some(names::department(&app.catalog, v, app.lang)),
        _ => None,
    };
    sanitize::line(&named.unwrap_or_else(|| v.to_string()))
}

/// `14:05 · anna · статус: новое → в работе`; None for events the thread already shows.
pub fn describe(app: &App, e: &Event) -> Option<String> {
    let name = field_name(app.lang, &e.field)?;
    let change = match (e.field.as_str(), &e.old, &e.new) {
        ("created", _, _) => String::new(),
        ("tag", None, Some(t)) => format!(": +{}", sanitize::line(t)),
        ("tag", Some(t), None) => format!(": −{}", sanitize::line(t)),
        (f, old, new) => format!(
            ": {} → {}",
            value(app, f, old.as_deref()),
            value(app, f, new.as_deref())
        ),
    };
    Some(format!(
        "{} · {} · {name}{change}",
        e.at.with_timezone(&app.tz).format("%d.%m %H:%M"),
        sanitize::line(&e.actor)
    ))
}
