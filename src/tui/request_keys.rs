//! Actions on the selected (or marked) requests and the windows they open: pickers, the
//! composer with its ready replies, the filter line, the duplicate's number.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use super::app::{
    App, Compose, ComposeKind, ComposeTarget, Mode, Picker, PickerKind, TemplateList,
    template_matches,
};
use super::filter;
use super::keymap::Action;
use super::update::{Cmd, flash, reload_from_top};
use crate::domain::mutation::{Mutation, Op, Settle};
use crate::domain::{CloseReason, Priority, Request};

pub(super) fn mutation(app: &App, id: Uuid, op: Op) -> Mutation {
    Mutation::new(id, &app.me, app.now, op)
}

/// One key on a one-line field (a picker's search, the filter line): typing, Backspace, and
/// the shells' Ctrl-U (clear) and Ctrl-W (the last word). `accept` says which characters the
/// field takes. True when the text changed.
pub(super) fn edit_line(input: &mut String, k: KeyEvent, accept: impl Fn(char) -> bool) -> bool {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let before = input.len();
    match k.code {
        KeyCode::Backspace => {
            input.pop();
        }
        // Г and Ц: the same keys on the Russian layout.
        KeyCode::Char('u' | 'г') if ctrl => input.clear(),
        KeyCode::Char('w' | 'ц') if ctrl => {
            let kept = input.trim_end().len();
            input.truncate(kept);
            let start = input.rfind(char::is_whitespace).map_or(0, |i| i + 1);
            input.truncate(start);
        }
        KeyCode::Char(c) if !ctrl && accept(c) => {
            input.push(c);
            return true;
        }
        _ => {}
    }
    input.len() != before
}

