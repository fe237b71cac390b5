//! The intake rules, one behaviour a test: where a citizen's message goes and what the bot says.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::catalog::Catalog;
use super::intake::*;
use super::mutation::{ClockPolicy, Ctx, Mutation, NewRequest, Op, apply};
use super::request::{Channel, ChannelRef, Request, RequestNumber};
use super::status::Status;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 30, 0).unwrap()
}

fn rules() -> Rules {
    Rules {
        join_window: Duration::hours(24),
        closed_policy: ClosedPolicy::Reopen,
        reopen_window: Duration::days(7),
        acknowledge: true,
    }
}

fn words(text: &str) -> Message<'_> {
    Message {
        text,
        has_attachments: false,
    }
}

fn none() -> Candidates<u32> {
    Candidates {
        replied_to: None,
        album: None,
        latest: None,
    }
}

fn open_since(ago: Duration) -> Latest<u32> {
    Latest {
        key: 7,
        status: Status::InWork,
        updated_at: now() - ago,
        closed_at: None,
    }
}

fn closed_since(ago: Duration) -> Latest<u32> {
    Latest {
        key: 7,
        status: Status::Closed,
        updated_at: now() - ago,
        closed_at: Some(now() - ago),
    }
}

fn latest(l: Latest<u32>) -> Candidates<u32> {
    Candidates {
        latest: Some(l),
        ..none()
    }
}

fn new(text: &str) -> Placement<u32> {
    Placement::New {
        text: text.into(),
        acknowledge: true,
    }
}

#[test]
fn a_first_message_opens_a_request_and_is_acknowledged() {
    assert_eq!(
        place(words("Нет воды"), none(), &rules(), now()),
        new("Нет воды")
    );
}

#[test]
fn a_platform_that_acknowledges_itself_gets_no_acknowledgement() {
    let quiet = Rules {
        acknowledge: false,
        ..rules()
    };
    assert_eq!(
        place(words("Нет воды"), none(), &quiet, now()),
        Placement::New {
            text: "Нет воды".into(),
            acknowledge: false
        }
    );
}

#[test]
fn a_bare_location_opens_a_request_with_a_placeholder_text() {
    assert_eq!(
        place(words("  "), none(), &rules(), now()),
        new(LOCATION_ONLY)
    );
    // A photo without words is a request about the photo, not a location.
    let photo = Message {
        text: "",
        has_attachments: true,
    };
    assert_eq!(place(photo, none(), &rules(), now()), new(""));
}

#[test]
fn a_message_joins_the_chats_open_request_within_the_join_window() {
    let c = latest(open_since(Duration::hours(24)));
    assert_eq!(
        place(words("И света нет"), c, &rules(), now()),
        Placement::Join(7)
    );
}

#[test]
fn a_message_after_the_join_window_opens_a_new_request() {
    let c = latest(open_since(Duration::hours(24) + Duration::milliseconds(1)));
    assert_eq!(place(words("Снова"), c, &rules(), now()), new("Снова"));
}

#[test]
fn the_windows_count_whole_milliseconds_as_the_store_keeps_time() {
    // `now` carries a fraction of a millisecond the stored time lost: still inside.
    let at = now() + Duration::microseconds(600);
    let c = latest(open_since(Duration::hours(24)));
    assert_eq!(place(words("x"), c, &rules(), at), Placement::Join(7));
}

#[test]
fn a_recently_closed_request_reopens() {
    let c = latest(closed_since(Duration::days(7)));
    assert_eq!(
        place(words("Опять"), c, &rules(), now()),
        Placement::Reopen(7)
    );
}

#[test]
fn a_request_closed_long_ago_stays_closed() {
    let c = latest(closed_since(Duration::days(7) + Duration::seconds(1)));
    assert_eq!(place(words("Опять"), c, &rules(), now()), new("Опять"));
}

#[test]
fn the_new_request_policy_never_reopens() {
    let always_new = Rules {
        closed_policy: ClosedPolicy::New,
        ..rules()
    };
    let c = latest(closed_since(Duration::minutes(1)));
    assert_eq!(place(words("Опять"), c, &always_new, now()), new("Опять"));
}

