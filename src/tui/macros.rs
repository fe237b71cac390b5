//! Macros in the console: a direct key (F5…) or the palette runs one on the selected (or
//! marked) requests. Each request's steps are expanded and tried first (`macros::expand`), so a
//! step one of them refuses stops the macro before anything is sent; then each request gets its
//! steps as one batch, applied all or nothing like any other action's.
//!
//! A macro with a reply opens the reply editor with the ready text, and Ctrl-S does everything.
//! At a busy desk one keystroke more is cheap, and a wrong text to a citizen can't be taken
//! back: every reply the console sends is read in the composer first (as `r`, marked requests
//! and incidents already are), so a macro's is too, with the macro's other steps named above
//! it. Esc drops the whole macro: nothing was applied yet. A macro without a reply (spam, a
//! thank-you) changes only the record, which the card shows at once: it is done on the key.

use crossterm::event::KeyEvent;
use uuid::Uuid;

use super::app::{App, Compose, ComposeKind, ComposeTarget, Mode};
use super::keymap::Action;
use super::update::{Cmd, flash};
use crate::domain::ClockPolicy;
use crate::macros::{Context, Macro, Plan, Step};

/// A macro waiting in the composer for its reply to be read.
pub struct Run {
    pub title: String,
    /// Its steps besides the reply, in words, shown over the text.
    pub others: Vec<String>,
    /// Every step in words, for the status line when it is done.
    pub steps: String,
    /// One per target, in the composer's order.
    pub plans: Vec<Plan>,
}

/// The macro on a key the keymap has no action for (the keys were checked apart from the
/// actions' when the config was read); a key on the Russian layout as its Latin twin.
pub(super) fn by_key(app: &App, k: KeyEvent) -> Option<usize> {
    let hit = |k: KeyEvent| {
        let pressed = crokey::KeyCombination::from(k);
        app.macros.iter().position(|m| key_of(m) == Some(pressed))
    };
    hit(k).or_else(|| super::keymap::latin_event(k).and_then(hit))
}

fn key_of(m: &Macro) -> Option<crokey::KeyCombination> {
    m.key.as_deref().and_then(|k| k.parse().ok())
}

/// The macro's key as the help and the palette show it (`F5`).
pub(super) fn shown_key(m: &Macro) -> Option<String> {
    key_of(m).map(|k| k.to_string())
}

/// Runs macro `index` on the selected request (or the marked ones).
pub(super) fn run(app: &mut App, index: usize) -> Vec<Cmd> {
    let lang = app.lang;
    if app.readonly {
        flash(app, lang.readonly().into(), true);
        return vec![];
    }
    // Macros are the operators' (replies, closes); a department's console refuses them.
    if super::department_mode::action(app, Action::Reply).is_none() {
        return vec![];
    }
    let Some(m) = app.macros.get(index).cloned() else {
        return vec![];
    };
    let Some(r) = app.current().cloned() else {
        flash(app, lang.nothing_selected().into(), true);
        return vec![];
    };
    // An incident's actions reach its members: never act on it before they are known.
    if r.is_incident && app.detail.as_ref().is_none_or(|d| d.request.id != r.id) {
        flash(app, lang.loading().into(), true);
        return vec![];
    }
    let title = m.title(lang).to_string();
    let targets = app.targets(r.id);
    // Whether a step is accepted never depends on the clock policy (it sets clocks only); the
    // store applies the batch again with the real one.
    let policy = ClockPolicy::default();
    let mut plans = vec![];
    for t in &targets {
        let cx = Context {
            catalog: &app.catalog,
            policy: &policy,
            templates: &app.templates,
            tz: app.tz,
            lang,
            now: app.now,
            actor: &app.me,
            detail: app.detail.as_ref().filter(|d| d.request.id == t.id),
        };
        match crate::macros::expand(&m, t, &cx) {
            Ok(p) => plans.push(p),
            Err(e) => {
                let text = lang.macro_failed(&title, &t.number.to_string(), &e.describe(lang));
                flash(app, text, true);
                return vec![];
            }
        }
    }
    // On one request the forward's department is named even when the request brings it.
    let forward_to = match &plans[..] {
        [one] => one.forward_to.clone(),
        _ => m.department.clone(),
    };
    let described = m.describe_on(&app.catalog, lang, forward_to.as_deref());
    let others: Vec<String> = m
        .steps()
        .into_iter()
        .zip(&described)
        .filter(|(s, _)| *s != Step::Reply)
        .map(|(_, d)| d.clone())
        .collect();
    let run = Run {
        title,
        others,
        steps: described.join(", "),
        plans,
    };
    if m.reply.is_some() {
        return compose(app, &targets, run);
    }
    let batches = run
        .plans
        .iter()
        .map(|p| p.mutations(None, &app.me, app.now))
        .collect();
    apply(app, run, batches)
}

