//! The report's tables as Markdown, CSV or XLSX.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::io::Write;

use super::export::{Lang, csv_field};
use super::tables::{Cell, Table};

/// Markdown for people: every text is stripped of control characters and escape sequences
/// (it goes to a terminal as often as to a file) and of what would break a table row.
pub fn markdown(out: &mut dyn Write, tables: &[Table], lang: Lang) -> std::io::Result<()> {
    for (i, t) in tables.iter().enumerate() {
        if i == 0 {
            writeln!(out, "# {}\n", md_text(&t.title))?;
        } else {
            writeln!(out, "## {}\n", md_text(&t.title))?;
        }
        if t.rows.is_empty() {
            writeln!(out, "{}\n", lang.pick("Нет.", "None."))?;
            continue;
        }
        let head: Vec<String> = t.headers.iter().map(|h| md_text(h)).collect();
        writeln!(out, "| {} |", head.join(" | "))?;
        let align: Vec<&str> = t
            .rows
            .first()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Cell::Text(_) => "---",
                        _ => "---:",
                    })
                    .collect()
            })
            .unwrap_or_default();
        writeln!(out, "|{}|", align.join("|"))?;
        let shown = t.md_limit.unwrap_or(usize::MAX).min(t.rows.len());
        for row in &t.rows[..shown] {
            let cells: Vec<String> = row.iter().map(|c| md_cell(c, lang)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        if shown < t.rows.len() {
            let more = t.rows.len() - shown;
            writeln!(
                out,
                "\n{} {more} {}",
                lang.pick("…и ещё", "…and"),
                lang.pick(
                    "(все строки — в CSV и XLSX)",
                    "more (all rows are in CSV and XLSX)"
                )
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One line, and Markdown's own marks escaped: a citizen's backticks, stars or brackets stay
/// text rather than turning into code, emphasis or links, and `|` can't split a row.
fn md_text(s: &str) -> String {
    let line = crate::sanitize::line(s);
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if matches!(
            c,
            '\\' | '|' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn md_cell(c: &Cell, lang: Lang) -> String {
    match c {
        Cell::Text(s) => md_text(s),
        Cell::Int(n) => n.to_string(),
        Cell::Share(Some(x)) => format!("{:.1} %", x * 100.0),
        Cell::Minutes(Some(m)) => {
            let total = m.round() as i64;
            if total >= 60 {
                format!(
                    "{total} ({} {} {:02} {})",
                    total / 60,
                    lang.pick("ч", "h"),
                    total % 60,
                    lang.pick("мин", "min")
                )
            } else {
                total.to_string()
            }
        }
        Cell::Share(None) | Cell::Minutes(None) => "—".into(),
    }
}

/// All tables in one CSV: each is its title on a line, its header row and its rows, with an
/// empty line between tables. Shares are percentages, times minutes, both with one decimal.
pub fn csv(out: &mut dyn Write, tables: &[Table]) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            w.write_record([""])?;
        }
        // Titles and headers are the program's own words, cleaned all the same: one rule for
        // every cell leaves nothing to forget when a header starts carrying a name.
        w.write_record([crate::sanitize::cell(&t.title)])?;
        w.write_record(t.headers.iter().map(|h| crate::sanitize::cell(h)))?;
        for row in &t.rows {
            w.write_record(row.iter().map(csv_field))?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Rows a sheet holds under its header (Excel's own limit); a longer table goes on in
/// further sheets, so nothing is cut.
const SHEET_ROWS: usize = 1_048_575;
/// Excel's most for one cell, counted as Excel counts: UTF-16 units.
const CELL_UNITS: usize = 32_767;

/// A text as one XLSX cell holds it: whole when it fits; otherwise as much as fits, ending with
/// «…» so the reader knows there is more (the CSV export carries it all). Never splits a
/// character.
pub(crate) fn fit_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.encode_utf16().count() <= CELL_UNITS {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut units = 0;
    for ch in s.chars() {
        // One unit stays free for the «…».
        if units + ch.len_utf16() > CELL_UNITS - 1 {
            break;
        }
        units += ch.len_utf16();
        out.push(ch);
    }
    out.push('…');
    std::borrow::Cow::Owned(out)
}

/// One sheet per table, every row (Zammad's XLSX stops at 6,000); returns the file's bytes.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    // Level 1 instead of 6: 40,000 requests save in 1.1 s rather than 1.45 s (8.3 MB rather
    // than 4.3 MB); without it the report missed its 2 s target.
    wb.set_zip_compression_level(1);
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let mins = Format::new().set_num_format("0.0");
    for t in tables {
        let chunks: Vec<&[Vec<Cell>]> = if t.rows.is_empty() {
            vec![&t.rows[..]]
        } else {
            t.rows.chunks(SHEET_ROWS).collect()
        };
        for (part, rows) in chunks.iter().enumerate() {
            let ws = wb.add_worksheet();
            if part == 0 {
                ws.set_name(t.sheet)?;
            } else {
                ws.set_name(format!("{} ({})", t.sheet, part + 1))?;
            }
            for (c, h) in t.headers.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, crate::sanitize::cell(h), &bold)?;
                ws.set_column_width(c as u16, if c == 0 { 28 } else { 14 })?;
            }
            ws.set_freeze_panes(1, 0)?;
            for (i, row) in rows.iter().enumerate() {
                let r = i as u32 + 1;
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Text(s) if s.is_empty() => &mut *ws,
                        // A string cell never runs in Excel, but the same text saved as CSV
                        // from it would: cleaned and defused as in the CSV.
                        Cell::Text(s) => {
                            ws.write_string(r, c, fit_cell(&crate::sanitize::cell(s)).as_ref())?
                        }
                        Cell::Int(n) => ws.write_number(r, c, *n as f64)?,
                        Cell::Share(Some(x)) => ws.write_number_with_format(r, c, *x, &pct)?,
                        Cell::Minutes(Some(m)) => ws.write_number_with_format(r, c, *m, &mins)?,
                        Cell::Share(None) | Cell::Minutes(None) => ws,
                    };
                }
            }
        }
    }
    wb.save_to_buffer()
}
