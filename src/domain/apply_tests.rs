//! Rules of `apply`, one behaviour a test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::catalog::Catalog;
use super::mutation::*;
use super::request::{
    Channel, DeliveryState, Direction, NoteKind, Priority, Request, RequestNumber,
};
use super::sla::ClockState;
use super::status::{CloseReason, Status};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

struct World {
    catalog: Catalog,
    policy: ClockPolicy,
    now: DateTime<Utc>,
}

impl World {
    fn new() -> World {
        World {
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
            now: t0(),
        }
    }

    fn run(&self, cur: Option<&Request>, actor: &str, op: Op) -> Result<Outcome, Rejection> {
        let id = cur.map(|r| r.id).unwrap_or_else(Uuid::now_v7);
        let m = Mutation::new(id, actor, self.now, op);
        let ctx = Ctx {
            catalog: &self.catalog,
            policy: &self.policy,
            now: self.now,
            new_number: Some(RequestNumber::new(2026, 7)),
        };
        apply(cur, &m, &ctx)
    }

    fn ok(&self, cur: &Request, actor: &str, op: Op) -> Request {
        self.run(Some(cur), actor, op)
            .expect("mutation applies")
            .request
    }

    /// An operator's reply the channel then delivered.
    fn replied(&self, cur: &Request, body: &str) -> Request {
        let message_id = Uuid::now_v7();
        let r = self.ok(
            cur,
            "anna",
            Op::Reply {
                message_id,
                body: body.into(),
            },
        );
        self.delivered(&r, message_id, DeliveryState::Sent)
    }

    /// The channel's last word on a message, as the gateway records it.
    fn delivered(&self, cur: &Request, message_id: Uuid, state: DeliveryState) -> Request {
        self.ok(cur, "telegram", Op::Delivery { message_id, state })
    }

    /// A request made of `new` by the gateway.
    fn made(&self, new: NewRequest) -> Request {
        self.run(None, "gateway", Op::Create(Box::new(new)))
            .unwrap()
            .request
    }

    fn created(&self, topic: Option<&str>) -> Request {
        self.run(None, "gateway", Op::Create(Box::new(new_request(topic))))
            .unwrap()
            .request
    }
}

fn new_request(topic: Option<&str>) -> NewRequest {
    NewRequest {
        channel: Channel::Telegram,
        external_id: Some("tg:1:5".into()),
        channel_ref: super::request::ChannelRef {
            chat: Some("5".into()),
            message: Some("1".into()),
        },
        citizen: Some("Ольга".into()),
        phone: None,
        text: "  Яма на дороге у дома 5  ".into(),
        attachments: vec![],
        location: None,
        received_at: t0(),
        topic: topic.map(str::to_string),
        department: None,
        priority: Priority::Normal,
        status: None,
        close_reason: None,
        closed_at: None,
        first_response_at: None,
        incident: false,
    }
}

#[test]
fn create_sets_number_clocks_and_default_department() {
    let w = World::new();
    let out = w
        .run(
            None,
            "gateway",
            Op::Create(Box::new(new_request(Some("roads")))),
        )
        .unwrap();
    let r = &out.request;
    assert_eq!(r.number.to_string(), "2026-000007");
    assert_eq!(r.text, "Яма на дороге у дома 5");
    assert_eq!(r.status, Status::New);
    assert_eq!(r.department.as_deref(), Some("transport_roads"));
    assert_eq!(r.first_response.due, t0() + Duration::hours(4));
    assert_eq!(r.first_response.at_risk_at, t0() + Duration::hours(3));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].field, "created");
}

#[test]
fn create_rejects_unknown_topic_and_empty_text() {
    let w = World::new();
    let e = w
        .run(None, "x", Op::Create(Box::new(new_request(Some("ufo")))))
        .unwrap_err();
    assert_eq!(e, Rejection::UnknownTopic("ufo".into()));
    assert_eq!(e.code(), "unknown_topic");
    let mut n = new_request(None);
    n.text = "   ".into();
    assert_eq!(
        w.run(None, "x", Op::Create(Box::new(n))).unwrap_err(),
        Rejection::Empty("text")
    );
}

