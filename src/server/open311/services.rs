//! What the endpoint offers: discovery, and the catalog's topics as Open311 services. A topic
//! id is the `service_code` (stable: reports and imports use it too); the topic's department
//! is the `group`, the way a portal clusters its forms.

use serde_json::{Value, json};

use crate::domain::Catalog;

/// Topics a portal may not file under: a polite decline is the center's call, not a form's.
const NOT_OFFERED: &[&str] = &["out_of_scope"];

/// When this endpoint's shape last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-30T00:00:00Z";

pub fn discovery(base_url: &str, contact: &str) -> Value {
    json!({
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": "Ключ API выдаёт администратор МЦУ (mcu user add ИМЯ --role integration)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base_url,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    })
}

/// Whether `code` names a service a request may be filed under.
pub fn offered(catalog: &Catalog, code: &str) -> bool {
    !NOT_OFFERED.contains(&code) && catalog.topic(code).is_some()
}

pub fn list(catalog: &Catalog) -> Value {
    Value::Array(
        catalog
            .topics
            .iter()
            .filter(|t| offered(catalog, &t.id))
            .map(|t| {
                let department = t
                    .department
                    .as_deref()
                    .and_then(|d| catalog.department(d))
                    .map(|d| d.name.clone());
                let description = match &department {
                    Some(d) => format!("Обращения по теме «{}». Отвечает: {d}.", t.name),
                    None => format!("Обращения по теме «{}».", t.name),
                };
                json!({
                    "service_code": t.id,
                    "service_name": t.name,
                    "description": description,
                    "metadata": false,
                    "type": "realtime",
                    "keywords": null,
                    "group": department,
                })
            })
            .collect(),
    )
}

/// A definition with no attributes: every service has `metadata=false`, so a portal needs
/// none, but one that asks anyway gets a valid answer rather than an error.
pub fn definition(catalog: &Catalog, code: &str) -> Option<Value> {
    offered(catalog, code).then(|| json!({ "service_code": code, "attributes": [] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_become_services_grouped_by_department() {
        let c = Catalog::krasnodar();
        let list = list(&c);
        let all = list.as_array().unwrap();
        let roads = all.iter().find(|s| s["service_code"] == "roads").unwrap();
        assert_eq!(roads["service_name"], "Дороги");
        assert_eq!(
            roads["group"],
            "Департамент транспорта и дорожного хозяйства"
        );
        assert_eq!(
            (&roads["metadata"], &roads["type"]),
            (&json!(false), &json!("realtime"))
        );
        assert!(all.iter().all(|s| s["service_code"] != "out_of_scope"));
        assert_eq!(all.len(), c.topics.len() - 1);
        assert!(definition(&c, "roads").is_some());
        assert!(definition(&c, "out_of_scope").is_none());
        assert!(definition(&c, "nope").is_none());
    }
}