#[test]
fn a_closed_request_without_a_closing_time_does_not_reopen() {
    let c = latest(Latest {
        closed_at: None,
        ..closed_since(Duration::minutes(1))
    });
    assert_eq!(place(words("Опять"), c, &rules(), now()), new("Опять"));
}

#[test]
fn a_reply_wins_over_the_album_and_the_latest_request() {
    let c = Candidates {
        replied_to: Some(1),
        album: Some(2),
        latest: Some(open_since(Duration::minutes(1))),
    };
    assert_eq!(
        place(words("Ответ"), c, &rules(), now()),
        Placement::Join(1)
    );
}

#[test]
fn an_album_keeps_together_even_past_the_windows() {
    let c = Candidates {
        album: Some(2),
        latest: Some(closed_since(Duration::days(30))),
        ..none()
    };
    assert_eq!(place(words(""), c, &rules(), now()), Placement::Join(2));
}

fn request_of(chat: &str) -> Request {
    let new = NewRequest {
        channel_ref: ChannelRef {
            chat: Some(chat.into()),
            message: Some("1".into()),
        },
        ..NewRequest::new(Channel::Telegram, "Нет воды", now())
    };
    let ctx = Ctx {
        catalog: &Catalog::krasnodar(),
        policy: &ClockPolicy::default(),
        now: now(),
        new_number: Some(RequestNumber::new(2026, 12)),
    };
    let m = Mutation::new(Uuid::now_v7(), "gateway", now(), Op::Create(Box::new(new)));
    apply(None, &m, &ctx).expect("creates").request
}

#[test]
fn the_acknowledgement_names_the_first_answers_due_time() {
    let r = request_of("42");
    assert_eq!(
        acknowledgement(&r),
        BotText::Acknowledge {
            due: r.first_response.due,
            public: false,
        }
    );
    assert!(r.first_response.due > now());
}

/// Issue #15 item 10: where nobody can reply to the bot, the acknowledgement does not ask to.
#[test]
fn a_wall_thread_or_the_platform_gets_the_public_acknowledgement() {
    let public = |channel: Channel, chat: &str| {
        let mut r = request_of(chat);
        r.channel = channel;
        matches!(
            acknowledgement(&r),
            BotText::Acknowledge { public: true, .. }
        )
    };
    assert!(!public(Channel::Telegram, "42"));
    assert!(!public(Channel::Vk, "2000000001"));
    assert!(public(Channel::Vk, "wall-77_12:555"));
    assert!(public(Channel::Pos, "8812"));
}

#[test]
fn start_is_greeted_and_other_commands_get_no_answer() {
    assert_eq!(
        answer(&Command::Start, None, Channel::Telegram, "42"),
        Some(BotText::Start)
    );
    assert_eq!(
        answer(
            &Command::Other("help".into()),
            None,
            Channel::Telegram,
            "42"
        ),
        None
    );
}

#[test]
fn the_citizen_who_wrote_a_request_learns_its_status() {
    let r = request_of("42");
    let asked = Command::Status("2026-000012".into());
    assert_eq!(asked.asked_number(), Some(RequestNumber::new(2026, 12)));
    assert_eq!(
        answer(&asked, Some(&r), Channel::Telegram, "42"),
        Some(BotText::Status {
            number: RequestNumber::new(2026, 12),
            status: r.status,
        })
    );
}

#[test]
fn another_chat_or_channel_is_told_the_request_is_not_found() {
    let r = request_of("42");
    let asked = Command::Status("2026-000012".into());
    let not_found = Some(BotText::NotFound {
        asked: "2026-000012".into(),
    });
    assert_eq!(answer(&asked, Some(&r), Channel::Telegram, "7"), not_found);
    assert_eq!(answer(&asked, Some(&r), Channel::Vk, "42"), not_found);
}

#[test]
fn a_number_that_is_not_one_is_not_found_as_typed() {
    let asked = Command::Status(" потоп ".into());
    assert_eq!(asked.asked_number(), None);
    assert_eq!(Command::Start.asked_number(), None);
    assert_eq!(
        answer(&asked, None, Channel::Telegram, "42"),
        Some(BotText::NotFound {
            asked: "потоп".into()
        })
    );
}
