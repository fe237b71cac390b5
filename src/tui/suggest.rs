//! Triage's suggestions in the console: the inbox's topic column shows one where no topic is
//! set (marked `≈`, with its probability), the card the three likeliest topics and the
//! department, the topic picker lists topics likeliest first, and one key (`y`) takes topic
//! and department. A suggested out-of-scope request is never closed by it: the key opens the
//! reply with the decline template, and closing stays the operator's (`x`).

use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::app::{App, Mode};
use super::request_keys::{compose, insert_template, mutation};
use super::strings::Lang;
use super::update::Cmd;
use super::view::style;
use crate::domain::Op;
use crate::present::names::pick;
use crate::sanitize;
use crate::triage::Suggestion;

/// The topic id the catalog gives requests outside the center's remit.
pub const OUT_OF_SCOPE: &str = "out_of_scope";

fn topic_name(app: &App, id: &str) -> String {
    app.catalog
        .topic(id)
        .map(|t| pick(&t.name, t.name_en.as_deref(), app.lang).to_string())
        .unwrap_or_else(|| id.to_string())
}

fn percent(p: f64) -> String {
    format!("{:.0} %", (p * 100.0).clamp(0.0, 100.0))
}

/// The inbox's topic cell for a request without a topic: `≈Дороги 87 %`.
pub fn inbox_cell(app: &App, id: Uuid) -> Option<String> {
    let s = app.suggested.get(&id)?;
    Some(format!(
        "≈{} {}",
        topic_name(app, &s.topic),
        (s.probability * 100.0).round() as i64
    ))
}

/// The card's suggestion lines.
pub fn card_lines(app: &App, s: &Suggestion) -> Vec<Line<'static>> {
    let en = app.lang == Lang::En;
    let dim = style(app, app.theme.muted);
    let top: Vec<String> = s
        .top
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                sanitize::line(&topic_name(app, &r.topic)),
                percent(r.probability)
            )
        })
        .collect();
    let dep = s
        .department
        .as_deref()
        .and_then(|d| app.catalog.department(d))
        .map(|d| pick(&d.name, d.name_en.as_deref(), app.lang).to_string());
    let mut lines = vec![Line::from(vec![
        Span::styled(
            if en {
                "Suggested: "
            } else {
                "Подсказка: "
            },
            dim,
        ),
        Span::raw(top.join(" · ")),
    ])];
    let action = if s.topic == OUT_OF_SCOPE {
        if en {
            "out of scope: y writes the decline, x closes".to_string()
        } else {
            "вне компетенции: y — ответ с отказом, закрыть — x".to_string()
        }
    } else {
        match (dep, en) {
            (Some(d), false) => format!(
                "→ {} {} · y принять",
                sanitize::line(&d),
                percent(s.department_probability)
            ),
            (Some(d), true) => format!(
                "→ {} {} · y accepts",
                sanitize::line(&d),
                percent(s.department_probability)
            ),
            (None, false) => "y принять".into(),
            (None, true) => "y accepts".into(),
        }
    };
    lines.push(Line::from(Span::styled(format!("  {action}"), dim)));
    lines
}

/// Topics for the picker, the suggested ones first by probability.
pub fn order_topics(app: &App, id: Uuid, items: &mut [(String, String)]) {
    let Some(s) = app.suggested.get(&id) else {
        return;
    };
    let p = |t: &str| {
        s.top
            .iter()
            .find(|r| r.topic == t)
            .map_or(-1.0, |r| r.probability)
    };
    // Stable: the rest keep the catalog's order.
    items.sort_by(|a, b| p(&b.0).total_cmp(&p(&a.0)));
    for (id, label) in items.iter_mut() {
        if let Some(r) = s.top.iter().find(|r| &r.topic == id) {
            *label = format!("{label} · {}", percent(r.probability));
        }
    }
}

/// `y`: every marked (or the selected) request takes its suggestion.
pub fn accept(app: &mut App, selected: Uuid) -> Vec<Cmd> {
    let targets: Vec<(Uuid, Suggestion)> = app
        .targets(selected)
        .iter()
        .filter(|r| r.topic.is_none())
        .filter_map(|r| Some((r.id, app.suggested.get(&r.id)?.clone())))
        .collect();
    if targets.is_empty() {
        let text = if app.lang == Lang::En {
            "no suggestion here"
        } else {
            "подсказки нет"
        };
        super::update::flash(app, text.into(), true);
        return vec![];
    }
    // The decline is a reply the operator reads before it goes: one request at a time.
    if let [(id, s)] = &targets[..]
        && s.topic == OUT_OF_SCOPE
    {
        let id = *id;
        let mut cmds = vec![Cmd::Apply(vec![mutation(
            app,
            id,
            Op::SetTopic {
                topic: Some(OUT_OF_SCOPE.into()),
                department_follows: true,
            },
        )])];
        cmds.extend(compose(app, super::app::ComposeKind::Reply, id, None));
        if let Mode::Compose(c) = &mut app.mode
            && let Some(t) = app.templates.iter().find(|t| t.shortcut == "out")
        {
            insert_template(c, 0, &t.text);
        }
        return cmds;
    }
    let cmds: Vec<Cmd> = targets
        .into_iter()
        .filter(|(_, s)| s.topic != OUT_OF_SCOPE)
        .map(|(id, s)| {
            let follows = app
                .catalog
                .topic(&s.topic)
                .and_then(|t| t.department.clone());
            let mut ms = vec![mutation(
                app,
                id,
                Op::SetTopic {
                    topic: Some(s.topic.clone()),
                    department_follows: true,
                },
            )];
            if s.department.is_some() && s.department != follows {
                ms.push(mutation(
                    app,
                    id,
                    Op::SetDepartment {
                        department: s.department.clone(),
                    },
                ));
            }
            Cmd::Apply(ms)
        })
        .collect();
    let what = if app.lang == Lang::En {
        "suggestion"
    } else {
        "подсказка"
    };
    super::bulk::start(app, what, &cmds);
    app.marks.clear();
    cmds
}
