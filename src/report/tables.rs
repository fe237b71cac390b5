//! The report as tables with headers in the operator's language; every writer (Markdown, CSV,
//! XLSX) prints these, so the three formats can't disagree.

use super::export::{self, Lang};
use super::model::{Group, Report};
use crate::domain::Catalog;
use crate::present::{channel, names};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(u64),
    /// A share 0..1, shown as a percentage.
    Share(Option<f64>),
    /// A working time in milliseconds, shown in minutes.
    Minutes(Option<f64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The sheet's name in XLSX (≤ 31 characters).
    pub sheet: &'static str,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Markdown shows this many rows and says how many more the other formats have.
    pub md_limit: Option<usize>,
}

pub(super) fn minutes(ms: Option<f64>) -> Cell {
    Cell::Minutes(ms.map(|m| m / 60_000.0))
}

fn group_headers(first: &str, lang: Lang) -> Vec<String> {
    let h: [&str; 10] = if lang == Lang::En {
        [
            first,
            "Requests",
            "Share of all",
            "Answered in time",
            "Answered late",
            "Unanswered, overdue",
            "Share within target",
            "Median 1st response, min",
            "Open",
            "Out of scope",
        ]
    } else {
        [
            first,
            "Заявок",
            "Доля от всех",
            "Ответ в срок",
            "Ответ с опозданием",
            "Без ответа, просрочено",
            "Доля в срок",
            "Медиана первого ответа, мин",
            "Открыто",
            "Вне компетенции",
        ]
    };
    h.iter().map(|s| s.to_string()).collect()
}

fn group_rows(
    groups: &[Group],
    total: u64,
    name: impl Fn(&str) -> String,
    none: &str,
) -> Vec<Vec<Cell>> {
    groups
        .iter()
        .map(|g| {
            vec![
                Cell::Text(g.key.as_deref().map_or_else(|| none.to_string(), &name)),
                Cell::Int(g.requests),
                Cell::Share((total > 0).then(|| g.requests as f64 / total as f64)),
                Cell::Int(g.met),
                Cell::Int(g.late),
                Cell::Int(g.overdue),
                Cell::Share(g.within_share()),
                minutes(g.stats.median_ms.map(|m| m as f64)),
                Cell::Int(g.open),
                Cell::Int(g.out_of_scope),
            ]
        })
        .collect()
}

