//! One row per request: the report's request sheet, `mcu report --requests` and
//! `mcu list --csv` (Chatwoot's most asked-for missing report; every list exports whole).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::Write;

use super::model::ClockVerdict;
use super::tables::Cell;
use crate::domain::{Catalog, Request};
use crate::present::status::{self, Form};
use crate::present::{channel, names};
use crate::store::{Filter, Sort, Store};

pub use crate::lang::Lang;

pub fn headers(lang: Lang) -> Vec<String> {
    let h: [&str; 11] = match lang {
        Lang::En => [
            "Number",
            "Received",
            "Channel",
            "Topic",
            "Department",
            "Status",
            "Operator",
            "First response, min",
            "Within target",
            "Address",
            "Text",
        ],
        Lang::Ru => [
            "Номер",
            "Поступила",
            "Канал",
            "Тема",
            "Департамент",
            "Статус",
            "Оператор",
            "Первый ответ, мин",
            "В срок",
            "Адрес",
            "Текст",
        ],
    };
    h.iter().map(|s| s.to_string()).collect()
}

/// The whole text on one line, without control characters: a row is one request, and whoever
/// reads the report reads what the citizen wrote, not its first words.
pub fn one_line(text: &str) -> String {
    let line = crate::sanitize::line(text);
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn cells(r: &Request, o: ClockVerdict, catalog: &Catalog, tz: Tz, lang: Lang) -> Vec<Cell> {
    let text = |s: Option<String>| Cell::Text(s.unwrap_or_default());
    vec![
        Cell::Text(r.number.to_string()),
        Cell::Text(local(r.received_at, tz)),
        Cell::Text(channel::name_of_key(r.channel.as_str(), lang)),
        text(r.topic.as_deref().map(|t| names::topic(catalog, t, lang))),
        text(
            r.department
                .as_deref()
                .map(|d| names::department(catalog, d, lang)),
        ),
        Cell::Text(status::name(r.status, Form::Sheet, lang).into()),
        text(r.assignee.as_deref().map(crate::sanitize::line)),
        Cell::Minutes(o.took().map(|d| d.num_milliseconds() as f64 / 60_000.0)),
        Cell::Text(
            match o.within_target() {
                Some(true) => lang.pick("да", "yes"),
                Some(false) => lang.pick("нет", "no"),
                None => "",
            }
            .into(),
        ),
        text(
            r.location
                .as_ref()
                .and_then(|l| l.address.as_deref())
                .map(crate::sanitize::line),
        ),
        Cell::Text(one_line(&r.text)),
    ]
}

/// A cell as CSV text. Text goes through `sanitize::cell`, as in every CSV and XLSX the
/// program writes: citizens' words must not run in the center's spreadsheet.
pub fn csv_field(c: &Cell) -> String {
    match c {
        Cell::Text(s) => crate::sanitize::cell(s),
        Cell::Int(n) => n.to_string(),
        Cell::Share(Some(x)) => format!("{:.1}", x * 100.0),
        Cell::Minutes(Some(m)) => format!("{m:.1}"),
        Cell::Share(None) | Cell::Minutes(None) => String::new(),
    }
}

/// Streams one row per request as CSV with a header row.
pub struct CsvRows<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvRows<W> {
    pub fn new(out: W, lang: Lang) -> Result<CsvRows<W>, csv::Error> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(headers(lang))?;
        Ok(CsvRows { w })
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), csv::Error> {
        self.w.write_record(cells.iter().map(csv_field))
    }

    pub fn finish(mut self) -> Result<(), csv::Error> {
        self.w.flush()?;
        Ok(())
    }
}

/// Every request `filter` matches, in `sort` order, one CSV row each to `out`; how many. The
/// rows are written on the store's thread as its pages are read (the console's export,
/// `mcu list --csv`), so a year of requests never sits in memory at once.
pub async fn list_csv<W: Write + Send + 'static>(
    store: &Store,
    filter: Filter,
    sort: Sort,
    now: DateTime<Utc>,
    lang: Lang,
    out: W,
) -> Result<usize, ExportError> {
    let tz = store.env().policy.calendar.tz();
    let rows = CsvRows::new(out, lang)?;
    let (rows, n) = store
        .fold_requests(filter, sort, now, (rows, 0), move |(rows, n), r, env| {
            let o = ClockVerdict::of(r, &env.policy.calendar, now);
            rows.row(&cells(r, o, &env.catalog, tz, lang))?;
            *n += 1;
            Ok::<_, ExportError>(())
        })
        .await??;
    rows.finish()?;
    Ok(n)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Csv(#[from] csv::Error),
}
