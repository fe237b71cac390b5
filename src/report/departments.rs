//! The departments judged by their own clock (#21 item 6): per department, how many requests
//! it was given, answered in time, answered late or still late, still running, returned as not
//! theirs, and how long its answers took (median, p90, working time). Pure: the lines and the
//! returns come from the store; `mcu report --department ID` narrows the whole report to one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::export::Lang;
use super::model::{Line, Report, Stats};
use super::tables::{Cell, Table, minutes};
use crate::domain::Catalog;
use crate::domain::sla::Calendar;
use crate::present::names;

/// One department's figures for the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DepartmentRow {
    pub department: String,
    /// Given to it: still with it, answered by it, or returned by it.
    pub forwarded: u64,
    pub in_time: u64,
    /// Answered after its due time, or not answered and past it.
    pub late: u64,
    /// Not answered yet, within its time.
    pub running: u64,
    /// Closed by the operators before the department answered: not judged.
    pub closed: u64,
    pub returned: u64,
    /// Working time from forward to answer, of the answered ones.
    pub answer: Stats,
}

/// Every department that had a request of the period, most forwarded first.
pub fn rows(
    lines: &[Line],
    returns: &[(Uuid, String)],
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Vec<DepartmentRow> {
    let mut by: BTreeMap<String, (DepartmentRow, Vec<i64>)> = BTreeMap::new();
    fn entry<'a>(
        by: &'a mut BTreeMap<String, (DepartmentRow, Vec<i64>)>,
        d: &str,
    ) -> &'a mut (DepartmentRow, Vec<i64>) {
        by.entry(d.to_string()).or_insert_with(|| {
            let row = DepartmentRow {
                department: d.to_string(),
                ..DepartmentRow::default()
            };
            (row, vec![])
        })
    }
    for l in lines {
        let r = &l.request;
        let (Some(dep), Some(c)) = (r.department.as_deref(), r.department_clock.as_ref()) else {
            continue;
        };
        let (row, times) = entry(&mut by, dep);
        row.forwarded += 1;
        match c.stopped {
            // Closing stops the department's clock too: no answer of theirs to judge.
            Some(at) if r.closed_at == Some(at) => row.closed += 1,
            Some(at) => {
                if at <= c.due {
                    row.in_time += 1;
                } else {
                    row.late += 1;
                }
                times.push(cal.working_between(c.started, at).num_milliseconds());
            }
            None if r.status.is_open() && now > c.due => row.late += 1,
            None => row.running += 1,
        }
    }
    for (_, dep) in returns {
        let (row, _) = entry(&mut by, dep);
        row.forwarded += 1;
        row.returned += 1;
    }
    let mut out: Vec<DepartmentRow> = by
        .into_values()
        .map(|(mut row, times)| {
            row.answer = Stats::of(times);
            row
        })
        .collect();
    out.sort_by(|a, b| {
        b.forwarded
            .cmp(&a.forwarded)
            .then_with(|| a.department.cmp(&b.department))
    });
    out
}

/// The departments' table: every report has it (text, CSV, the XLSX sheet «Сроки департаментов»).
pub(super) fn push(out: &mut Vec<Table>, r: &Report, catalog: &Catalog, lang: Lang) {
    let l = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let ms = |m: Option<i64>| minutes(m.map(|m| m as f64));
    out.push(Table {
        sheet: l("Сроки департаментов", "Department clocks"),
        title: l(
            "Департаменты: ответы в срок департамента",
            "Departments: answers by their own clock",
        )
        .into(),
        headers: [
            l("Департамент", "Department"),
            l("Передано", "Forwarded"),
            l("Ответ в срок", "Answered in time"),
            l("С опозданием или просрочено", "Late or overdue"),
            l("В работе", "Running"),
            l("Возвращено", "Returned"),
            l("Закрыто без ответа", "Closed unanswered"),
            l("Медиана ответа, мин", "Median answer, min"),
            l("p90 ответа, мин", "p90 answer, min"),
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        rows: r
            .departments
            .iter()
            .map(|d| {
                vec![
                    Cell::Text(names::department(catalog, &d.department, lang)),
                    Cell::Int(d.forwarded),
                    Cell::Int(d.in_time),
                    Cell::Int(d.late),
                    Cell::Int(d.running),
                    Cell::Int(d.returned),
                    Cell::Int(d.closed),
                    ms(d.answer.median_ms),
                    ms(d.answer.p90_ms),
                ]
            })
            .collect(),
        md_limit: None,
    });
}

#[cfg(test)]
mod tests;
