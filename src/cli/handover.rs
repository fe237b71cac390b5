//! `mcu handover` on stdout: the handover (`present::handover`) as a table for people or JSON
//! for scripts.

use chrono::{DateTime, Utc};
use std::io::Write;

use super::Format;
use super::output::{self, Labels};
use crate::present::RequestView;
use crate::present::handover::Handover;
use crate::present::status::{self, Form};

pub fn print(
    h: &Handover,
    format: Format,
    tz: chrono_tz::Tz,
    catalog: &crate::domain::Catalog,
    labels: &Labels,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if matches!(format, Format::Json | Format::Jsonl | Format::Csv) {
        serde_json::to_writer_pretty(&mut out, h)?;
        writeln!(out)?;
        return Ok(());
    }
    let en = labels.en;
    let lang = labels.lang();
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string();
    let total: usize = h.open.values().sum();
    let by_status = h
        .open
        .iter()
        .map(|(s, n)| format!("{} {n}", status::name_of_key(s, Form::Count, lang)))
        .collect::<Vec<_>>()
        .join(", ");
    if en {
        writeln!(
            out,
            "Shift handover {} — next shift until {}",
            local(h.at),
            local(h.until)
        )?;
        writeln!(out, "Open: {total} ({by_status})")?;
    } else {
        writeln!(
            out,
            "Передача смены {} — следующая смена до {}",
            local(h.at),
            local(h.until)
        )?;
        writeln!(out, "Открыто: {total} ({by_status})")?;
    }
    let section = |out: &mut std::io::StdoutLock, title: &str, list: &[RequestView]| {
        writeln!(out)?;
        writeln!(out, "{title}: {}", list.len())?;
        if !list.is_empty() {
            output::table(out, list, catalog, labels)?;
        }
        anyhow::Ok(())
    };
    if en {
        section(&mut out, "Already late", &h.breached)?;
        section(
            &mut out,
            "Fall due during the next shift",
            &h.due_next_shift,
        )?;
    } else {
        section(&mut out, "Срок уже нарушен", &h.breached)?;
        section(
            &mut out,
            "Срок наступит в следующую смену",
            &h.due_next_shift,
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}: {}",
        if en {
            "Notes from the shift that ends"
        } else {
            "Заметки уходящей смены"
        },
        h.notes.len()
    )?;
    for n in &h.notes {
        writeln!(
            out,
            "  {}  {}  {}: {}",
            n.number,
            local(n.at),
            crate::sanitize::line(&n.author),
            crate::sanitize::line(&n.body)
        )?;
    }
    Ok(())
}
