//! A macro on one request, as the ops `apply` takes. Pure (no store, no clock read), so the
//! console and the CLI expand it alike and tests run it as a plain function. Each step is tried
//! through the same `apply` on the request as the steps before it left it: a step the request
//! would refuse (closing a closed request, replying on someone else's) stops the whole macro,
//! named, before anything is written; the store then applies the ops in one transaction.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::{Macro, Step};
use crate::domain::mutation::{Ctx, Mutation, Op};
use crate::domain::{Catalog, ClockPolicy, Rejection, Request, apply};
use crate::lang::Lang;
use crate::present::reply_vars;
use crate::store::Detail;
use crate::templates::ReplyTemplate;

/// What a macro is expanded against, besides the request.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    /// Used for the trial's clocks only: whether a step is accepted never depends on it.
    pub policy: &'a ClockPolicy,
    pub templates: &'a [ReplyTemplate],
    pub tz: Tz,
    /// The reply's words that depend on the language (`{by_due}`).
    pub lang: Lang,
    pub now: DateTime<Utc>,
    /// Who runs it: a reply or a forward takes an unclaimed request, someone else's is refused.
    pub actor: &'a str,
    /// The request's card when loaded: it brings the department's answer for `{answer}`.
    pub detail: Option<&'a Detail>,
}

/// The reply a macro sends: the ready reply as written and this request's variables, taken as
/// they will be when it goes (the department the macro's own steps set, for `{department}`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedReply {
    pub template: String,
    pub vars: Vec<(String, String)>,
}

impl PlannedReply {
    /// The text as the citizen will read it.
    pub fn text(&self) -> String {
        reply_vars::render(&self.template, &self.vars)
            .trim()
            .to_string()
    }
}

/// A macro expanded on one request: the steps before the reply, the reply, the steps after it.
/// Kept apart so the console can let the operator read (and edit) the reply first.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub request: Uuid,
    /// The department a forward step sends the request to, for saying so before it goes.
    pub forward_to: Option<String>,
    pub before: Vec<Op>,
    pub reply: Option<PlannedReply>,
    pub after: Vec<Op>,
}

impl Plan {
    /// The ops in the order `apply` takes them; `body` is the reply as the operator finished it
    /// (None: the ready reply as planned).
    pub fn ops(&self, body: Option<String>) -> Vec<Op> {
        let mut ops = self.before.clone();
        if let Some(r) = &self.reply {
            ops.push(Op::Reply {
                message_id: Uuid::now_v7(),
                body: body.unwrap_or_else(|| r.text()),
            });
        }
        ops.extend(self.after.iter().cloned());
        ops
    }

    /// The ops as one batch of mutations on the request: the store applies it all or nothing.
    pub fn mutations(
        &self,
        body: Option<String>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Vec<Mutation> {
        self.ops(body)
            .into_iter()
            .map(|op| Mutation::new(self.request, actor, now, op))
            .collect()
    }
}

/// Why a macro does not run on a request.
#[derive(Debug, Clone, PartialEq)]
pub enum MacroError {
    /// The macro itself can't run (a ready reply or a reason it names is not there): the
    /// config's to fix.
    Invalid(String),
    /// A step the request refuses as it stands.
    Refused { step: Step, why: Rejection },
    /// The reply says `{answer}` and the request has no department answer recorded: the
    /// citizen would read an empty answer.
    NoAnswer,
}

impl MacroError {
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (MacroError::Invalid(why), _) => why.clone(),
            (
                MacroError::Refused {
                    step: Step::Forward,
                    why: Rejection::NoDepartment,
                },
                _,
            ) => lang
                .pick(
                    "у обращения нет департамента: сначала задайте тему или департамент",
                    "the request has no department: set its topic or department first",
                )
                .into(),
            (MacroError::Refused { step, why }, Lang::Ru) => format!(
                "шаг «{}»: {}",
                step.name(lang),
                crate::present::refusal::rejection_ru(why)
            ),
            (MacroError::Refused { step, why }, Lang::En) => {
                format!("step `{}`: {why}", step.name(lang))
            }
            (MacroError::NoAnswer, _) => lang
                .pick(
                    "ответ департамента не записан: в ответе заявителю было бы пусто \
                     (запишите его: `a` в консоли, `mcu answer`)",
                    "no department answer is recorded: the reply would say nothing \
                     (record it: `a` in the console, `mcu answer`)",
                )
                .into(),
        }
    }
}

/// `m` on request `r`: the plan, or the first step that can't be done and why.
pub fn expand(m: &Macro, r: &Request, cx: &Context) -> Result<Plan, MacroError> {
    if let Some(p) = super::problem(m, cx.catalog, cx.templates) {
        return Err(MacroError::Invalid(format!("macros `{}`: {p}", m.id)));
    }
    let invalid = |e: String| MacroError::Invalid(format!("macros `{}`: {e}", m.id));
    let mut state = r.clone();
    let mut plan = Plan {
        request: r.id,
        forward_to: None,
        before: vec![],
        reply: None,
        after: vec![],
    };
    for step in m.steps() {
        let op = match step {
            Step::Topic => Op::SetTopic {
                topic: m.topic.clone(),
                department_follows: m.department.is_none(),
            },
            Step::Department => Op::SetDepartment {
                department: m.department.clone(),
            },
            Step::Priority => match m.priority().map_err(invalid)? {
                Some(priority) => Op::SetPriority { priority },
                None => continue,
            },
            Step::Forward => Op::Forward {
                department: m.department.clone(),
                note_id: Uuid::now_v7(),
                note: m.note.clone(),
            },
            Step::Reply => {
                let shortcut = m.reply.as_deref().unwrap_or_default();
                let Some(t) = cx.templates.iter().find(|t| t.shortcut == shortcut) else {
                    return Err(invalid(format!("no ready reply `{shortcut}`")));
                };
                let rcx = reply_vars::ReplyContext {
                    catalog: cx.catalog,
                    tz: cx.tz,
                    now: cx.now,
                    lang: cx.lang,
                };
                let vars = reply_vars::vars(&rcx, &state, None, cx.detail);
                let empty_answer = vars.iter().any(|(k, v)| k == "answer" && v.is_empty());
                if t.text.contains("{answer}") && empty_answer {
                    return Err(MacroError::NoAnswer);
                }
                let planned = PlannedReply {
                    template: t.text.clone(),
                    vars,
                };
                let op = Op::Reply {
                    message_id: Uuid::now_v7(),
                    body: planned.text(),
                };
                plan.reply = Some(planned);
                op
            }
            Step::Close => match m.close_reason().map_err(invalid)? {
                Some(reason) => Op::Close { reason },
                None => continue,
            },
        };
        state = trial(&state, &op, cx).map_err(|why| MacroError::Refused { step, why })?;
        if step == Step::Forward {
            plan.forward_to = state.department.clone();
        }
        match step {
            // Planned above; `Plan::ops` makes it with the text the operator settles on.
            Step::Reply => {}
            _ if plan.reply.is_some() => plan.after.push(op),
            _ => plan.before.push(op),
        }
    }
    Ok(plan)
}

/// The request after `op`, through the one `apply` every writer uses; nothing is written.
fn trial(state: &Request, op: &Op, cx: &Context) -> Result<Request, Rejection> {
    let m = Mutation::new(state.id, cx.actor, cx.now, op.clone());
    let ctx = Ctx {
        catalog: cx.catalog,
        policy: cx.policy,
        now: cx.now,
        new_number: None,
    };
    apply(Some(state), &m, &ctx).map(|o| o.request)
}
