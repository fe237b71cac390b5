//! `GET requests` and `GET requests/{id}`: the query's parameters as the spec defines them,
//! and one of our requests as an Open311 record. Only requests that came in through Open311
//! are visible here: a Telegram citizen never agreed to have a portal read their request.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::format::O311Error;
use crate::domain::request::{Direction, Message};
use crate::domain::{Catalog, Request, Status};

/// The spec's defaults: a span of 90 days, the first 1000 requests.
pub const MAX_SPAN_DAYS: i64 = 90;
pub const MAX_RESULTS: usize = 1000;
/// Ids one `service_request_id` list may name.
pub const MAX_IDS: usize = 100;
/// Rows read from the store for one window before the status and service filters: a window
/// of 90 days of one city's Open311 requests stays far below it.
pub const SCAN_LIMIT: usize = 20_000;

#[derive(Debug, PartialEq)]
pub enum Query {
    /// `service_request_id=a,b`: overrides every other parameter.
    Ids(Vec<String>),
    Window {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        codes: Vec<String>,
        open: Option<bool>,
    },
}

fn one<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, O311Error> {
    let mut found = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    let first = found.next();
    if found.next().is_some() {
        return Err(O311Error::bad(format!("поле {name} указано дважды")));
    }
    Ok(first.map(|s| s.trim()).filter(|s| !s.is_empty()))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// W3C date-time (with an offset or `Z`), or a bare date taken as midnight in the city.
fn date(name: &str, v: &str, tz: Tz) -> Result<DateTime<Utc>, O311Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        && let Some(t) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
    {
        return Ok(t.with_timezone(&Utc));
    }
    Err(O311Error::bad(format!(
        "{name}: ожидается дата W3C, например 2026-11-30T10:00:00+03:00"
    )))
}

pub fn parse(params: &[(String, String)], tz: Tz, now: DateTime<Utc>) -> Result<Query, O311Error> {
    if let Some(ids) = one(params, "service_request_id")? {
        let ids = list(ids);
        if ids.len() > MAX_IDS {
            return Err(O311Error::bad(format!(
                "service_request_id: не больше {MAX_IDS} номеров"
            )));
        }
        return Ok(Query::Ids(ids));
    }
    let start = one(params, "start_date")?
        .map(|v| date("start_date", v, tz))
        .transpose()?;
    let end = one(params, "end_date")?
        .map(|v| date("end_date", v, tz))
        .transpose()?;
    let span = Duration::days(MAX_SPAN_DAYS);
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, (s + span).min(now)),
        (None, Some(e)) => (e - span, e),
        (None, None) => (now - span, now),
    };
    if from > to {
        return Err(O311Error::bad("start_date позже end_date"));
    }
    if to - from > span {
        return Err(O311Error::bad(format!(
            "между start_date и end_date не больше {MAX_SPAN_DAYS} дней"
        )));
    }
    let open = match one(params, "status")?.map(list) {
        None => None,
        Some(s) => {
            let (mut o, mut c) = (false, false);
            for v in &s {
                match v.as_str() {
                    "open" => o = true,
                    "closed" => c = true,
                    _ => return Err(O311Error::bad("status: open или closed")),
                }
            }
            // Both asked for is the same as neither.
            (o != c).then_some(o)
        }
    };
    let codes = one(params, "service_code")?.map(list).unwrap_or_default();
    // The end is inclusive in the spec; the store's window is half-open.
    Ok(Query::Window {
        from,
        to: to + Duration::milliseconds(1),
        codes,
        open,
    })
}

/// Whether a request in the window passes the query's other filters.
pub fn matches(r: &Request, codes: &[String], open: Option<bool>) -> bool {
    let code_ok = codes.is_empty() || r.topic.as_ref().is_some_and(|t| codes.contains(t));
    let status_ok = open.is_none_or(|o| o == (r.status != Status::Closed));
    code_ok && status_ok
}

