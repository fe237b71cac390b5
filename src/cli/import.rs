//! `mcu import FILE.jsonl`: requests from another system, one JSON object a line. Every line is
//! checked before anything is written, and the whole file is written in one transaction.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::domain::mutation::NewRequest;
use crate::domain::request::Location;
use crate::domain::{Channel, Priority, Status};

/// One line of an import file. `text` and `received_at` are required.
#[derive(Debug, Deserialize)]
struct Line {
    text: String,
    received_at: DateTime<Utc>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    citizen: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    closed_reason: Option<String>,
    #[serde(default)]
    closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    first_response_at: Option<DateTime<Utc>>,
    /// Everything else; fields of our own export are accepted and ignored, others are reported.
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// Fields `mcu export -o jsonl` writes that import does not take, so an export re-imports cleanly.
const EXPORT_ONLY: &[&str] = &[
    "attachments",
    "number",
    "id",
    "assignee",
    "tags",
    "first_response_due",
    "department_due",
    "resolution_due",
    "parent",
    "clock",
    "clock_state",
    "due",
    "minutes_left",
];

pub struct Parsed {
    /// (line number, request)
    pub requests: Vec<(usize, NewRequest)>,
    pub warnings: Vec<String>,
}

pub fn parse(text: &str) -> Result<Parsed, String> {
    let mut requests = vec![];
    let mut warnings = vec![];
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw)
            .map_err(|e| format!("line {no}: {}", strip_position(&e.to_string())))?;
        for key in line.rest.keys() {
            if !EXPORT_ONLY.contains(&key.as_str()) {
                warnings.push(format!("line {no}: unknown field `{key}` ignored"));
            }
        }
        requests.push((no, convert(line).map_err(|e| format!("line {no}: {e}"))?));
    }
    Ok(Parsed { requests, warnings })
}

fn strip_position(msg: &str) -> String {
    // serde_json appends " at line 1 column N", which misleads when we number lines ourselves.
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn convert(l: Line) -> Result<NewRequest, String> {
    if l.text.trim().is_empty() {
        return Err("`text` is empty".into());
    }
    let channel: Channel = match l.channel.as_deref() {
        Some(c) => c.parse()?,
        None => Channel::Manual,
    };
    for (name, v, max) in [("lat", l.lat, 90.0), ("lon", l.lon, 180.0)] {
        if let Some(v) = v
            && !(v.is_finite() && v.abs() <= max)
        {
            return Err(format!("`{name}` {v} is out of range"));
        }
    }
    let status: Option<Status> = l.status.as_deref().map(str::parse).transpose()?;
    let close_reason = l.closed_reason.as_deref().map(str::parse).transpose()?;
    let priority: Priority = l
        .priority
        .as_deref()
        .map(str::parse)
        .transpose()?
        .unwrap_or_default();
    if let Some(c) = l.closed_at
        && c < l.received_at
    {
        return Err("`closed_at` is before `received_at`".into());
    }
    if let Some(f) = l.first_response_at
        && f < l.received_at
    {
        return Err("`first_response_at` is before `received_at`".into());
    }
    let location = if l.lat.is_some() || l.lon.is_some() || l.address.is_some() {
        Some(Location {
            lat: l.lat,
            lon: l.lon,
            address: l.address,
        })
    } else {
        None
    };
    Ok(NewRequest {
        channel,
        external_id: l.external_id.filter(|e| !e.trim().is_empty()),
        channel_ref: Default::default(),
        citizen: l.citizen,
        text: l.text,
        attachments: vec![],
        location,
        received_at: l.received_at,
        topic: l.topic,
        department: l.department,
        priority,
        status,
        close_reason,
        closed_at: l.closed_at,
        first_response_at: l.first_response_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_line() {
        let p = parse("{\"text\":\"Яма\",\"received_at\":\"2026-11-02T07:00:00Z\"}\n\n").unwrap();
        assert_eq!(p.requests.len(), 1);
        assert_eq!(p.requests[0].1.channel, Channel::Manual);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn errors_carry_the_line_number() {
        let ok = "{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\"}";
        let cases = [
            (
                format!("{ok}\n{{\"text\":\"b\"}}"),
                "line 2: missing field `received_at`",
            ),
            (format!("{ok}\n{ok}\nnot json"), "line 3:"),
            (
                r#"{"text":"b","received_at":"yesterday"}"#.to_string(),
                "line 1:",
            ),
            (
                r#"{"text":"b","received_at":"2026-11-02T07:00:00Z","channel":"fax"}"#.to_string(),
                "unknown channel `fax`",
            ),
            (
                r#"{"text":"b","received_at":"2026-11-02T07:00:00Z","lat":95}"#.to_string(),
                "`lat` 95",
            ),
            (
                r#"{"text":"  ","received_at":"2026-11-02T07:00:00Z"}"#.to_string(),
                "`text` is empty",
            ),
        ];
        for (input, expected) in cases {
            let e = parse(&input).err().unwrap_or_default();
            assert!(e.contains(expected), "{e:?} should contain {expected:?}");
            assert!(!e.contains('\n'), "one line: {e:?}");
        }
    }

    #[test]
    fn unknown_fields_warn_and_export_fields_pass() {
        let p = parse("{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\",\"adress\":\"x\",\"number\":\"2026-000001\"}").unwrap();
        assert_eq!(
            p.warnings,
            vec!["line 1: unknown field `adress` ignored".to_string()]
        );
    }
}
