//! Macros as domain rules: the shipped set sound, the center's own merged and checked, and the
//! expansion's ops the ones `apply` takes, in its order, or the step that can't be done named.

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
use crate::domain::request::{ChannelRef, Note, NoteKind};
use crate::domain::{Channel, ClockPolicy, Rejection, Request, RequestNumber, Status, apply};
use crate::store::Detail;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
}

fn catalog() -> Catalog {
    Catalog::krasnodar()
}

/// A new Telegram request about roads (so its department is `transport_roads`).
fn request() -> Request {
    let new = NewRequest {
        citizen: Some("Ольга Котова".into()),
        channel_ref: ChannelRef {
            chat: Some("42".into()),
            message: Some("7".into()),
        },
        topic: Some("roads".into()),
        ..NewRequest::new(Channel::Telegram, "Яма у подъезда, и течёт труба", t0())
    };
    let m = Mutation::new(Uuid::from_u128(1), "tg", t0(), Op::Create(Box::new(new)));
    let (catalog, policy) = (catalog(), ClockPolicy::default());
    let ctx = Ctx {
        catalog: &catalog,
        policy: &policy,
        now: t0(),
        new_number: Some(RequestNumber::new(2026, 41)),
    };
    apply(None, &m, &ctx).unwrap().request
}

fn one(id: &str) -> Macro {
    shipped()
        .into_iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("no shipped macro `{id}`"))
}

fn own(id: &str) -> Macro {
    Macro {
        id: id.into(),
        title: "Свой".into(),
        title_en: None,
        key: None,
        topic: None,
        department: None,
        priority: None,
        forward: false,
        note: None,
        reply: None,
        close: None,
        enabled: true,
    }
}

/// Expands `m` on `r` as anna, at t0 + 10 minutes.
fn run(m: &Macro, r: &Request, detail: Option<&Detail>) -> Result<Plan, MacroError> {
    let (catalog, policy, templates) = (
        catalog(),
        ClockPolicy::default(),
        crate::templates::replies(),
    );
    let cx = Context {
        catalog: &catalog,
        policy: &policy,
        templates: &templates,
        tz: chrono_tz::Europe::Moscow,
        lang: Lang::Ru,
        now: t0() + chrono::Duration::minutes(10),
        actor: "anna",
        detail,
    };
    expand(m, r, &cx)
}

/// The plan's ops applied one by one, as the store applies the batch.
fn applied(r: &Request, plan: &Plan) -> Request {
    let (catalog, policy) = (catalog(), ClockPolicy::default());
    let ctx = Ctx {
        catalog: &catalog,
        policy: &policy,
        now: t0() + chrono::Duration::minutes(10),
        new_number: None,
    };
    plan.mutations(None, "anna", ctx.now)
        .iter()
        .fold(r.clone(), |state, m| {
            apply(Some(&state), m, &ctx)
                .unwrap_or_else(|e| panic!("{}: {e}", m.op.name()))
                .request
        })
}

fn names(ops: &[Op]) -> Vec<&'static str> {
    ops.iter().map(Op::name).collect()
}

#[test]
fn the_shipped_set_is_real_sound_and_keyed_first() {
    let all = shipped();
    assert!(all.len() >= 10, "{}", all.len());
    let ids: std::collections::BTreeSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "one id each");
    let templates = crate::templates::replies();
    for m in &all {
        assert_eq!(problem(m, &catalog(), &templates), None, "{}", m.id);
        assert!(m.title_en.is_some(), "{} has an English title", m.id);
    }
    // The first ones have direct keys (clear of every action's: tui/keymap.rs tests that);
    // the rest are in the palette.
    let keyed: Vec<&str> = all.iter().filter_map(|m| m.key.as_deref()).collect();
    assert_eq!(keyed, ["f5", "f6", "f7", "f8", "f9"]);
    assert_eq!(merged(&[], &catalog(), &templates), all);
}

#[test]
fn own_macros_replace_shipped_ones_in_place_add_new_and_switch_off() {
    let templates = crate::templates::replies();
    let mut accept = one("accept");
    accept.reply = Some("ctrl".into());
    let snow = Macro {
        reply: Some("plan".into()),
        ..own("snow")
    };
    let spam = Macro {
        enabled: false,
        ..own("spam")
    };
    let all = merged(&[accept, snow, spam], &catalog(), &templates);
    assert_eq!(all[0].id, "accept");
    assert_eq!(all[0].reply.as_deref(), Some("ctrl"));
    assert_eq!(all.last().map(|m| m.id.as_str()), Some("snow"));
    assert!(all.iter().all(|m| m.id != "spam"));
    assert_eq!(all.len(), shipped().len());
}