#[test]
fn create_twice_is_refused_and_mutating_nothing_is_not_found() {
    let w = World::new();
    let r = w.created(None);
    let again = w.run(Some(&r), "x", Op::Create(Box::new(new_request(None))));
    assert_eq!(again.unwrap_err(), Rejection::AlreadyExists);
    assert_eq!(
        w.run(None, "x", Op::Claim).unwrap_err(),
        Rejection::NotFound
    );
}

#[test]
fn claim_is_exclusive_and_idempotent_for_the_owner() {
    let w = World::new();
    let r = w.created(None);
    let r = w.ok(&r, "anna", Op::Claim);
    assert_eq!(r.assignee.as_deref(), Some("anna"));
    assert_eq!(r.status, Status::InWork);
    let again = w.run(Some(&r), "anna", Op::Claim).unwrap();
    assert!(
        again.events.is_empty(),
        "re-claim by the owner changes nothing"
    );
    assert_eq!(
        w.run(Some(&r), "boris", Op::Claim).unwrap_err(),
        Rejection::AlreadyClaimed("anna".into())
    );
    assert_eq!(
        w.run(Some(&r), "boris", Op::Release).unwrap_err(),
        Rejection::NotAssignee("anna".into())
    );
    let r = w.ok(&r, "anna", Op::Release);
    assert_eq!(r.assignee, None);
}

#[test]
fn department_follows_topic_unless_told_otherwise() {
    let w = World::new();
    let r = w.created(None);
    let r = w.ok(
        &r,
        "anna",
        Op::SetTopic {
            topic: Some("animals".into()),
            department_follows: true,
        },
    );
    assert_eq!(r.department.as_deref(), Some("veterinary"));
    let r = w.ok(
        &r,
        "anna",
        Op::SetTopic {
            topic: Some("roads".into()),
            department_follows: false,
        },
    );
    assert_eq!(r.topic.as_deref(), Some("roads"));
    assert_eq!(r.department.as_deref(), Some("veterinary"));
    let e = w.run(
        Some(&r),
        "anna",
        Op::SetDepartment {
            department: Some("nasa".into()),
        },
    );
    assert_eq!(e.unwrap_err().code(), "unknown_department");
}

#[test]
fn every_change_is_audited_with_old_and_new() {
    let w = World::new();
    let r = w.created(Some("roads"));
    let out = w
        .run(
            Some(&r),
            "anna",
            Op::SetPriority {
                priority: Priority::Urgent,
            },
        )
        .unwrap();
    let e = &out.events[0];
    assert_eq!(
        (e.field.as_str(), e.old.as_deref(), e.new.as_deref()),
        ("priority", Some("normal"), Some("urgent"))
    );
    assert_eq!(e.actor, "anna");
    assert_eq!(e.at, w.now);
}

#[test]
fn tags_are_normalized_sets() {
    let w = World::new();
    let r = w.created(None);
    let r = w.ok(
        &r,
        "anna",
        Op::Tag {
            tag: " Авария ".into(),
        },
    );
    let out = w
        .run(
            Some(&r),
            "anna",
            Op::Tag {
                tag: "авария".into(),
            },
        )
        .unwrap();
    assert!(out.events.is_empty());
    assert_eq!(r.tags.iter().collect::<Vec<_>>(), vec!["авария"]);
    assert_eq!(
        w.run(Some(&r), "anna", Op::Tag { tag: "a b".into() })
            .unwrap_err()
            .code(),
        "invalid"
    );
    let r = w.ok(
        &r,
        "anna",
        Op::Untag {
            tag: "АВАРИЯ".into(),
        },
    );
    assert!(r.tags.is_empty());
}

#[test]
fn forward_waits_for_department_and_starts_its_clock() {
    let w = World::new();
    let r = w.created(Some("animals"));
    let out = w
        .run(
            Some(&r),
            "anna",
            Op::Forward {
                department: None,
                note_id: Uuid::now_v7(),
                note: Some("срочно".into()),
            },
        )
        .unwrap();
    let r = out.request;
    assert_eq!(r.status, Status::WaitingDepartment);
    assert_eq!(
        r.assignee.as_deref(),
        Some("anna"),
        "forwarding claims an unclaimed request"
    );
    // The veterinary service answers within 8 h in the shipped catalog.
    assert_eq!(
        r.department_clock.as_ref().unwrap().due,
        t0() + Duration::hours(8)
    );
    assert_eq!(out.notes[0].kind, NoteKind::Forward);
    assert_eq!(out.notes[0].body, "срочно");
    let r = w.ok(
        &r,
        "anna",
        Op::DepartmentAnswer {
            note_id: Uuid::now_v7(),
            body: "Выехали".into(),
            attachments: vec![],
        },
    );
    assert_eq!(r.status, Status::InWork);
    assert!(r.department_clock.unwrap().stopped.is_some());
}