/// The reply editor with the macro's ready reply, each target with the variables the macro's
/// own steps leave (the department it forwards to, for `{department}`).
fn compose(app: &mut App, targets: &[crate::domain::Request], run: Run) -> Vec<Cmd> {
    let text = run
        .plans
        .first()
        .and_then(|p| p.reply.as_ref())
        .map(|r| r.template.clone())
        .unwrap_or_default();
    let targets = targets
        .iter()
        .zip(&run.plans)
        .map(|(r, p)| ComposeTarget {
            id: r.id,
            number: r.number.to_string(),
            limit: Some(r.channel.max_message_units()),
            vars: p.reply.as_ref().map(|x| x.vars.clone()).unwrap_or_default(),
            said: super::request_keys::said(app, r),
        })
        .collect();
    let mut editor = super::app::editor(text.lines().map(str::to_string).collect());
    editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
    editor.move_cursor(ratatui_textarea::CursorMove::End);
    app.mode = Mode::Compose(Box::new(Compose {
        kind: ComposeKind::Reply,
        targets,
        shown: 0,
        department: None,
        editor,
        templates: None,
        run: Some(Box::new(run)),
    }));
    vec![]
}

/// Ctrl-S in a macro's composer: each target's steps with the reply as written there.
pub(super) fn send(app: &mut App, c: &Compose, run: Run) -> Vec<Cmd> {
    let text = c.text();
    let batches = c
        .targets
        .iter()
        .filter_map(|t| {
            let plan = run.plans.iter().find(|p| p.request == t.id)?;
            let body = crate::present::reply_vars::render(&text, &t.vars)
                .trim()
                .to_string();
            Some(plan.mutations(Some(body), &app.me, app.now))
        })
        .collect();
    apply(app, run, batches)
}

/// One command per request, its steps one batch: all of a request's or none. Several requests
/// are counted together (tui/bulk.rs); one is reported with what was done.
fn apply(app: &mut App, run: Run, batches: Vec<Vec<crate::domain::Mutation>>) -> Vec<Cmd> {
    let cmds: Vec<Cmd> = batches
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(Cmd::Apply)
        .collect();
    let what = format!("«{}»", run.title);
    super::bulk::start(app, &what, &cmds);
    app.macro_done = match (&cmds[..], app.bulk.is_some()) {
        ([Cmd::Apply(b)], false) => b.first().map(|m| {
            let number = app
                .rows
                .iter()
                .find(|r| r.id == m.request_id)
                .map(|r| r.number.to_string())
                .unwrap_or_default();
            Done {
                id: m.request_id,
                title: run.title.clone(),
                number,
                steps: run.steps.clone(),
            }
        }),
        _ => None,
    };
    app.marks.clear();
    cmds
}

/// A macro on one request, waiting for the store's answer to say what was done.
pub struct Done {
    id: Uuid,
    title: String,
    number: String,
    steps: String,
}

/// The store's answer to a macro on one request: the status line says what was done, or why
/// nothing was. False when the answer is not the macro's.
pub(super) fn on_applied(app: &mut App, id: Option<Uuid>, result: &Result<String, String>) -> bool {
    let Some(done) = app.macro_done.take_if(|d| Some(d.id) == id) else {
        return false;
    };
    let lang = app.lang;
    match result {
        Ok(_) => flash(
            app,
            lang.macro_done(&done.title, &done.number, &done.steps),
            false,
        ),
        Err(why) => flash(app, lang.macro_failed(&done.title, &done.number, why), true),
    }
    true
}
