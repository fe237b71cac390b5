//! Search pages for a common word (more matches than are handed over whole, so the sort index
//! is walked): the same requests in the same order as reading every page without the search
//! and keeping those with the word, whatever the order rows were written in.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;
use uuid::Uuid;

use super::*;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::{Catalog, ClockPolicy, Status};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

/// Every page of `filter` in `sort`, 50 at a time, as (number, text).
fn all_pages(conn: &rusqlite::Connection, filter: &Filter, sort: Sort) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut after = None;
    loop {
        let page = read::inbox(conn, filter, sort, after, 50, t0()).unwrap();
        out.extend(
            page.rows
                .iter()
                .map(|r| (r.number.to_string(), r.text.clone())),
        );
        match page.next {
            Some(c) => after = Some(c),
            None => return out,
        }
    }
}

#[test]
fn a_common_word_pages_as_reading_everything_and_keeping_its_matches() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.sqlite3")).unwrap();
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(t0),
    };
    let n: usize = 3_000;
    // Received times in a scrambled order, so the order rows were written in (rid) says
    // nothing about receipt; five in six mention the light, a few of them still open.
    let batch: Vec<Mutation> = (0..n)
        .map(|i| {
            let received = t0() - Duration::minutes((i * 7_919 % n) as i64 + 1);
            let text = if i % 6 == 0 {
                format!("Яма во дворе {i}")
            } else {
                format!("Нет света в подъезде {i}")
            };
            let new = NewRequest {
                status: Some(if i % 10 == 0 {
                    Status::New
                } else {
                    Status::Closed
                }),
                closed_at: (i % 10 != 0).then(|| received + Duration::minutes(5)),
                ..NewRequest::new(Channel::Vk, text, received)
            };
            Mutation::new(Uuid::now_v7(), "anna", received, Op::Create(Box::new(new)))
        })
        .collect();
    db::apply_batch(&mut conn, &env, &batch).unwrap();

    // What the search must give: every page without it, keeping the texts with the word.
    let with_light = |f: &Filter, sort| -> Vec<(String, String)> {
        let mut all = all_pages(&conn, f, sort);
        all.retain(|(_, text)| text.contains("света"));
        all
    };
    for (filter, sort) in [
        (Filter::default(), Sort::Received),
        (Filter::default(), Sort::TimeLeft),
        (
            Filter {
                open_only: true,
                ..Default::default()
            },
            Sort::TimeLeft,
        ),
    ] {
        let searched = all_pages(
            &conn,
            &Filter {
                text: Some("светом".into()),
                ..filter.clone()
            },
            sort,
        );
        let expected = with_light(&filter, sort);
        assert!(expected.len() >= 200, "{}", expected.len());
        assert_eq!(
            searched, expected,
            "{sort:?}, open only: {}",
            filter.open_only
        );
    }
    // Every request with the word, checked against the texts themselves.
    let total = all_pages(
        &conn,
        &Filter {
            text: Some("свет".into()),
            ..Default::default()
        },
        Sort::Received,
    );
    assert_eq!(total.len(), n - n.div_ceil(6));
}