#[test]
fn forward_without_any_department_is_refused() {
    let w = World::new();
    let r = w.created(None);
    let e = w.run(
        Some(&r),
        "anna",
        Op::Forward {
            department: None,
            note_id: Uuid::now_v7(),
            note: None,
        },
    );
    assert_eq!(e.unwrap_err(), Rejection::NoDepartment);
}

#[test]
fn interim_reply_counts_as_first_response_and_keeps_waiting() {
    let mut w = World::new();
    let r = w.created(Some("roads"));
    let r = w.ok(
        &r,
        "anna",
        Op::Forward {
            department: None,
            note_id: Uuid::now_v7(),
            note: None,
        },
    );
    w.now = t0() + Duration::hours(5);
    let message_id = Uuid::now_v7();
    let out = w
        .run(
            Some(&r),
            "anna",
            Op::Reply {
                message_id,
                body: "Передали в департамент".into(),
            },
        )
        .unwrap();
    let r = w.delivered(&out.request, message_id, DeliveryState::Sent);
    assert_eq!(r.status, Status::WaitingDepartment);
    assert_eq!(r.first_response_at(), Some(w.now));
    assert_eq!(
        r.first_response.state(w.now),
        ClockState::Breached,
        "answered after 5 h of 4"
    );
    assert_eq!(out.messages[0].direction, Direction::Out);
    assert_eq!(out.messages[0].delivery, Some(DeliveryState::Queued));
}

#[test]
fn reply_to_someone_elses_request_is_refused() {
    let w = World::new();
    let r = w.created(None);
    let r = w.ok(&r, "anna", Op::Claim);
    let e = w.run(
        Some(&r),
        "boris",
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Ок".into(),
        },
    );
    assert_eq!(e.unwrap_err(), Rejection::NotAssignee("anna".into()));
}

