//! The report's depth as tables (`depth`): the period against the one before, the days, the
//! reasons for closing, and the requests waiting on a department.

use super::export::Lang;
use super::model::Report;
use super::tables::{Cell, Table, minutes};
use crate::domain::Catalog;
use crate::present::names;

pub(super) fn push(out: &mut Vec<Table>, r: &Report, catalog: &Catalog, lang: Lang) {
    let l = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let t = &r.total;
    if let Some(p) = &r.previous {
        let ms = |m: Option<i64>| minutes(m.map(|m| m as f64));
        let change = |now: Option<f64>, before: Option<f64>| match (now, before) {
            (Some(a), Some(b)) if b != 0.0 => Cell::Share(Some(a / b - 1.0)),
            _ => Cell::Share(None),
        };
        let int = |v: u64| Some(v as f64);
        let f = |v: Option<i64>| v.map(|v| v as f64);
        out.push(Table {
            sheet: l("Сравнение", "Compared"),
            title: l("Сравнение с прошлым периодом", "Against the period before").into(),
            headers: vec![
                l("Показатель", "Measure").into(),
                r.period.title(),
                p.period.title(),
                l("Изменение", "Change").into(),
            ],
            rows: vec![
                vec![
                    Cell::Text(l("Всего заявок", "Requests").into()),
                    Cell::Int(t.requests),
                    Cell::Int(p.requests),
                    change(int(t.requests), int(p.requests)),
                ],
                vec![
                    Cell::Text(l("Доля в срок", "Share within target").into()),
                    Cell::Share(t.within_share()),
                    Cell::Share(p.within_share),
                    change(t.within_share(), p.within_share),
                ],
                vec![
                    Cell::Text(
                        l("Первый ответ: медиана, мин", "First response: median, min").into(),
                    ),
                    ms(t.stats.median_ms),
                    ms(p.first_response_median_ms),
                    change(f(t.stats.median_ms), f(p.first_response_median_ms)),
                ],
                vec![
                    Cell::Text(l("До решения: медиана, мин", "To resolution: median, min").into()),
                    ms(r.resolution.median_ms),
                    ms(p.resolution_median_ms),
                    change(f(r.resolution.median_ms), f(p.resolution_median_ms)),
                ],
            ],
            md_limit: None,
        });
    }
    out.push(Table {
        sheet: l("Дни", "Days"),
        title: l("По дням", "By day").into(),
        headers: vec![
            l("День", "Day").into(),
            l("Поступило", "Received").into(),
            l("Ответ в срок", "Answered in time").into(),
            l("С опозданием или просрочено", "Late or overdue").into(),
            l("Ещё открыто", "Still open").into(),
        ],
        rows: r
            .days
            .iter()
            .map(|d| {
                vec![
                    Cell::Text(d.date.map(|d| d.to_string()).unwrap_or_default()),
                    Cell::Int(d.received),
                    Cell::Int(d.met),
                    Cell::Int(d.late),
                    Cell::Int(d.open),
                ]
            })
            .collect(),
        md_limit: Some(31),
    });
    let closed: u64 = r.close_reasons.iter().map(|(_, n)| n).sum();
    out.push(Table {
        sheet: l("Причины закрытия", "Close reasons"),
        title: l("Причины закрытия", "Why requests were closed").into(),
        headers: vec![
            l("Причина", "Reason").into(),
            l("Заявок", "Requests").into(),
            l("Доля закрытых", "Share of closed").into(),
        ],
        rows: r
            .close_reasons
            .iter()
            .map(|(reason, n)| {
                vec![
                    Cell::Text(names::close_reason(*reason, lang).into()),
                    Cell::Int(*n),
                    Cell::Share((closed > 0).then(|| *n as f64 / closed as f64)),
                ]
            })
            .collect(),
        md_limit: None,
    });
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&r.tz).format("%Y-%m-%d %H:%M").to_string()
    };
    out.push(Table {
        sheet: l("Ждут департамент", "Waiting department"),
        title: l("Ждут ответа департамента", "Waiting on a department").into(),
        headers: vec![
            l("Номер", "Number").into(),
            l("Департамент", "Department").into(),
            l("Передано", "Forwarded").into(),
            l("Срок департамента", "Department due").into(),
        ],
        rows: super::depth::waiting_department(&r.lines)
            .into_iter()
            .map(|line| {
                let q = &line.request;
                let clock = q.department_clock.as_ref();
                vec![
                    Cell::Text(q.number.to_string()),
                    Cell::Text(
                        q.department
                            .as_deref()
                            .map_or("—".into(), |d| names::department(catalog, d, lang)),
                    ),
                    Cell::Text(clock.map_or_else(String::new, |c| local(c.started))),
                    Cell::Text(clock.map_or_else(String::new, |c| local(c.due))),
                ]
            })
            .collect(),
        md_limit: Some(50),
    });
}