pub(super) fn on_request(app: &mut App, action: Action) -> Vec<Cmd> {
    let Some(r) = app.current().cloned() else {
        flash(app, app.lang.nothing_selected().into(), true);
        return vec![];
    };
    let lang = app.lang;
    // An incident's actions reach its members: never act on it before they are known.
    if r.is_incident && app.detail.as_ref().is_none_or(|d| d.request.id != r.id) {
        flash(app, lang.loading().into(), true);
        return vec![];
    }
    match action {
        Action::CitizenRequests => super::citizen::list(app, &r),
        Action::Split => super::citizen::split_list(app, &r),
        Action::LeaveIncident => match r.incident_id {
            Some(_) => vec![Cmd::Apply(vec![mutation(app, r.id, Op::LeaveIncident)])],
            None => {
                let text = lang.pick("обращение не входит в инцидент", "not in an incident");
                flash(app, text.into(), true);
                vec![]
            }
        },
        Action::Claim => each(app, r.id, lang.action(action), |_| Some(Op::Claim)),
        Action::Release => each(app, r.id, lang.action(action), |_| Some(Op::Release)),
        Action::Reopen => each(app, r.id, lang.action(action), |_| Some(Op::Reopen)),
        Action::AcceptSuggestion => super::suggest::accept(app, r.id),
        Action::LinkDuplicate => {
            // A citizen writing again about their open request: its number is offered, so
            // `D` `Enter` joins the repeat to it.
            let input = app
                .detail
                .as_ref()
                .filter(|d| d.request.id == r.id)
                .and_then(|d| d.same_case_as.clone())
                .unwrap_or_default();
            app.mode = Mode::LinkInput {
                target: r.id,
                input,
                merge: false,
            };
            vec![]
        }
        Action::OpenAttachment => {
            use crate::domain::request::AttachmentState;
            // A file without a name of its own is «фото 2», never the bare kind three times over.
            // The picker's value is the file's place in the request's list.
            let stored: Vec<(String, String)> = r
                .attachments
                .iter()
                .enumerate()
                .filter(|(_, a)| a.state == AttachmentState::Stored && a.local_path.is_some())
                .enumerate()
                .map(|(i, (n, a))| {
                    let name = a.name.clone().unwrap_or_else(|| {
                        format!(
                            "{} {}",
                            crate::present::names::attachment_kind(&a.kind, lang),
                            i + 1
                        )
                    });
                    (n.to_string(), crate::sanitize::line(&name))
                })
                .collect();
            match stored.len() {
                0 => {
                    flash(app, lang.no_files().into(), true);
                    vec![]
                }
                1 => open_file(app, &r, &stored[0].0),
                _ => open_picker(app, PickerKind::Attachment, r.id, stored, None),
            }
        }
        Action::CopyNumber => {
            flash(app, format!("{}: {}", lang.copied(), r.number), false);
            vec![Cmd::Copy(r.number.to_string())]
        }
        Action::Topic => {
            let mut items: Vec<(String, String)> = app
                .catalog
                .topics
                .iter()
                .map(|t| (t.id.clone(), label(lang, &t.name, &t.name_en)))
                .collect();
            items.push((String::new(), lang.none().into()));
            super::suggest::order_topics(app, r.id, &mut items);
            open_picker(app, PickerKind::Topic, r.id, items, r.topic.as_deref())
        }
        Action::Department | Action::Forward => {
            let items: Vec<(String, String)> = app
                .catalog
                .departments
                .iter()
                .map(|d| (d.id.clone(), label(lang, &d.name, &d.name_en)))
                .collect();
            let kind = if action == Action::Forward {
                PickerKind::Forward
            } else {
                PickerKind::Department
            };
            open_picker(app, kind, r.id, items, r.department.as_deref())
        }
        Action::Priority => {
            let items = Priority::ALL
                .iter()
                .map(|p| (p.as_str().to_string(), lang.priority(*p).to_string()))
                .collect();
            open_picker(
                app,
                PickerKind::Priority,
                r.id,
                items,
                Some(r.priority.as_str()),
            )
        }
        Action::Close => {
            let items = CloseReason::ALL
                .iter()
                .filter(|c| c.chosen_by_hand())
                .map(|c| (c.as_str().to_string(), lang.close_reason(*c).to_string()))
                .collect();
            open_picker(app, PickerKind::CloseReason, r.id, items, None)
        }
        Action::Reply => compose(app, ComposeKind::Reply, r.id, None),
        Action::Ask => compose(app, ComposeKind::Ask, r.id, None),
        Action::Note => compose(app, ComposeKind::Note, r.id, None),
        Action::DepartmentAnswer => compose(app, ComposeKind::DepartmentAnswer, r.id, None),
        Action::Tag => super::tags::open(app, r.id),
        Action::Assign => {
            let items = super::assign::items(app);
            open_picker(app, PickerKind::Assign, r.id, items, r.assignee.as_deref())
        }
        Action::Resend | Action::Phoned | Action::Unreachable => {
            super::undelivered::perform(app, action, r.id)
        }
        _ => vec![],
    }
}

pub(super) fn label(lang: super::strings::Lang, ru: &str, en: &Option<String>) -> String {
    crate::present::names::pick(ru, en.as_deref(), lang).to_string()
}

/// The viewer on the request's file at place `n` (the picker's value), if it is stored.
fn open_file(app: &App, r: &crate::domain::Request, n: &str) -> Vec<Cmd> {
    let Some(file) = n.parse().ok().and_then(|n| super::photo::file_ref(r, n)) else {
        return vec![];
    };
    vec![Cmd::Open {
        program: app.open_command.clone(),
        file,
    }]
}

pub(super) fn open_picker(
    app: &mut App,
    kind: PickerKind,
    target: Uuid,
    items: Vec<(String, String)>,
    current: Option<&str>,
) -> Vec<Cmd> {
    let selected = current
        .and_then(|c| items.iter().position(|(v, _)| v == c))
        .unwrap_or(0);
    app.mode = Mode::Picker(Picker {
        kind,
        target,
        items,
        query: String::new(),
        selected,
    });
    vec![]
}

