//! Another system's `GET requests.json` answer into channel-neutral events. Servers differ in
//! the details (ids and coordinates as numbers or strings, naive or offset times, extra
//! fields), so each request is read on its own: one odd entry is reported and skipped, never a
//! reason to drop the page.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::domain::request::{Attachment, AttachmentState, Location};
use crate::wire::intake::{Batch, Inbound, InboundEvent, IncomingMessage, Malformed};

/// The longest description kept; the spec caps it at 4,000 characters, a hostile server may not.
const MAX_TEXT: usize = 8_000;

/// Reads one page. `cursor` is the newest change time seen so far; the next cursor is the
/// newest in this page, so a page of old changes never moves it back.
pub fn page(body: &str, cursor: Option<&str>) -> Result<(Batch, usize), String> {
    let doc: Value =
        serde_json::from_str(body).map_err(|e| format!("requests.json is not JSON: {e}"))?;
    let items = match &doc {
        Value::Array(a) => a,
        // Some servers wrap the list: {"service_requests": [...]}
        Value::Object(o) => o
            .get("service_requests")
            .or_else(|| o.get("requests"))
            .and_then(Value::as_array)
            .ok_or("requests.json: neither a list nor {service_requests: [...]}")?,
        _ => return Err("requests.json: not a list of requests".into()),
    };
    let mut batch = Batch::default();
    let mut newest: Option<DateTime<Utc>> = cursor.and_then(time);
    for raw in items {
        let id = string(raw.get("service_request_id"));
        match request(raw) {
            Ok((changed, inbound)) => {
                newest = newest.max(changed);
                batch.events.push(InboundEvent {
                    // The remote request is registered once; later sightings (its updates)
                    // are recognised by this id and add nothing.
                    external_id: id.clone().unwrap_or_default(),
                    payload: payload(raw),
                    inbound,
                });
            }
            Err(reason) => batch.malformed.push(Malformed {
                external_id: id,
                reason,
            }),
        }
    }
    batch.next_cursor = newest
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .or_else(|| cursor.map(str::to_string));
    Ok((batch, items.len()))
}

/// One request: when it last changed, and what it means here.
fn request(v: &Value) -> Result<(Option<DateTime<Utc>>, Inbound), String> {
    let id = string(v.get("service_request_id")).ok_or("request without service_request_id")?;
    if id.is_empty() || id.len() > 200 {
        return Err("service_request_id is empty or too long".into());
    }
    let requested = v
        .get("requested_datetime")
        .and_then(Value::as_str)
        .and_then(time);
    let updated = v
        .get("updated_datetime")
        .and_then(Value::as_str)
        .and_then(time);
    let changed = updated.or(requested);
    let status = v.get("status").and_then(Value::as_str).unwrap_or("open");
    if status.eq_ignore_ascii_case("closed") {
        return Ok((
            changed,
            Inbound::Ignored {
                reason: "closed at the source before it reached us".into(),
            },
        ));
    }
    let at = requested
        .or(updated)
        .ok_or("request without a valid requested_datetime")?;
    let service = string(v.get("service_name")).or_else(|| string(v.get("service_code")));
    let description = string(v.get("description")).unwrap_or_default();
    let mut text = match (service, description.trim()) {
        (Some(s), "") => s,
        (Some(s), d) => format!("[{s}] {d}"),
        (None, d) => d.to_string(),
    };
    if text.trim().is_empty() {
        return Err("request without description or service".into());
    }
    if text.chars().count() > MAX_TEXT {
        text = text.chars().take(MAX_TEXT).collect();
    }
    let lat = number(v.get("lat"));
    let lon = number(v.get("long"));
    let address = string(v.get("address")).filter(|a| !a.trim().is_empty());
    let location = (lat.is_some() || address.is_some()).then(|| Location {
        lat: lat.filter(|l| (-90.0..=90.0).contains(l)),
        lon: lon.filter(|l| (-180.0..=180.0).contains(l)),
        address,
    });
    let attachments = string(v.get("media_url"))
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(|url| Attachment {
            kind: "photo".into(),
            name: url.rsplit('/').next().map(str::to_string),
            size: None,
            source: Some(url),
            local_path: None,
            state: AttachmentState::Pending,
        })
        .into_iter()
        .collect();
    let author = [v.get("first_name"), v.get("last_name")]
        .iter()
        .filter_map(|f| string(*f))
        .collect::<Vec<_>>()
        .join(" ");
    Ok((
        changed,
        Inbound::Message(IncomingMessage {
            chat: id.clone(),
            message: id,
            author: (!author.trim().is_empty()).then_some(author),
            text,
            attachments,
            location,
            reply_to: None,
            media_group: None,
            category: string(v.get("service_code")),
            phone: None,
            at,
            subject: None,
        }),
    ))
}