#[test]
fn close_and_reopen() {
    let mut w = World::new();
    let r = w.created(None);
    let r = w.ok(
        &r,
        "anna",
        Op::Close {
            reason: CloseReason::Spam,
        },
    );
    assert_eq!(r.status, Status::Closed);
    assert_eq!(r.close_reason, Some(CloseReason::Spam));
    assert_eq!(r.active_clock(), None);
    let e = w
        .run(
            Some(&r),
            "anna",
            Op::Close {
                reason: CloseReason::Resolved,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    assert_eq!(e.to_string(), "cannot close a request that is closed");
    w.now = t0() + Duration::days(3);
    let r = w.ok(&r, "anna", Op::Reopen);
    assert_eq!(r.status, Status::InWork);
    assert_eq!(r.close_reason, None);
    assert_eq!(r.resolution.started, w.now);
}

#[test]
fn citizen_writing_to_a_closed_request_reopens_it() {
    let w = World::new();
    let r = w.created(None);
    let r = w.ok(
        &r,
        "anna",
        Op::Close {
            reason: CloseReason::Resolved,
        },
    );
    let out = w
        .run(
            Some(&r),
            "gateway",
            Op::CitizenMessage {
                message_id: Uuid::now_v7(),
                body: "Опять течёт".into(),
                at: t0(),
                attachments: vec![],
                location: None,
                from: None,
            },
        )
        .unwrap();
    assert_eq!(out.request.status, Status::InWork);
    assert_eq!(out.messages[0].direction, Direction::In);
    assert_eq!(out.messages[0].author, "Ольга");
}

#[test]
fn duplicate_link_closes_and_refuses_self() {
    let w = World::new();
    let r = w.created(None);
    let parent = Uuid::now_v7();
    let r2 = w.ok(&r, "anna", Op::LinkDuplicate { parent_id: parent });
    assert_eq!(r2.parent_id, Some(parent));
    assert_eq!(r2.close_reason, Some(CloseReason::Duplicate));
    assert_eq!(
        w.run(Some(&r), "anna", Op::LinkDuplicate { parent_id: r.id })
            .unwrap_err(),
        Rejection::SelfLink
    );
}

#[test]
fn forwarding_unanswered_keeps_the_citizens_clock_running() {
    let w = World::new();
    let r = w.created(Some("roads"));
    let r = w.ok(
        &r,
        "anna",
        Op::Forward {
            department: None,
            note_id: Uuid::now_v7(),
            note: None,
        },
    );
    let (kind, clock) = r.active_clock().unwrap();
    assert_eq!(kind, super::request::ClockKind::FirstResponse);
    assert_eq!(clock.due, r.first_response.due);
    assert!(r.department_clock.as_ref().unwrap().due > clock.due);
    // Four hours on, unanswered: breached though the department still has time.
    assert_eq!(
        r.clock_state(t0() + Duration::hours(4)),
        Some(ClockState::Breached)
    );
}

#[test]
fn active_clock_follows_the_work() {
    let w = World::new();
    let r = w.created(Some("roads"));
    assert_eq!(
        r.active_clock().unwrap().0,
        super::request::ClockKind::FirstResponse
    );
    let r = w.ok(
        &r,
        "anna",
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Принято".into(),
        },
    );
    // Not the citizen's yet: the first response runs until the channel has it.
    assert_eq!(
        r.active_clock().unwrap().0,
        super::request::ClockKind::FirstResponse
    );
    let r = w.replied(&r, "Принято");
    assert_eq!(
        r.active_clock().unwrap().0,
        super::request::ClockKind::Resolution
    );
    let r = w.ok(
        &r,
        "anna",
        Op::Forward {
            department: None,
            note_id: Uuid::now_v7(),
            note: None,
        },
    );
    assert_eq!(
        r.active_clock().unwrap().0,
        super::request::ClockKind::Department
    );
}

#[test]
fn imported_history_is_kept() {
    let w = World::new();
    let mut n = new_request(Some("waste"));
    n.status = Some(Status::Closed);
    n.closed_at = Some(t0() + Duration::hours(20));
    n.first_response_at = Some(t0() + Duration::hours(2));
    let r = w
        .run(None, "import", Op::Create(Box::new(n)))
        .unwrap()
        .request;
    assert_eq!(r.close_reason, Some(CloseReason::Resolved));
    assert_eq!(
        r.first_response.state(t0() + Duration::days(9)),
        ClockState::Ok
    );
    let mut n = new_request(None);
    n.closed_at = Some(t0());
    assert_eq!(
        w.run(None, "import", Op::Create(Box::new(n)))
            .unwrap_err()
            .code(),
        "invalid"
    );
    // History from the future is refused where it enters (#16 item 1).
    let mut n = new_request(Some("waste"));
    n.status = Some(Status::Closed);
    n.closed_at = Some(t0() + Duration::days(30));
    assert_eq!(
        w.run(None, "import", Op::Create(Box::new(n)))
            .unwrap_err()
            .code(),
        "out_of_range"
    );
}

#[test]
fn mutation_json_shape_is_stable() {
    let m = Mutation {
        id: Uuid::nil(),
        request_id: Uuid::nil(),
        actor: "anna".into(),
        at: t0(),
        op: Op::Close {
            reason: CloseReason::OutOfScope,
        },
    };
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["name"], "close");
    assert_eq!(json["args"]["reason"], "out_of_scope");
    let back: Mutation = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn a_channel_target_applies_unless_the_topic_has_its_own() {
    let mut w = World::new();
    w.policy
        .channel_first_response
        .insert(Channel::Telegram, Duration::hours(2));
    let plain = w.created(None);
    assert_eq!(plain.first_response.due, t0() + Duration::hours(2));
    w.catalog.topics[0].response_hours = Some(1.0);
    let topic = w.catalog.topics[0].id.clone();
    let own = w.created(Some(&topic));
    assert_eq!(own.first_response.due, t0() + Duration::hours(1));
    // Another channel keeps the general target.
    let mut phone = new_request(None);
    phone.channel = Channel::Phone;
    let other = w
        .run(None, "anna", Op::Create(Box::new(phone)))
        .unwrap()
        .request;
    assert_eq!(other.first_response.due, t0() + Duration::hours(4));
}

#[test]
fn the_resolution_clock_waits_while_the_department_has_the_request() {
    let mut w = World::new();
    let r = w.created(Some("animals"));
    let due = r.resolution.due;
    w.now = t0() + Duration::hours(1);
    let sent = w.ok(
        &r,
        "anna",
        Op::Forward {
            department: None,
            note_id: Uuid::now_v7(),
            note: None,
        },
    );
    assert_eq!(sent.resolution.paused, Some(w.now));
    // Ten hours with the department: the center's clock does not run.
    w.now = t0() + Duration::hours(11);
    let back = w.ok(
        &sent,
        "anna",
        Op::DepartmentAnswer {
            note_id: Uuid::now_v7(),
            body: "Отловлена".into(),
            attachments: vec![],
        },
    );
    assert_eq!(back.resolution.paused, None);
    assert_eq!(back.resolution.due, due + Duration::hours(10));

    // A center that wants its clock to run anyway says so.
    w.policy.pause_resolution_while_waiting = false;
    let r = w.created(Some("animals"));
    let sent = w.ok(
        &r,
        "anna",
        Op::Forward {
            department: None,
            note_id: Uuid::now_v7(),
            note: None,
        },
    );
    assert_eq!(sent.resolution.paused, None);
}

#[test]
fn a_reply_goes_to_the_gateway_only_on_channels_it_sends_through() {
    let w = World::new();
    for (channel, want) in [
        (Channel::Telegram, DeliveryState::Queued),
        (Channel::Vk, DeliveryState::Queued),
        (Channel::Pos, DeliveryState::Queued),
        // A portal that filed it through our Open311 endpoint reads the reply there.
        (Channel::Open311, DeliveryState::Recorded),
        (Channel::Phone, DeliveryState::Recorded),
    ] {
        let new = NewRequest {
            channel,
            ..new_request(None)
        };
        let r = w.made(new);
        let out = w
            .run(
                Some(&r),
                "anna",
                Op::Reply {
                    message_id: Uuid::now_v7(),
                    body: "Ответ".into(),
                },
            )
            .unwrap();
        assert_eq!(out.messages[0].delivery, Some(want), "{channel:?}");
    }
}

#[test]
fn an_acknowledgement_names_the_number_of_the_copy_it_is_applied_to() {
    let w = World::new();
    let r = w.created(None);
    let out = w
        .run(
            Some(&r),
            "telegram",
            Op::Acknowledge {
                message_id: Uuid::now_v7(),
                body: format!("Обращение №{ACK_NUMBER} принято"),
            },
        )
        .unwrap();
    assert_eq!(out.messages[0].body, "Обращение №2026-000007 принято");
    // The server's copy of the same request carries its own number: the text follows it.
    let mut on_server = r.clone();
    on_server.number = RequestNumber::new(2026, 41);
    let out = w
        .run(
            Some(&on_server),
            "telegram",
            Op::Acknowledge {
                message_id: Uuid::now_v7(),
                body: format!("Обращение №{ACK_NUMBER} принято"),
            },
        )
        .unwrap();
    assert_eq!(out.messages[0].body, "Обращение №2026-000041 принято");
    assert_eq!(out.request.first_response.stopped, None);
}

/// Issue #15 item 3: a reply counts for the clock when the citizen has it.
#[test]
fn a_reply_counts_for_the_clock_when_the_channel_has_it() {
    let mut w = World::new();
    let r = w.created(None);
    let message_id = Uuid::now_v7();
    w.now = t0() + Duration::hours(1);
    let r = w.ok(
        &r,
        "anna",
        Op::Reply {
            message_id,
            body: "Принято".into(),
        },
    );
    assert_eq!(r.status, Status::Answered);
    assert_eq!(r.first_response_at(), None, "not delivered yet");
    assert!(!r.undelivered());
    assert_eq!(r.reply.as_ref().unwrap().state, DeliveryState::Queued);
    w.now = t0() + Duration::hours(1) + Duration::seconds(2);
    let out = w
        .run(
            Some(&r),
            "telegram",
            Op::Delivery {
                message_id,
                state: DeliveryState::Sent,
            },
        )
        .unwrap();
    assert_eq!(out.request.first_response_at(), Some(w.now));
    assert_eq!(out.request.reply, None);
    assert_eq!(out.events[0].field, "delivery");
}

#[test]
fn a_reply_the_citizen_never_got_keeps_the_clock_running_and_waits_for_an_operator() {
    let mut w = World::new();
    let r = w.created(None);
    let message_id = Uuid::now_v7();
    let r = w.ok(
        &r,
        "anna",
        Op::Reply {
            message_id,
            body: "Принято".into(),
        },
    );
    let r = w.delivered(&r, message_id, DeliveryState::Failed);
    assert!(r.undelivered());
    assert_eq!(r.first_response_at(), None);
    assert_eq!(
        r.clock_state(t0() + Duration::hours(4)),
        Some(ClockState::Breached),
        "the 4 hours run on"
    );
    // A delivery word about another message (the acknowledgement) changes nothing.
    let same = w
        .run(
            Some(&r),
            "telegram",
            Op::Delivery {
                message_id: Uuid::now_v7(),
                state: DeliveryState::Sent,
            },
        )
        .unwrap();
    assert_eq!(same.request.reply, r.reply);
    assert!(same.events.is_empty());

    // A phone call settles it and answers the citizen.
    w.now = t0() + Duration::hours(2);
    let out = w
        .run(
            Some(&r),
            "anna",
            Op::SettleReply {
                how: Settle::Phoned {
                    message_id: Uuid::now_v7(),
                    body: "Сообщили по телефону: бригада выехала".into(),
                },
            },
        )
        .unwrap();
    assert!(!out.request.undelivered());
    assert_eq!(out.request.first_response_at(), Some(w.now));
    assert_eq!(out.messages[0].delivery, Some(DeliveryState::Recorded));
    // Nothing left to settle.
    assert!(matches!(
        w.run(
            Some(&out.request),
            "anna",
            Op::SettleReply {
                how: Settle::Unreachable
            }
        ),
        Err(Rejection::NoUndeliveredReply)
    ));
}

#[test]
fn an_unreachable_citizen_stops_the_clock_and_a_new_reply_supersedes_an_undelivered_one() {
    let w = World::new();
    let r = w.created(None);
    let first = Uuid::now_v7();
    let r = w.ok(
        &r,
        "anna",
        Op::Reply {
            message_id: first,
            body: "Принято".into(),
        },
    );
    let r = w.delivered(&r, first, DeliveryState::Unknown);
    assert!(r.undelivered());
    // Sent again: the new reply is the one that counts.
    let again = Uuid::now_v7();
    let retried = w.ok(
        &r,
        "anna",
        Op::Reply {
            message_id: again,
            body: "Принято".into(),
        },
    );
    assert!(!retried.undelivered());
    assert_eq!(retried.reply.as_ref().unwrap().message_id, again);

    let out = w
        .run(
            Some(&r),
            "anna",
            Op::SettleReply {
                how: Settle::Unreachable,
            },
        )
        .unwrap();
    assert!(!out.request.undelivered());
    assert_eq!(out.request.first_response_at(), Some(w.now));
    assert!(out.messages.is_empty());
    assert!(
        out.events
            .iter()
            .any(|e| e.new.as_deref() == Some("unreachable"))
    );
}

#[test]
fn a_reply_to_a_request_with_no_chat_fails_at_once() {
    let w = World::new();
    let new = NewRequest {
        channel_ref: Default::default(),
        ..new_request(None)
    };
    let r = w.made(new);
    let out = w
        .run(
            Some(&r),
            "anna",
            Op::Reply {
                message_id: Uuid::now_v7(),
                body: "Ответ".into(),
            },
        )
        .unwrap();
    assert!(out.request.undelivered());
    assert_eq!(out.messages[0].delivery, Some(DeliveryState::Failed));
}

/// Issue #15 item 9: a place sent on its own reads as one in the thread, not as «(файл)».
#[test]
fn a_location_sent_alone_says_so_in_the_thread() {
    let w = World::new();
    let r = w.created(None);
    let out = w
        .run(
            Some(&r),
            "telegram",
            Op::CitizenMessage {
                message_id: Uuid::now_v7(),
                body: String::new(),
                at: t0(),
                attachments: vec![],
                location: Some(super::request::Location {
                    lat: Some(45.03),
                    lon: Some(38.97),
                    address: None,
                }),
                from: None,
            },
        )
        .unwrap();
    assert_eq!(out.messages[0].body, super::intake::LOCATION_ONLY);
    let place = out.events.iter().find(|e| e.field == "location").unwrap();
    assert_eq!(place.new.as_deref(), Some("45.030000, 38.970000"));
}

#[test]
fn an_incident_is_a_request_of_its_own_kind_with_a_title() {
    let w = World::new();
    let mut new = NewRequest::new(Channel::Manual, "  Прорыв трубы на Красной, 122 ", t0());
    new.incident = true;
    let inc = w.made(new);
    assert!(inc.is_incident);
    assert_eq!(inc.text, "Прорыв трубы на Красной, 122");
    let renamed = w.ok(
        &inc,
        "lena",
        Op::Retitle {
            title: "Прорыв водовода, ул. Красная, 122".into(),
        },
    );
    assert_eq!(renamed.text, "Прорыв водовода, ул. Красная, 122");
    let out = w
        .run(Some(&inc), "lena", Op::Retitle { title: " ".into() })
        .unwrap_err();
    assert_eq!(out, Rejection::Empty("title"));
    // A citizen's words are theirs: only an incident has a title to change.
    let plain = w.created(None);
    let refused = w
        .run(Some(&plain), "lena", Op::Retitle { title: "x".into() })
        .unwrap_err();
    assert_eq!(refused.code(), "invalid");
}

#[test]
fn joining_moving_and_leaving_an_incident_are_audited_once() {
    let w = World::new();
    let r = w.created(None);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let out = w
        .run(Some(&r), "anna", Op::JoinIncident { incident_id: a })
        .unwrap();
    assert_eq!(out.request.incident_id, Some(a));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].field, "incident");
    let joined = out.request;
    // The same join again changes nothing: a retried push or two operators agreeing.
    let again = w
        .run(Some(&joined), "boris", Op::JoinIncident { incident_id: a })
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(again.request.updated_at, joined.updated_at);
    // Joining another incident moves it (a merge), with the old one on record.
    let moved = w
        .run(Some(&joined), "anna", Op::JoinIncident { incident_id: b })
        .unwrap();
    assert_eq!(moved.request.incident_id, Some(b));
    assert_eq!(moved.events[0].old, Some(a.to_string()));
    let left = w.ok(&moved.request, "anna", Op::LeaveIncident);
    assert_eq!(left.incident_id, None);
    assert!(
        w.run(Some(&left), "anna", Op::LeaveIncident)
            .unwrap()
            .events
            .is_empty()
    );
    // A request cannot be its own incident, and an incident is never a member.
    assert_eq!(
        w.run(Some(&r), "anna", Op::JoinIncident { incident_id: r.id })
            .unwrap_err(),
        Rejection::SelfLink
    );
    let mut new = NewRequest::new(Channel::Manual, "Прорыв", t0());
    new.incident = true;
    let inc = w.made(new);
    assert_eq!(
        w.run(Some(&inc), "anna", Op::JoinIncident { incident_id: a })
            .unwrap_err()
            .code(),
        "invalid"
    );
}

#[test]
fn a_dismissed_group_marks_its_members_once() {
    let w = World::new();
    let r = w.created(None);
    let out = w.run(Some(&r), "lena", Op::Ungroup).unwrap();
    assert!(out.request.ungrouped);
    assert_eq!(out.events[0].field, "ungrouped");
    assert!(
        w.run(Some(&out.request), "lena", Op::Ungroup)
            .unwrap()
            .events
            .is_empty()
    );
    // The marks travel in the request's JSON (sync) and are absent where unset.
    let json = serde_json::to_value(&out.request).unwrap();
    assert_eq!(json["ungrouped"], true);
    assert!(json.get("is_incident").is_none() && json.get("incident_id").is_none());
}