pub(super) fn picker_key(app: &mut App, k: KeyEvent, mut p: Picker) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => return vec![],
        KeyCode::Up => p.selected = p.selected.saturating_sub(1),
        KeyCode::Down => p.selected = (p.selected + 1).min(p.visible().len().saturating_sub(1)),
        KeyCode::Enter => {
            let Some((value, _)) = p.visible().get(p.selected).map(|x| (*x).clone()) else {
                app.mode = Mode::Picker(p);
                return vec![];
            };
            return choose(app, &p, value);
        }
        _ => {
            if edit_line(&mut p.query, k, |_| true) {
                p.selected = 0;
                if p.kind == PickerKind::Assign {
                    super::assign::typed(app.lang, &mut p);
                }
            }
        }
    }
    app.mode = Mode::Picker(p);
    vec![]
}

pub(super) fn choose(app: &mut App, p: &Picker, value: String) -> Vec<Cmd> {
    let Some(r) = app.rows.iter().find(|r| r.id == p.target).cloned() else {
        return vec![];
    };
    let some = |v: String| if v.is_empty() { None } else { Some(v) };
    let op = match p.kind {
        PickerKind::Topic => Op::SetTopic {
            topic: some(value),
            department_follows: true,
        },
        PickerKind::Department => Op::SetDepartment {
            department: some(value),
        },
        PickerKind::Priority => match value.parse() {
            Ok(priority) => Op::SetPriority { priority },
            Err(_) => return vec![],
        },
        PickerKind::CloseReason => match value.parse() {
            Ok(reason) => Op::Close { reason },
            Err(_) => return vec![],
        },
        PickerKind::Assign => Op::Assign {
            assignee: some(value),
        },
        PickerKind::CitizenRequest => return super::citizen::show(app, value),
        PickerKind::SplitMessage => return super::citizen::split(app, p.target, &value),
        PickerKind::Attachment => return open_file(app, &r, &value),
        // The forward itself happens when its note is written (or left empty).
        PickerKind::Forward => return compose(app, ComposeKind::Forward, r.id, some(value)),
    };
    each(app, r.id, app.lang.picker(p.kind), |_| Some(op.clone()))
}

/// Opens the composer on the marked requests (or the selected one), each with its own
/// variables; `department` is the one a forward goes to. A phone call is noted only on those
/// with an undelivered reply.
pub(super) fn compose(
    app: &mut App,
    kind: ComposeKind,
    selected: Uuid,
    department: Option<String>,
) -> Vec<Cmd> {
    let targets: Vec<ComposeTarget> = app
        .targets(selected)
        .iter()
        .filter(|r| kind != ComposeKind::Phoned || r.undelivered())
        .map(|r| ComposeTarget {
            id: r.id,
            number: r.number.to_string(),
            limit: kind.to_citizen().then(|| r.channel.max_message_units()),
            vars: vars_for(app, r, department.as_deref()),
            said: said(app, r),
        })
        .collect();
    if targets.is_empty() {
        flash(app, app.lang.nothing_selected().into(), true);
        return vec![];
    }
    // A reply the server refused comes back as it was written.
    let draft = match (kind, &targets[..]) {
        (ComposeKind::Reply | ComposeKind::Ask, [one]) => app.alerts.drafts.remove(&one.id),
        _ => None,
    };
    let lines = draft
        .map(|d| d.lines().map(str::to_string).collect())
        .unwrap_or_default();
    app.mode = Mode::Compose(Box::new(Compose {
        kind,
        targets,
        shown: 0,
        department,
        editor: super::app::editor(lines),
        templates: None,
        run: None,
    }));
    vec![]
}

/// The citizen's last message: the newest from them on the card when the card is this
/// request's, else the text they opened it with.
pub(super) fn said(app: &App, r: &Request) -> Option<(chrono::DateTime<chrono::Utc>, String)> {
    use crate::domain::request::Direction;
    let later = app
        .detail
        .as_ref()
        .filter(|d| d.request.id == r.id)
        .and_then(|d| {
            d.messages
                .iter()
                .rev()
                .find(|m| m.direction == Direction::In && !m.body.trim().is_empty())
        })
        .map(|m| (m.at, m.body.clone()));
    later.or_else(|| (!r.text.trim().is_empty()).then(|| (r.received_at, r.text.clone())))
}