/// The center's latest answer to the citizen: what `status_notes` carries.
pub fn latest_reply(messages: &[Value]) -> Option<String> {
    messages
        .iter()
        .filter_map(|v| serde_json::from_value::<Message>(v.clone()).ok())
        .filter(|m| m.direction == Direction::Out)
        .max_by_key(|m| m.at)
        .map(|m| m.body)
}

fn time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// One request as an Open311 record. `private` adds the fields that may carry personal data
/// (the citizen's text, their photo's link, our answer to them).
pub fn record(
    r: &Request,
    reply: Option<String>,
    catalog: &Catalog,
    tz: Tz,
    private: bool,
) -> Value {
    let topic = r.topic.as_deref().and_then(|t| catalog.topic(t));
    let department = r
        .department
        .as_deref()
        .and_then(|d| catalog.department(d))
        .map(|d| d.name.clone());
    let closed = r.status == Status::Closed;
    let location = r.location.as_ref();
    let media = r
        .attachments
        .iter()
        .filter_map(|a| a.source.as_deref())
        .find(|s| s.starts_with("https://") || s.starts_with("http://"));
    let expected = (!closed && r.resolution.stopped.is_none()).then(|| time(r.resolution.due, tz));
    json!({
        "service_request_id": r.number.to_string(),
        "status": if closed { "closed" } else { "open" },
        "status_notes": if private { reply } else { None },
        "service_name": topic.map(|t| t.name.clone()),
        // A request an operator left without a topic is still someone's: "other" is the
        // catalog's catch-all, and the schema wants a string.
        "service_code": r.topic.clone().unwrap_or_else(|| "other".into()),
        "description": if private { Some(r.text.clone()) } else { None },
        "agency_responsible": department,
        "service_notice": null,
        "requested_datetime": time(r.received_at, tz),
        "updated_datetime": time(r.closed_at.filter(|_| closed).unwrap_or(r.updated_at), tz),
        "expected_datetime": expected,
        "address": location.and_then(|l| l.address.clone()),
        "address_id": null,
        "zipcode": null,
        "lat": location.and_then(|l| l.lat),
        "long": location.and_then(|l| l.lon),
        "media_url": if private { media } else { None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const TZ: Tz = chrono_tz::Europe::Moscow;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn defaults_are_the_last_90_days() {
        let Query::Window {
            from,
            to,
            open,
            codes,
        } = parse(&[], TZ, now()).unwrap()
        else {
            panic!()
        };
        assert_eq!(from, now() - Duration::days(90));
        assert_eq!(to, now() + Duration::milliseconds(1));
        assert_eq!((open, codes.len()), (None, 0));
    }

    #[test]
    fn ids_override_dates_and_offsets_and_bare_dates_parse() {
        let q = parse(
            &p(&[
                ("service_request_id", "2026-000001, 2026-000002"),
                ("status", "bogus"),
            ]),
            TZ,
            now(),
        )
        .unwrap();
        assert_eq!(
            q,
            Query::Ids(vec!["2026-000001".into(), "2026-000002".into()])
        );
        let q = parse(
            &p(&[
                ("start_date", "2026-11-01"),
                ("end_date", "2026-11-30T10:00:00+03:00"),
                ("status", "closed"),
                ("service_code", "roads,waste"),
            ]),
            TZ,
            now(),
        )
        .unwrap();
        let Query::Window {
            from,
            to,
            open,
            codes,
        } = q
        else {
            panic!()
        };
        assert_eq!(from.to_rfc3339(), "2026-10-31T21:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-30T07:00:00.001+00:00");
        assert_eq!(open, Some(false));
        assert_eq!(codes, ["roads", "waste"]);
    }

    #[test]
    fn bad_queries_are_400() {
        for q in [
            p(&[("start_date", "вчера")]),
            p(&[("start_date", "2026-01-01"), ("end_date", "2026-11-01")]),
            p(&[("start_date", "2026-11-02"), ("end_date", "2026-11-01")]),
            p(&[("status", "pending")]),
            p(&[("status", "open"), ("status", "closed")]),
            p(&[("service_request_id", &vec!["1"; MAX_IDS + 1].join(","))]),
        ] {
            let e = parse(&q, TZ, now()).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{q:?}");
        }
    }
}