/// W3C date-times as the spec asks (with an offset), and the offset-less ones some servers send
/// (taken as UTC).
pub fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
}

fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn payload(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= 64 * 1024 {
        return s;
    }
    let mut end = 64 * 1024;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of GeoReport v2's `GET requests.json` (spec example fields), with the
    /// variations real servers show: numeric ids, string coordinates, no offset.
    const PAGE: &str = r#"[
      {"service_request_id": "638344", "status": "open", "status_notes": null,
       "service_name": "Яма на дороге", "service_code": "roads",
       "description": "Глубокая яма у остановки «Школа №5»",
       "agency_responsible": null, "service_notice": null,
       "requested_datetime": "2026-11-30T08:15:00+03:00",
       "updated_datetime": "2026-11-30T08:20:00+03:00",
       "expected_datetime": null, "address": "ул. Красная, 12", "address_id": null,
       "zipcode": null, "lat": 45.0355, "long": 38.9753,
       "media_url": "https://platform.example/media/638344.jpg"},
      {"service_request_id": 638345, "status": "open", "service_code": "waste",
       "description": "", "requested_datetime": "2026-11-30T06:00:00",
       "lat": "45.04", "long": "38.98"},
      {"service_request_id": "638346", "status": "closed", "service_code": "waste",
       "requested_datetime": "2026-11-29T10:00:00Z", "updated_datetime": "2026-11-30T09:00:00Z"},
      {"status": "open", "requested_datetime": "2026-11-30T06:00:00Z", "description": "x"},
      {"service_request_id": "638347", "status": "open", "description": "нет времени"}
    ]"#;

    #[test]
    fn requests_become_messages_and_odd_ones_are_reported_not_fatal() {
        let (b, n) = page(PAGE, None).unwrap();
        assert_eq!(n, 5);
        assert_eq!(b.events.len(), 3, "{:?}", b.malformed);
        assert_eq!(b.malformed.len(), 2);
        let Inbound::Message(m) = &b.events[0].inbound else {
            panic!("{:?}", b.events[0])
        };
        assert_eq!(b.events[0].external_id, "638344");
        assert_eq!(m.chat, "638344");
        assert_eq!(
            m.text,
            "[Яма на дороге] Глубокая яма у остановки «Школа №5»"
        );
        assert_eq!(m.at, time("2026-11-30T05:15:00Z").unwrap());
        let loc = m.location.clone().unwrap();
        assert_eq!((loc.lat, loc.lon), (Some(45.0355), Some(38.9753)));
        assert_eq!(loc.address.as_deref(), Some("ул. Красная, 12"));
        assert_eq!(
            m.attachments[0].source.as_deref(),
            Some("https://platform.example/media/638344.jpg")
        );
        // A numeric id and string coordinates; no description: the service names it.
        let Inbound::Message(m) = &b.events[1].inbound else {
            panic!()
        };
        assert_eq!(b.events[1].external_id, "638345");
        assert_eq!(m.text, "waste");
        assert_eq!(m.location.clone().unwrap().lat, Some(45.04));
        // Closed at the source: kept as seen, not made into work.
        assert!(matches!(b.events[2].inbound, Inbound::Ignored { .. }));
        // The cursor is the newest change seen, the closed one's included.
        assert_eq!(b.next_cursor.as_deref(), Some("2026-11-30T09:00:00Z"));
    }

    #[test]
    fn an_older_page_never_moves_the_cursor_back_and_an_empty_one_keeps_it() {
        let (b, _) = page(PAGE, Some("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(b.next_cursor.as_deref(), Some("2026-12-01T00:00:00Z"));
        let (b, n) = page("[]", Some("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(
            (n, b.next_cursor.as_deref()),
            (0, Some("2026-12-01T00:00:00Z"))
        );
        let (b, _) = page(r#"{"service_requests": []}"#, None).unwrap();
        assert!(b.events.is_empty() && b.next_cursor.is_none());
    }

    #[test]
    fn not_a_list_is_an_error_and_hostile_values_are_bounded() {
        assert!(page("<html>", None).is_err());
        assert!(page("42", None).is_err());
        let long = "я".repeat(20_000);
        let body = format!(
            r#"[{{"service_request_id": "1", "requested_datetime": "2026-11-30T06:00:00Z",
                "description": "{long}", "lat": "1e999", "long": "nan", "media_url": "file:///etc/passwd"}}]"#
        );
        let (b, _) = page(&body, None).unwrap();
        let Inbound::Message(m) = &b.events[0].inbound else {
            panic!("{b:?}")
        };
        assert_eq!(m.text.chars().count(), MAX_TEXT);
        assert!(m.location.is_none(), "{:?}", m.location);
        assert!(m.attachments.is_empty(), "only http(s) media are fetched");
    }
}