#[test]
fn a_catalog_of_the_centers_own_leaves_out_the_shipped_macros_it_cannot_run() {
    let text = "[[department]]\nid = \"gkh\"\nname = \"ЖКХ\"\n[[topic]]\nid = \"housing\"\nname = \"Дома\"\ndepartment = \"gkh\"\n";
    let small = Catalog::parse(text).unwrap();
    let all = merged(&[], &small, &crate::templates::replies());
    let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
    // Those naming `utilities`, `out_of_scope`, … are gone; the rest stay.
    assert!(ids.contains(&"accept") && ids.contains(&"spam"), "{ids:?}");
    assert!(
        !ids.contains(&"gas") && !ids.contains(&"decline"),
        "{ids:?}"
    );
    // And no config error for it.
    assert_eq!(check_own(&[], &small, &crate::templates::replies()), Ok(()));
}

#[test]
fn a_reply_macro_is_the_reply_rendered_and_nothing_else() {
    let r = request();
    let plan = run(&one("accept"), &r, None).unwrap();
    assert!(plan.before.is_empty() && plan.after.is_empty());
    let reply = plan.reply.as_ref().unwrap();
    assert!(reply.template.contains("{number}"));
    assert_eq!(
        reply.text(),
        "Здравствуйте, Ольга Котова! Ваше обращение 2026-000041 принято в работу. Ответим до 30.11.2026 16:00."
    );
    let after = applied(&r, &plan);
    assert_eq!(after.status, Status::Answered);
    assert_eq!(after.assignee.as_deref(), Some("anna"), "a reply takes it");
}

#[test]
fn topic_comes_before_the_forward_and_the_reply_names_the_new_department() {
    let r = request();
    assert_eq!(r.department.as_deref(), Some("transport_roads"));
    let plan = run(&one("uk"), &r, None).unwrap();
    assert_eq!(names(&plan.before), ["set_topic", "forward"]);
    assert!(matches!(
        &plan.before[0],
        Op::SetTopic { topic: Some(t), department_follows: true } if t == "utilities"
    ));
    assert!(matches!(
        &plan.before[1],
        Op::Forward { department: None, note: Some(n), .. } if n.contains("УК")
    ));
    assert_eq!(names(&plan.ops(None)), ["set_topic", "forward", "reply"]);
    assert_eq!(plan.forward_to.as_deref(), Some("city_economy"));
    let after = applied(&r, &plan);
    assert_eq!(after.department.as_deref(), Some("city_economy"));
    assert_eq!(after.status, Status::WaitingDepartment);
    // `{department}` is the department the macro's own steps leave, not the request's old one.
    let m = Macro {
        topic: Some("utilities".into()),
        forward: true,
        reply: Some("dep".into()),
        ..own("to_gkh")
    };
    let text = run(&m, &r, None).unwrap().reply.unwrap().text();
    assert!(
        text.contains("передано в Департамент городского хозяйства и ТЭК")
            && !text.contains("транспорта"),
        "{text}"
    );
}

#[test]
fn reply_comes_before_close_and_a_given_department_is_forwarded_to_directly() {
    let r = request();
    let plan = run(&one("decline"), &r, None).unwrap();
    assert_eq!(names(&plan.ops(None)), ["set_topic", "reply", "close"]);
    let after = applied(&r, &plan);
    assert_eq!(after.status, Status::Closed);
    assert_eq!(after.close_reason, Some(CloseReason::OutOfScope));
    // department + forward: one forward to it, no separate department step.
    let m = Macro {
        department: Some("veterinary".into()),
        forward: true,
        note: Some("Собаки".into()),
        priority: Some("high".into()),
        ..own("dogs")
    };
    let plan = run(&m, &r, None).unwrap();
    assert_eq!(names(&plan.ops(None)), ["set_priority", "forward"]);
    let after = applied(&r, &plan);
    assert_eq!(after.department.as_deref(), Some("veterinary"));
    assert_eq!(after.priority, Priority::High);
}

