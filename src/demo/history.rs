//! What the demo's regular citizens wrote before it began: two requests each, closed weeks
//! ago, from the same Telegram chats the simulator then writes from again, so a new request
//! arrives with the citizen's earlier ones on its card (`i`). Closed longer ago than the
//! reopen window, so the citizen's new message is a new request, not a reopened one.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::corpus::Generator;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::ChannelRef;
use crate::domain::{Channel, CloseReason, Status};

/// The creations of `regulars`' (chat id, name) earlier requests, as of `now`.
pub fn earlier_requests(regulars: &[(i64, String)], now: DateTime<Utc>) -> Vec<Mutation> {
    let mut g = Generator::new(31);
    let mut out = vec![];
    for (chat, name) in regulars {
        for (k, days_ago) in [20, 12].into_iter().enumerate() {
            let s = g.next_request();
            let at = now - Duration::days(days_ago) - Duration::hours(k as i64 * 3);
            let new = NewRequest {
                external_id: Some(format!("history:{chat}:{k}")),
                channel_ref: ChannelRef {
                    chat: Some(chat.to_string()),
                    message: None,
                },
                citizen: Some(name.clone()),
                topic: Some(s.topic.to_string()),
                status: Some(Status::Closed),
                close_reason: Some(if s.topic == "out_of_scope" {
                    CloseReason::OutOfScope
                } else {
                    CloseReason::Resolved
                }),
                first_response_at: Some(at + Duration::hours(1)),
                closed_at: Some(at + Duration::days(2)),
                ..NewRequest::new(Channel::Telegram, s.text, at)
            };
            out.push(Mutation::new(
                Uuid::now_v7(),
                "history",
                now,
                Op::Create(Box::new(new)),
            ));
        }
    }
    out
}

/// A request left unanswered overnight: received five hours before `now` on `chat`, its
/// four-hour first answer already late, so the shift leads' chat hears of it at once.
pub fn overnight_request(chat: i64, now: DateTime<Utc>) -> Mutation {
    let at = now - Duration::hours(5);
    let new = NewRequest {
        external_id: Some(format!("history:{chat}:overnight")),
        channel_ref: ChannelRef {
            chat: Some(chat.to_string()),
            message: None,
        },
        citizen: Some("Пётр Лысенко".into()),
        ..NewRequest::new(
            Channel::Telegram,
            "Ночью во дворе дома 14 по ул. Школьной прорвало трубу, вода до сих пор стоит у подъездов",
            at,
        )
    };
    Mutation::new(Uuid::now_v7(), "history", now, Op::Create(Box::new(new)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Env, Store, test_intake};

    #[tokio::test]
    async fn a_regulars_new_request_shows_their_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let store = Store::open(
            &dir.path().join("a.sqlite3"),
            Env {
                catalog: crate::domain::Catalog::krasnodar(),
                policy: crate::domain::ClockPolicy::default(),
                journal: false,
                now: std::sync::Arc::new(Utc::now),
            },
        )
        .await
        .unwrap();
        let regulars = vec![(4242_i64, "Ольга Котова".to_string())];
        store
            .apply_batch(earlier_requests(&regulars, now))
            .await
            .map_err(|(_, e)| e)
            .unwrap();
        let epoch = test_intake::lease(&store).await;
        let number = test_intake::message(&store, epoch, ("4242", "1"), now, "Опять нет воды")
            .await
            .expect("a new request");
        let d = store.detail(&number).await.unwrap();
        assert_eq!(d.citizen_requests.len(), 2);
        assert!(d.citizen_requests.iter().all(|c| c.status == "closed"));
    }
}