/// One command per target, so a refusal on one request does not hold back the others; marks
/// are spent by the action.
pub(super) fn each(
    app: &mut App,
    selected: Uuid,
    what: &str,
    op: impl Fn(&Request) -> Option<Op>,
) -> Vec<Cmd> {
    let cmds: Vec<Cmd> = app
        .targets(selected)
        .iter()
        .filter_map(|r| op(r).map(|o| Cmd::Apply(vec![mutation(app, r.id, o)])))
        .collect();
    super::bulk::start(app, what, &cmds);
    app.marks.clear();
    cmds
}

/// A reply's variables for one request, filled as `mcu reply` fills them (`present::reply_vars`).
pub(super) fn vars_for(app: &App, r: &Request, department: Option<&str>) -> Vec<(String, String)> {
    let cx = crate::present::reply_vars::ReplyContext {
        catalog: &app.catalog,
        tz: app.tz,
        now: app.now,
        lang: app.lang,
    };
    crate::present::reply_vars::vars(&cx, r, department, app.detail.as_ref())
}

pub(super) fn compose_key(app: &mut App, k: KeyEvent, mut c: Box<Compose>) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let send = (ctrl && matches!(k.code, KeyCode::Char('s') | KeyCode::Char('ы')))
        || (k.modifiers.contains(KeyModifiers::ALT) && k.code == KeyCode::Enter);
    if let Some(list) = c.templates.take() {
        template_key(app, k, &mut c, list);
        app.mode = Mode::Compose(c);
        return vec![];
    }
    if k.code == KeyCode::Esc {
        return vec![];
    }
    if ctrl && matches!(k.code, KeyCode::Char('o') | KeyCode::Char('щ')) {
        let text = c.text();
        app.mode = Mode::Compose(c);
        return vec![Cmd::Edit(text)];
    }
    if ctrl && matches!(k.code, KeyCode::Char('t') | KeyCode::Char('е')) {
        c.templates = Some(TemplateList::default());
        app.mode = Mode::Compose(c);
        return vec![];
    }
    if k.code == KeyCode::Tab && expand_shortcut(&app.templates, &mut c) {
        app.mode = Mode::Compose(c);
        return vec![];
    }
    // Several targets: PgDn/PgUp show the next or previous one's rendering.
    let n = c.targets.len();
    match k.code {
        KeyCode::PageDown if n > 1 && !send => {
            c.shown = (c.shown + 1) % n;
            app.mode = Mode::Compose(c);
            return vec![];
        }
        KeyCode::PageUp if n > 1 && !send => {
            c.shown = (c.shown + n - 1) % n;
            app.mode = Mode::Compose(c);
            return vec![];
        }
        _ => {}
    }
    if !send {
        c.editor.input(k);
        app.mode = Mode::Compose(c);
        return vec![];
    }
    if c.preview().trim().is_empty() && c.kind != ComposeKind::Forward {
        app.mode = Mode::Compose(c);
        return vec![];
    }
    if let Some(run) = c.run.take() {
        return super::macros::send(app, &c, *run);
    }
    let text = c.text();
    let mut cmds = vec![];
    // Each target gets the text with its own number, citizen and department.
    for t in &c.targets {
        let body = crate::present::reply_vars::render(&text, &t.vars)
            .trim()
            .to_string();
        let op = match c.kind {
            ComposeKind::Reply => Op::Reply {
                message_id: Uuid::now_v7(),
                body,
            },
            ComposeKind::Ask => Op::Ask {
                message_id: Uuid::now_v7(),
                body,
            },
            ComposeKind::Note => Op::AddNote {
                note_id: Uuid::now_v7(),
                body,
            },
            ComposeKind::DepartmentAnswer => Op::DepartmentAnswer {
                note_id: Uuid::now_v7(),
                body,
                attachments: vec![],
            },
            ComposeKind::Return => Op::Return {
                note_id: Uuid::now_v7(),
                reason: body,
            },
            ComposeKind::Forward => Op::Forward {
                department: c.department.clone(),
                note_id: Uuid::now_v7(),
                note: (!body.is_empty()).then_some(body),
            },
            ComposeKind::Phoned => Op::SettleReply {
                how: Settle::Phoned {
                    message_id: Uuid::now_v7(),
                    body,
                },
            },
        };
        cmds.push(Cmd::Apply(vec![mutation(app, t.id, op)]));
    }
    super::bulk::start(app, app.lang.compose(c.kind), &cmds);
    app.marks.clear();
    cmds
}