/// The summary tables, in the order the formats print them.
pub fn tables(r: &Report, catalog: &Catalog, lang: Lang) -> Vec<Table> {
    let t = &r.total;
    let n = t.requests;
    let share = |x: u64| Cell::Share((n > 0).then(|| x as f64 / n as f64));
    let kv = |k: &str, v: Cell| vec![Cell::Text(k.to_string()), v];
    let l = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let summary = vec![
        kv(l("Период", "Period"), Cell::Text(r.period.title())),
        kv(
            l("Часовой пояс", "Time zone"),
            Cell::Text(r.tz.name().to_string()),
        ),
        kv(
            l("Время ответа считается", "Response time counted in"),
            Cell::Text(if r.working_hours {
                l("рабочее", "working hours").into()
            } else {
                l("круглосуточно", "round the clock").into()
            }),
        ),
        kv(l("Всего заявок", "Requests"), Cell::Int(n)),
        kv(l("С ответом", "Answered"), Cell::Int(t.stats.answered)),
        kv(l("Ответ в срок", "Answered in time"), Cell::Int(t.met)),
        kv(l("Ответ с опозданием", "Answered late"), Cell::Int(t.late)),
        kv(
            l("Без ответа, просрочено", "Unanswered, overdue"),
            Cell::Int(t.overdue),
        ),
        kv(
            l("Без ответа, срок не истёк", "Unanswered, not yet due"),
            Cell::Int(t.running),
        ),
        kv(
            l("Закрыто без ответа", "Closed without a reply"),
            Cell::Int(t.no_reply),
        ),
        kv(
            l("Доля в срок", "Share within target"),
            Cell::Share(t.within_share()),
        ),
        kv(
            l("Первый ответ: среднее, мин", "First response: mean, min"),
            minutes(t.stats.mean_ms),
        ),
        kv(
            l("Первый ответ: медиана, мин", "First response: median, min"),
            minutes(t.stats.median_ms.map(|m| m as f64)),
        ),
        kv(
            l(
                "Первый ответ: 90-й перцентиль, мин",
                "First response: 90th percentile, min",
            ),
            minutes(t.stats.p90_ms.map(|m| m as f64)),
        ),
        kv(
            l("Вне компетенции", "Out of scope"),
            Cell::Int(t.out_of_scope),
        ),
        kv(
            l("Массовые инциденты", "Mass incidents"),
            Cell::Int(r.incidents),
        ),
        kv(
            l("Заявок в инцидентах", "Requests in incidents"),
            Cell::Int(r.incident_members),
        ),
        kv(
            l("Заявителей в инцидентах", "Citizens in incidents"),
            Cell::Int(r.incident_citizens),
        ),
        kv(
            l("Доля вне компетенции", "Out-of-scope share"),
            share(t.out_of_scope),
        ),
        kv(l("Ещё открыто", "Still open"), Cell::Int(t.open)),
        kv(
            l("До решения: медиана, мин", "To resolution: median, min"),
            minutes(r.resolution.median_ms.map(|m| m as f64)),
        ),
        kv(
            l(
                "До решения: 90-й перцентиль, мин",
                "To resolution: 90th percentile, min",
            ),
            minutes(r.resolution.p90_ms.map(|m| m as f64)),
        ),
    ];
    let mut out = vec![Table {
        sheet: l("Итоги", "Summary"),
        title: format!(
            "{} {}",
            l("Отчёт МЦУ за", "MCC report for"),
            r.period.title()
        ),
        headers: vec![
            l("Показатель", "Measure").into(),
            l("Значение", "Value").into(),
        ],
        rows: summary,
        md_limit: None,
    }];
    let none = l("(нет)", "(none)");
    out.push(Table {
        sheet: l("Каналы", "Channels"),
        title: l("По каналам", "By channel").into(),
        headers: group_headers(l("Канал", "Channel"), lang),
        rows: group_rows(&r.by_channel, n, |k| channel::name_of_key(k, lang), none),
        md_limit: None,
    });
    out.push(Table {
        sheet: l("Темы", "Topics"),
        title: l("По темам", "By topic").into(),
        headers: group_headers(l("Тема", "Topic"), lang),
        rows: group_rows(
            &r.by_topic,
            n,
            |k| names::topic(catalog, k, lang),
            l("(без темы)", "(no topic)"),
        ),
        md_limit: None,
    });
    out.push(Table {
        sheet: l("Департаменты", "Departments"),
        title: l("По департаментам", "By department").into(),
        headers: group_headers(l("Департамент", "Department"), lang),
        rows: group_rows(
            &r.by_department,
            n,
            |k| names::department(catalog, k, lang),
            l("(без департамента)", "(no department)"),
        ),
        md_limit: None,
    });
    out.push(Table {
        sheet: l("Операторы", "Operators"),
        title: l("По операторам", "By operator").into(),
        headers: group_headers(l("Оператор", "Operator"), lang),
        rows: group_rows(
            &r.by_operator,
            n,
            |k| k.to_string(),
            l("(не назначено)", "(unassigned)"),
        ),
        md_limit: None,
    });
    super::depth_tables::push(&mut out, r, catalog, lang);
    super::departments::push(&mut out, r, catalog, lang);
    super::feedback::push(&mut out, r, catalog, lang);
    out.push(Table {
        sheet: l("Улицы", "Streets"),
        title: l(
            "Улицы с наибольшим числом заявок",
            "Streets with most requests",
        )
        .into(),
        headers: vec![
            l("Улица", "Street").into(),
            l("Заявок", "Requests").into(),
            l("Доля от всех", "Share of all").into(),
        ],
        rows: r
            .streets
            .iter()
            .map(|(s, c)| {
                vec![
                    Cell::Text(crate::sanitize::line(s)),
                    Cell::Int(*c),
                    share(*c),
                ]
            })
            .collect(),
        md_limit: Some(20),
    });
    out.push(Table {
        sheet: l("Открытые", "Open"),
        title: l("Ещё открытые обращения", "Requests still open").into(),
        headers: export::headers(lang),
        rows: r
            .open()
            .map(|line| export::cells(&line.request, line.outcome, catalog, r.tz, lang))
            .collect(),
        md_limit: Some(50),
    });
    out
}

/// One row per request of the period (the XLSX sheet, `--requests`).
pub fn requests_table(r: &Report, catalog: &Catalog, lang: Lang) -> Table {
    Table {
        sheet: lang.pick("Заявки", "Requests"),
        title: lang.pick("Заявки", "Requests").into(),
        headers: export::headers(lang),
        rows: r
            .lines
            .iter()
            .map(|line| export::cells(&line.request, line.outcome, catalog, r.tz, lang))
            .collect(),
        md_limit: Some(200),
    }
}
