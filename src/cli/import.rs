//! `mcu import FILE.jsonl`: requests from another system, one JSON object a line. Lines are
//! read and checked as they are written, all in one transaction that commits only after the
//! last line passed (`store::bulk`): a bad line anywhere leaves nothing, and a million lines are
//! never held in memory at once.
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

/// A whole file read at once: for the fuzz rig and tests (`mcu import` streams, `read`).
#[cfg(any(test, feature = "testkit"))]
pub struct Parsed {
    /// (line number, request)
    pub requests: Vec<(usize, NewRequest)>,
}

/// Why reading an import file stopped.
#[derive(Debug)]
pub enum Fault {
    /// A line was refused: its number, and what is wrong with the number in front, worded in
    /// the reader's language.
    Line(usize, String),
    /// The file could not be read.
    Io(std::io::Error),
}

/// Every line of the file, or the first fault with its line number, worded in `lang`.
#[cfg(any(test, feature = "testkit"))]
pub fn parse(bytes: &[u8], lang: Lang) -> Result<Parsed, String> {
    let mut requests = vec![];
    read(
        bytes,
        lang,
        |no, new| {
            requests.push((no, new));
            true
        },
        |_| {},
    )
    .map_err(|f| match f {
        Fault::Line(_, e) => e,
        Fault::Io(e) => e.to_string(),
    })?;
    Ok(Parsed { requests })
}

/// Reads `input` line by line, handing each line's request to `take` as soon as it is read
/// (so a million lines are never all in memory) until `take` answers false; warnings go to
/// `warn`. Stops at the first refused line.
pub fn read(
    mut input: impl std::io::BufRead,
    lang: Lang,
    mut take: impl FnMut(usize, NewRequest) -> bool,
    mut warn: impl FnMut(String),
) -> Result<(), Fault> {
    let mut buf = Vec::new();
    let mut no = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).map_err(Fault::Io)? == 0 {
            return Ok(());
        }
        no += 1;
        let mut raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if no == 1 {
            raw = raw.strip_prefix(BOM).unwrap_or(raw);
        }
        let at = |what: String| format!("{} {no}: {what}", lang.pick("строка", "line"));
        let raw = std::str::from_utf8(raw).map_err(|e| Fault::Line(no, at(not_utf8(&e, lang))))?;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw)
            .map_err(|e| Fault::Line(no, at(strip_position(&e.to_string()))))?;
        for key in line.rest.keys() {
            if !EXPORT_ONLY.contains(&key.as_str()) {
                warn(at(match lang {
                    Lang::Ru => format!("неизвестное поле `{key}` пропущено"),
                    Lang::En => format!("unknown field `{key}` ignored"),
                }));
            }
        }
        let new = convert(line, lang).map_err(|e| Fault::Line(no, at(e)))?;
        if !take(no, new) {
            return Ok(());
        }
    }
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
        let mut warnings = vec![];
        let mut taken = 0;
        read("{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\",\"adress\":\"x\",\"number\":\"2026-000001\"}".as_bytes(), Lang::En, |_, _| { taken += 1; true }, |w| warnings.push(w)).unwrap();
        assert_eq!(
            warnings,
            vec!["line 1: unknown field `adress` ignored".to_string()]
        );
        assert_eq!(taken, 1);
    }

    /// #20 item 3: lines are handed on one by one as they are read, and reading stops when the
    /// taker says so (the store refused one): nothing past it is parsed.
    #[test]
    fn lines_are_handed_on_as_read_and_reading_stops_when_told() {
        let ok = "{\"text\":\"a\",\"received_at\":\"2026-11-02T07:00:00Z\"}";
        let input = format!("{ok}\n\n{ok}\n{ok}\nnot json\n");
        let mut seen = vec![];
        read(
            input.as_bytes(),
            Lang::En,
            |no, _| {
                seen.push(no);
                no < 3
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(seen, vec![1, 3], "blank line 2 skipped, stopped after 3");
        let e = read(input.as_bytes(), Lang::En, |_, _| true, |_| {}).unwrap_err();
        assert!(
            matches!(e, Fault::Line(5, ref m) if m.starts_with("line 5:")),
            "{e:?}"
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