pub(super) fn filter_key(app: &mut App, k: KeyEvent, mut input: String) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => vec![],
        KeyCode::Enter => {
            let base = app.view.filter(&app.me, app.now, app.tz);
            match filter::parse(&input, base, &app.catalog, &app.me) {
                Ok(f) => {
                    app.filter = f;
                    app.filter_line = input;
                    reload_from_top(app)
                }
                Err(e) => {
                    flash(app, e, true);
                    app.mode = Mode::Filter { input };
                    vec![]
                }
            }
        }
        // Ctrl-U clears what is typed (Enter then drops the filter), Ctrl-W the last word.
        _ => {
            edit_line(&mut input, k, |_| true);
            app.mode = Mode::Filter { input };
            vec![]
        }
    }
}

/// `::shortcut` before the cursor becomes the ready reply it names; `::` with a word that is
/// no shortcut opens the list filtered by it. False when there is no `::` word (Tab then
/// goes to the editor).
pub(super) fn expand_shortcut(all: &[crate::templates::ReplyTemplate], c: &mut Compose) -> bool {
    let ratatui_textarea::DataCursor(row, col) = c.editor.cursor();
    let line = c.editor.lines().get(row).cloned().unwrap_or_default();
    let before: String = line.chars().take(col).collect();
    let word = before.rsplit(char::is_whitespace).next().unwrap_or("");
    let Some(name) = word.strip_prefix("::") else {
        return false;
    };
    let replace = word.chars().count();
    match all.iter().find(|t| t.shortcut == name) {
        Some(t) => insert_template(c, replace, &t.text),
        None => {
            c.templates = Some(TemplateList {
                query: name.to_string(),
                selected: 0,
                replace,
            })
        }
    }
    true
}

pub(super) fn insert_template(c: &mut Compose, replace: usize, text: &str) {
    for _ in 0..replace {
        c.editor.delete_char();
    }
    c.editor.insert_str(text);
}

/// Keys while the template list is open over the composer.
pub(super) fn template_key(app: &App, k: KeyEvent, c: &mut Compose, mut list: TemplateList) {
    let shown = template_matches(&app.templates, &list.query);
    match k.code {
        KeyCode::Esc => return,
        KeyCode::Up => list.selected = list.selected.saturating_sub(1),
        KeyCode::Down => list.selected = (list.selected + 1).min(shown.len().saturating_sub(1)),
        KeyCode::Backspace => {
            list.query.pop();
            list.selected = 0;
        }
        KeyCode::Enter | KeyCode::Tab => {
            if let Some(t) = shown.get(list.selected) {
                let text = t.text.clone();
                insert_template(c, list.replace, &text);
                return;
            }
        }
        KeyCode::Char(ch) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
            list.query.push(ch);
            list.selected = 0;
        }
        _ => {}
    }
    c.templates = Some(list);
}

pub(super) fn link_key(
    app: &mut App,
    k: KeyEvent,
    target: Uuid,
    mut input: String,
    mut merge: bool,
) -> Vec<Cmd> {
    match k.code {
        KeyCode::Esc => return vec![],
        KeyCode::Tab | KeyCode::BackTab => merge = !merge,
        KeyCode::Enter if !input.trim().is_empty() => {
            return vec![Cmd::LinkDuplicate {
                target,
                actor: app.me.clone(),
                number: input.trim().to_string(),
                lang: app.lang,
                merge,
            }];
        }
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Char(c) if c.is_ascii_digit() || c == '-' => input.push(c),
        _ => {}
    }
    app.mode = Mode::LinkInput {
        target,
        input,
        merge,
    };
    vec![]
}
