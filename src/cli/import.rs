//! `mcu import FILE.jsonl`: requests from another system, one JSON object a line. Every line is
//! checked before anything is written, and the whole file is written in one transaction.
//!
//! The file comes as bytes, not text: a line that is not UTF-8 is then refused by its number
//! (the operator finds it) rather than the whole file being "not UTF-8", and the byte-order
//! mark Windows tools put first is dropped rather than read as a broken first line.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::domain::mutation::NewRequest;
use crate::domain::request::Location;
use crate::domain::{Channel, Priority, Status};
use crate::lang::Lang;

/// The UTF-8 byte-order mark Excel and Notepad write first; it says nothing about the data.
const BOM: &[u8] = b"\xEF\xBB\xBF";

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
    phone: Option<String>,
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

/// Every line of the file, or the first fault with its line number, worded in `lang`.
pub fn parse(bytes: &[u8], lang: Lang) -> Result<Parsed, String> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut requests = vec![];
    let mut warnings = vec![];
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let no = i + 1;
        let at = |what: String| format!("{} {no}: {what}", lang.pick("строка", "line"));
        let raw = std::str::from_utf8(raw).map_err(|e| at(not_utf8(&e, lang)))?;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line =
            serde_json::from_str(raw).map_err(|e| at(strip_position(&e.to_string())))?;
        for key in line.rest.keys() {
            if !EXPORT_ONLY.contains(&key.as_str()) {
                warnings.push(at(match lang {
                    Lang::Ru => format!("неизвестное поле `{key}` пропущено"),
                    Lang::En => format!("unknown field `{key}` ignored"),
                }));
            }
        }
        requests.push((no, convert(line, lang).map_err(at)?));
    }
    Ok(Parsed { requests, warnings })
}

/// Where in its line the bytes stop being UTF-8, counted from 1 as an editor counts.
fn not_utf8(e: &std::str::Utf8Error, lang: Lang) -> String {
    let byte = e.valid_up_to() + 1;
    match lang {
        Lang::Ru => format!("не UTF-8 (байт {byte}); сохраните файл в кодировке UTF-8"),
        Lang::En => format!("not UTF-8 (byte {byte}); save the file as UTF-8"),
    }
}

fn strip_position(msg: &str) -> String {
    // serde_json appends " at line 1 column N", which misleads when we number lines ourselves.
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn convert(l: Line, lang: Lang) -> Result<NewRequest, String> {
    if l.text.trim().is_empty() {
        return Err(lang.pick("пустой `text`", "`text` is empty").into());
    }
    let channel: Channel = match l.channel.as_deref() {
        Some(c) => c.parse()?,
        None => Channel::Manual,
    };
    coordinates(l.lat, l.lon, lang)?;
    let status: Option<Status> = l.status.as_deref().map(str::parse).transpose()?;
    let close_reason = l.closed_reason.as_deref().map(str::parse).transpose()?;
    let priority: Priority = l
        .priority
        .as_deref()
        .map(str::parse)
        .transpose()?
        .unwrap_or_default();
    for (name, at) in [
        ("closed_at", l.closed_at),
        ("first_response_at", l.first_response_at),
    ] {
        if at.is_some_and(|at| at < l.received_at) {
            return Err(match lang {
                Lang::Ru => format!("`{name}` раньше `received_at`"),
                Lang::En => format!("`{name}` is before `received_at`"),
            });
        }
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
        phone: l.phone.filter(|p| !p.trim().is_empty()),
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
        incident: false,
    })
}

/// A point on the globe, or none: half a pair places nothing on a map. The domain refuses the
/// same at apply; here the line is still in hand.
fn coordinates(lat: Option<f64>, lon: Option<f64>, lang: Lang) -> Result<(), String> {
    for (name, v, max) in [("lat", lat, 90.0), ("lon", lon, 180.0)] {
        if let Some(v) = v
            && !(v.is_finite() && v.abs() <= max)
        {
            return Err(match lang {
                Lang::Ru => format!("`{name}` {v} вне допустимого диапазона"),
                Lang::En => format!("`{name}` {v} is out of range"),
            });
        }
    }
    if lat.is_some() != lon.is_some() {
        return Err(lang
            .pick(
                "`lat` и `lon` задаются вместе",
                "`lat` and `lon` come together",
            )
            .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_line() {
        let p = parse(
            "{\"text\":\"Яма\",\"received_at\":\"2026-11-02T07:00:00Z\"}\n\n".as_bytes(),
            Lang::En,
        )
        .unwrap();
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
            let e = parse(input.as_bytes(), Lang::En).err().unwrap_or_default();
            assert!(e.contains(expected), "{e:?} should contain {expected:?}");
            assert!(!e.contains('\n'), "one line: {e:?}");
        }
    }

    #[test]
    fn unknown_fields_warn_and_export_fields_pass() {
        let p = parse("{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\",\"adress\":\"x\",\"number\":\"2026-000001\"}".as_bytes(), Lang::En).unwrap();
        assert_eq!(
            p.warnings,
            vec!["line 1: unknown field `adress` ignored".to_string()]
        );
    }

    /// #16 item 10: a byte-order mark first is dropped, CRLF lines read, and the line of bytes
    /// that are not UTF-8 is named.
    #[test]
    fn a_bom_is_dropped_and_bad_bytes_are_named_by_line() {
        let ok = "{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\"}";
        let p = parse(format!("\u{feff}{ok}\r\n{ok}\r\n").as_bytes(), Lang::En).unwrap();
        assert_eq!(p.requests.len(), 2);
        let mut bad = format!("{ok}\n{ok}\n").into_bytes();
        bad.extend(b"{\"text\":\"ab\xff\"}\n");
        let e = parse(&bad, Lang::En).err().unwrap_or_default();
        assert_eq!(e, "line 3: not UTF-8 (byte 12); save the file as UTF-8");
        let e = parse(&bad, Lang::Ru).err().unwrap_or_default();
        assert!(e.starts_with("строка 3: не UTF-8"), "{e}");
        // A mark anywhere but first is no mark: that line is refused.
        let e = parse(format!("{ok}\n\u{feff}{ok}").as_bytes(), Lang::En)
            .err()
            .unwrap_or_default();
        assert!(e.starts_with("line 2:"), "{e}");
    }

    /// #16 item 10: half a coordinate pair is refused with its line.
    #[test]
    fn half_a_coordinate_pair_is_refused() {
        for half in ["\"lat\":45.0", "\"lon\":39.0"] {
            let line =
                format!("{{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\",{half}}}");
            let e = parse(line.as_bytes(), Lang::En).err().unwrap_or_default();
            assert_eq!(e, "line 1: `lat` and `lon` come together");
        }
        let both =
            "{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\",\"lat\":45,\"lon\":39}";
        assert!(parse(both.as_bytes(), Lang::En).is_ok());
    }
}
