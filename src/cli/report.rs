//! `mcu report` and `mcu list --csv`.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

use super::args::{ReportArgs, ReportFormat};
use super::{Invocation, Refused};
use crate::report::export::{CsvRows, Lang};
use crate::report::{self, Period, tables};
use crate::store::{Filter, Sort};

impl Invocation {
    fn lang(&self) -> Lang {
        if self.labels.en { Lang::En } else { Lang::Ru }
    }

    pub(super) async fn report(&self, a: ReportArgs) -> anyhow::Result<()> {
        let lang = self.lang();
        let tz = self.store.env().policy.calendar.tz();
        let now = self.store.now();
        let period = Period::from_args(
            tz,
            a.month.as_deref(),
            a.from.as_deref(),
            a.to.as_deref(),
            now,
        )
        .map_err(|e| {
            Refused(match lang {
                Lang::Ru => e.ru(),
                Lang::En => e.to_string(),
            })
        })?;
        if a.format == ReportFormat::Xlsx && a.out.is_none() {
            return Err(Refused(
                lang.pick(
                    "XLSX пишется только в файл: добавьте --out ФАЙЛ.xlsx",
                    "XLSX goes to a file only: add --out FILE.xlsx",
                )
                .into(),
            )
            .into());
        }
        if let Some(dep) = &a.department
            && self.store.env().catalog.department(dep).is_none()
        {
            let known: Vec<&str> = self
                .store
                .env()
                .catalog
                .departments
                .iter()
                .map(|d| d.id.as_str())
                .collect();
            return Err(Refused(match lang {
                Lang::Ru => format!("нет департамента `{dep}`; есть: {}", known.join(", ")),
                Lang::En => format!("no department `{dep}`; there are: {}", known.join(", ")),
            })
            .into());
        }
        let r =
            report::model::build_for(&self.store, &period, now, a.department.as_deref()).await?;
        let catalog = &self.store.env().catalog;
        let mut tables = if a.requests && a.format != ReportFormat::Xlsx {
            vec![]
        } else {
            tables::tables(&r, catalog, lang)
        };
        if a.requests || a.format == ReportFormat::Xlsx {
            tables.push(tables::requests_table(&r, catalog, lang));
        }
        let bytes = match a.format {
            ReportFormat::Md => {
                let mut b = vec![];
                report::write::markdown(&mut b, &tables, lang)?;
                b
            }
            ReportFormat::Csv if a.requests => {
                let mut b = vec![];
                let mut rows = CsvRows::new(&mut b, lang)?;
                for line in &r.lines {
                    rows.row(&report::export::cells(
                        &line.request,
                        line.outcome,
                        catalog,
                        tz,
                        lang,
                    ))?;
                }
                rows.finish()?;
                b
            }
            ReportFormat::Csv => {
                let mut b = vec![];
                report::write::csv(&mut b, &tables)?;
                b
            }
            ReportFormat::Xlsx => report::write::xlsx(&tables)
                .map_err(|e| anyhow::anyhow!("cannot make the XLSX file: {e}"))?,
        };
        match &a.out {
            Some(path) => write_file(path, &bytes, lang),
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)?;
                out.flush()?;
                Ok(())
            }
        }
    }

    /// Every request the filter matches, one CSV row each, page by page.
    pub(super) async fn list_csv(&self, filter: Filter, sort: Sort) -> anyhow::Result<()> {
        let lang = self.lang();
        let now = self.store.now();
        // The writer's own error comes out whole: `mcu list --csv | head` is not a failure.
        report::export::list_csv(
            &self.store,
            filter,
            sort,
            now,
            lang,
            std::io::BufWriter::new(std::io::stdout()),
        )
        .await?;
        Ok(())
    }
}

/// Written beside the target and renamed over it, so a failed write leaves no half a report.
fn write_file(path: &Path, bytes: &[u8], lang: Lang) -> anyhow::Result<()> {
    let context = || {
        format!(
            "{} {}",
            lang.pick("не удаётся записать", "cannot write"),
            path.display()
        )
    };
    let name = path.file_name().with_context(context)?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(".partial");
    let tmp = path.with_file_name(partial);
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(context)
}