#[test]
fn a_step_the_request_refuses_fails_the_whole_macro_named() {
    let r = request();
    let closed = applied(&r, &run(&one("spam"), &r, None).unwrap());
    assert_eq!(closed.status, Status::Closed);
    // Closing a closed request: the close step, named.
    let e = run(&one("spam"), &closed, None).unwrap_err();
    assert!(
        matches!(
            &e,
            MacroError::Refused {
                step: Step::Close,
                why: Rejection::InvalidTransition(_)
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.describe(Lang::Ru),
        "шаг «закрыть»: нельзя закрыть обращение: оно закрыто"
    );
    assert!(
        e.describe(Lang::En)
            .starts_with("step `close`: cannot close"),
        "{}",
        e.describe(Lang::En)
    );
    // The first step that can't be done is the one reported: the reply, before the close.
    let e = run(&one("done"), &closed, None).unwrap_err();
    assert!(
        matches!(
            e,
            MacroError::Refused {
                step: Step::Reply,
                ..
            }
        ),
        "{e:?}"
    );
    // Someone else's request.
    let mut boris = r.clone();
    boris.assignee = Some("boris".into());
    let e = run(&one("accept"), &boris, None).unwrap_err();
    assert!(
        matches!(&e, MacroError::Refused { why: Rejection::NotAssignee(a), .. } if a == "boris"),
        "{e:?}"
    );
    // A forward with no department anywhere says what to do.
    let mut bare = r.clone();
    bare.department = None;
    let e = run(&one("forward"), &bare, None).unwrap_err();
    assert!(
        e.describe(Lang::Ru)
            .contains("задайте тему или департамент"),
        "{e:?}"
    );
}

#[test]
fn the_answer_macro_needs_a_recorded_answer_and_sends_it() {
    let r = request();
    assert_eq!(
        run(&one("answer"), &r, None).unwrap_err(),
        MacroError::NoAnswer
    );
    let detail = Detail {
        citizen_requests: vec![],
        duplicates: vec![],
        merged: vec![],
        suggestion: None,
        same_case_as: None,
        incident: None,
        members: vec![],
        member_requests: vec![],
        request: r.clone(),
        messages: vec![],
        notes: vec![Note {
            id: Uuid::from_u128(20),
            request_id: r.id,
            kind: NoteKind::DepartmentAnswer,
            author: "anna".into(),
            body: "Яму засыплют до пятницы.".into(),
            at: t0(),
        }],
        events: vec![],
        parent_number: None,
    };
    let plan = run(&one("answer"), &r, Some(&detail)).unwrap();
    assert!(
        plan.reply
            .unwrap()
            .text()
            .contains("Яму засыплют до пятницы."),
    );
}

#[test]
fn a_macro_that_names_what_is_not_there_is_invalid_before_any_step() {
    let m = Macro {
        reply: Some("nope".into()),
        ..own("x")
    };
    let e = run(&m, &request(), None).unwrap_err();
    assert!(
        matches!(&e, MacroError::Invalid(s) if s.contains("`x`") && s.contains("nope")),
        "{e:?}"
    );
}

#[test]
fn config_checks_name_the_macro_and_what_is_wrong() {
    let (c, t) = (catalog(), crate::templates::replies());
    let check = |m: Macro| check_own(&[m], &c, &t).unwrap_err();
    let cases: Vec<(Macro, &[&str])> = vec![
        (
            Macro {
                reply: Some("nope".into()),
                ..own("a")
            },
            &["`a`", "nope", "mcu templates"],
        ),
        (
            Macro {
                topic: Some("potholes".into()),
                ..own("b")
            },
            &["`b`", "potholes", "topic"],
        ),
        (
            Macro {
                department: Some("zoo".into()),
                ..own("c")
            },
            &["`c`", "zoo", "department"],
        ),
        (
            Macro {
                close: Some("fixed".into()),
                ..own("d")
            },
            &["`d`", "fixed", "resolved"],
        ),
        (
            Macro {
                close: Some("duplicate".into()),
                ..own("e")
            },
            &["`e`", "duplicate", "mcu link"],
        ),
        (
            Macro {
                priority: Some("asap".into()),
                ..own("f")
            },
            &["`f`", "asap"],
        ),
        (own("g"), &["`g`", "does nothing"]),
        (
            Macro {
                note: Some("x".into()),
                close: Some("spam".into()),
                ..own("h")
            },
            &["`h`", "forward = true"],
        ),
        (
            Macro {
                title: " ".into(),
                close: Some("spam".into()),
                ..own("i")
            },
            &["`i`", "title"],
        ),
    ];
    for (m, needles) in cases {
        let id = m.id.clone();
        let e = check(m);
        for n in needles {
            assert!(e.contains(n), "{id}: `{n}` in {e}");
        }
    }
    let twice = Macro {
        close: Some("spam".into()),
        ..own("z")
    };
    let e = check_own(&[twice.clone(), twice], &c, &t).unwrap_err();
    assert!(e.contains("`z`") && e.contains("twice"), "{e}");
}

#[test]
fn describe_says_each_step_in_words() {
    let steps = one("decline").describe(&catalog(), Lang::Ru);
    assert_eq!(
        steps,
        [
            "тема «Вне компетенции»",
            "ответ заявителю ::out",
            "закрыть: вне компетенции"
        ]
    );
    let steps = one("gas").describe(&catalog(), Lang::En);
    assert_eq!(
        steps,
        [
            "topic «Utilities»",
            "priority: urgent",
            "reply ::gas",
            "close: resolved"
        ]
    );
}
