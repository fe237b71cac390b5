//! Every parser that takes outside input, fed generated input (#16): a Telegram update, a VK
//! event, the feedback platform's page, an Open311 form, an import line, the config, the
//! console's filter and the search query it becomes, and a sync push body. Each must answer —
//! a value or an error — and never panic; what parses goes on through `apply`, which must
//! refuse or take it, never panic either; and a search is never an SQL error.
//!
//! Property-based rather than coverage-guided: the toolchain here is stable, where
//! cargo-fuzz needs nightly. In the rig rather than in a test module so both runs share it:
//! the unit tests run a short one (`MCU_FUZZ_CASES`, default 64, per parser) and
//! `cargo bench --bench fuzz` the long one (20,000 per parser unless told otherwise).

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy, RequestNumber, apply};

/// A parser's name and its property, run for a number of cases.
pub type Target = (&'static str, fn(u32) -> Result<(), String>);

/// Every fuzzed parser.
pub const TARGETS: &[Target] = &[
    ("telegram_updates", telegram_updates),
    ("vk_events", vk_events),
    ("platform_pages", platform_pages),
    ("open311_forms", open311_forms),
    ("import_lines", import_lines),
    ("config_files", config_files),
    ("filters_and_searches", filters_and_searches),
    ("push_bodies", push_bodies),
];

/// Runs `test` on `cases` values of `strategy`; a failure (a panic included) comes back
/// shrunk to its smallest input.
fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> Result<(), String> {
    let mut runner = TestRunner::new(Config {
        cases,
        // Nothing written into the source tree; a failure prints its input instead.
        failure_persistence: None,
        ..Config::default()
    });
    runner.run(&strategy, test).map_err(|e| e.to_string())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

/// Field names the parsers look for, so generated objects reach past the first check.
const KEYS: &[&str] = &[
    "ok",
    "result",
    "update_id",
    "message",
    "edited_message",
    "message_id",
    "chat",
    "id",
    "from",
    "first_name",
    "username",
    "date",
    "edit_date",
    "text",
    "caption",
    "photo",
    "document",
    "file_id",
    "file_size",
    "location",
    "latitude",
    "longitude",
    "reply_to_message",
    "media_group_id",
    "type",
    "object",
    "peer_id",
    "from_id",
    "owner_id",
    "post_id",
    "attachments",
    "conversation_message_id",
    "service_request_id",
    "service_code",
    "description",
    "requested_datetime",
    "updated_datetime",
    "lat",
    "long",
    "lon",
    "address",
    "received_at",
    "channel",
    "citizen",
    "topic",
    "status",
    "name",
    "args",
    "op",
    "mutation",
    "mutations",
    "scope_id",
    "client_id",
    "schema_version",
    "body",
    "tag",
    "assignee",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}a-я0-9 :/#@-]{0,40}",
        Just("9999-12-31T23:59:59Z".to_string()),
        Just("2026-12-06T10:00:00Z".to_string()),
        Just("/status 2026-000001".to_string()),
        Just("\u{1b}]52;c;aGk=\u{7}\u{1b}[2J".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(1_700_000_000),
            Just(i64::MAX)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..7).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_string(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

/// Applies what a parser let through: refused or taken, never a panic.
fn through_apply(new: NewRequest) {
    let catalog = Catalog::krasnodar();
    let policy = ClockPolicy::default();
    let ctx = Ctx {
        catalog: &catalog,
        policy: &policy,
        now: now(),
        new_number: Some(RequestNumber { year: 2026, seq: 1 }),
    };
    let m = Mutation::new(uuid::Uuid::nil(), "anna", now(), Op::Create(Box::new(new)));
    let _ = apply(None, &m, &ctx);
}

fn telegram_updates(cases: u32) -> Result<(), String> {
    check(
        cases,
        (prop::collection::vec(json_value(), 0..6), ".{0,200}"),
        |(updates, raw)| {
            let body = json!({"ok": true, "result": updates}).to_string();
            if let Ok(batch) = crate::channels::telegram::parse::batch(&body) {
                for ev in &batch.events {
                    let _ = ev.inbound.bounded(now());
                }
            }
            let _ = crate::channels::telegram::parse::batch(&raw);
            Ok(())
        },
    )
}

fn vk_events(cases: u32) -> Result<(), String> {
    check(
        cases,
        (prop::collection::vec(json_value(), 0..6), any::<i64>()),
        |(updates, group)| {
            let (events, _) = crate::channels::vk::parse::updates(&updates, group);
            for ev in &events {
                let _ = ev.inbound.bounded(now());
            }
            Ok(())
        },
    )
}

fn platform_pages(cases: u32) -> Result<(), String> {
    check(
        cases,
        (json_value(), ".{0,200}", proptest::option::of(text())),
        |(page, raw, cursor)| {
            let _ = crate::channels::open311::parse::page(&page.to_string(), cursor.as_deref());
            let _ = crate::channels::open311::parse::page(&raw, cursor.as_deref());
            Ok(())
        },
    )
}

fn open311_forms(cases: u32) -> Result<(), String> {
    check(
        cases,
        (
            prop::collection::vec((prop::sample::select(KEYS), text()), 0..12),
            proptest::option::of(text()),
        ),
        |(params, key)| {
            let params: Vec<(String, String)> = params
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            let catalog = Catalog::krasnodar();
            if let Ok(sub) = crate::server::open311::submit::parse(
                &params,
                &catalog,
                "portal",
                key.as_deref(),
                now(),
            ) {
                through_apply(sub.new);
            }
            Ok(())
        },
    )
}

fn import_lines(cases: u32) -> Result<(), String> {
    check(
        cases,
        (
            prop::collection::vec(json_value(), 0..4),
            prop::collection::vec(any::<u8>(), 0..200),
        ),
        |(lines, raw)| {
            let text = lines
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            if let Ok(parsed) = crate::cli::import::parse(text.as_bytes(), crate::lang::Lang::Ru) {
                for (_, new) in parsed.requests {
                    through_apply(new);
                }
            }
            let _ = crate::cli::import::parse(&raw, crate::lang::Lang::En);
            Ok(())
        },
    )
}

fn config_files(cases: u32) -> Result<(), String> {
    check(cases, ("[\\[\\]a-z_.= \"0-9\\n-]{0,200}",), |(raw,)| {
        let _ = crate::config::Config::parse("fuzz.toml", &raw, &[]);
        Ok(())
    })
}

fn filters_and_searches(cases: u32) -> Result<(), String> {
    check(cases, (text(),), |(line,)| {
        let catalog = Catalog::krasnodar();
        let _ = crate::tui::filter::parse(&line, Default::default(), &catalog, "anna");
        // Whatever the words, the search expression is valid FTS5 on a real file's table.
        if let Some(expr) = crate::store::analyze::match_expression(&line) {
            let mut conn = rusqlite::Connection::open_in_memory().unwrap();
            crate::store::schema::migrate(&mut conn).unwrap();
            let found = conn
                .prepare("SELECT rowid FROM request_fts WHERE request_fts MATCH ?1")
                .and_then(|mut st| {
                    st.query_map([&expr], |r| r.get::<_, i64>(0))?
                        .collect::<rusqlite::Result<Vec<i64>>>()
                });
            prop_assert!(found.is_ok(), "`{line}` → `{expr}`: {found:?}");
        }
        Ok(())
    })
}

fn push_bodies(cases: u32) -> Result<(), String> {
    check(
        cases,
        (json_value(), prop::collection::vec(json_value(), 0..4)),
        |(body, ops)| {
            let _ = serde_json::from_str::<crate::wire::sync::PushRequest>(&body.to_string());
            let catalog = Catalog::krasnodar();
            let policy = ClockPolicy::default();
            let ctx = Ctx {
                catalog: &catalog,
                policy: &policy,
                now: now(),
                new_number: None,
            };
            let current = {
                let new = NewRequest::new(Channel::Phone, "Яма", now());
                let m = Mutation::new(uuid::Uuid::nil(), "anna", now(), Op::Create(Box::new(new)));
                let ctx = Ctx {
                    new_number: Some(RequestNumber { year: 2026, seq: 1 }),
                    ..ctx
                };
                apply(None, &m, &ctx).unwrap().request
            };
            for op in ops {
                let m = json!({"id": uuid::Uuid::nil(), "request_id": uuid::Uuid::nil(),
                       "actor": "anna", "at": "2026-12-06T12:00:00Z"});
                let mut m = m.as_object().cloned().unwrap_or_default();
                if let Value::Object(o) = op {
                    m.extend(o);
                }
                if let Ok(m) = serde_json::from_value::<Mutation>(Value::Object(m)) {
                    let _ = apply(Some(&current), &m, &ctx);
                }
            }
            Ok(())
        },
    )
}
