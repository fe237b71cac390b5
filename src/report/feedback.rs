//! «Вопрос решён?» in the report: of the citizens who answered, the share who said «да», per
//! topic, department and operator (the assignee the request was closed by). Computed from the
//! report's own lines, so it counts the same requests as the totals.

use std::collections::BTreeMap;

use super::export::Lang;
use super::model::{Line, Report};
use super::tables::{Cell, Table};
use crate::domain::Catalog;
use crate::present::names;

/// The answers of one group (`key`: a topic, department or operator id; `None`: without).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Helped {
    pub key: Option<String>,
    pub asked: u64,
    pub answered: u64,
    pub yes: u64,
}

impl Helped {
    /// «да» among the answers; `None` while nobody answered.
    pub fn share(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.yes as f64 / self.answered as f64)
    }
}

/// Which of a request's fields groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Topic,
    Department,
    Operator,
}

/// The groups of `lines` by `by`, in key order (those without one last); only the requests
/// whose citizen was asked.
pub fn helped(lines: &[Line], by: By) -> Vec<Helped> {
    let mut groups: BTreeMap<(bool, Option<String>), Helped> = BTreeMap::new();
    for l in lines {
        let r = &l.request;
        let Some(f) = r.feedback else {
            continue;
        };
        let key = match by {
            By::Topic => r.topic.clone(),
            By::Department => r.department.clone(),
            By::Operator => r.assignee.clone(),
        };
        let g = groups
            .entry((key.is_none(), key.clone()))
            .or_insert_with(|| Helped {
                key,
                ..Helped::default()
            });
        g.asked += 1;
        if let Some(yes) = f.helped {
            g.answered += 1;
            g.yes += u64::from(yes);
        }
    }
    groups.into_values().collect()
}

pub(super) fn push(out: &mut Vec<Table>, r: &Report, catalog: &Catalog, lang: Lang) {
    let l = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let mut rows = vec![];
    for (by, what, none) in [
        (By::Topic, l("Тема", "Topic"), l("(без темы)", "(no topic)")),
        (
            By::Department,
            l("Департамент", "Department"),
            l("(без департамента)", "(no department)"),
        ),
        (
            By::Operator,
            l("Оператор", "Operator"),
            l("(не назначено)", "(unassigned)"),
        ),
    ] {
        for g in helped(&r.lines, by) {
            let name = match (&g.key, by) {
                (None, _) => none.to_string(),
                (Some(k), By::Topic) => names::topic(catalog, k, lang),
                (Some(k), By::Department) => names::department(catalog, k, lang),
                (Some(k), By::Operator) => k.clone(),
            };
            rows.push(vec![
                Cell::Text(what.into()),
                Cell::Text(name),
                Cell::Int(g.asked),
                Cell::Int(g.answered),
                Cell::Int(g.yes),
                Cell::Share(g.share()),
            ]);
        }
    }
    out.push(Table {
        sheet: l("Вопрос решён", "Did it help"),
        title: l(
            "Вопрос решён? Ответы заявителей",
            "Did it help? The citizens' answers",
        )
        .into(),
        headers: vec![
            l("Разрез", "By").into(),
            l("Группа", "Group").into(),
            l("Спросили", "Asked").into(),
            l("Ответили", "Answered").into(),
            l("«Да»", "Yes").into(),
            l("Доля «да»", "Share of yes").into(),
        ],
        rows,
        md_limit: None,
    });
}
