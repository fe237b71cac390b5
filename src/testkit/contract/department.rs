//! Department accounts (#21) on both stores: a department pulls only what was forwarded to
//! it, without the citizen, and pushes only its answers, notes and returns on those.

use serde_json::Value;
use uuid::Uuid;

use super::{Client, Harness, lead, now};
use crate::domain::Channel;
use crate::domain::mutation::{NewRequest, Op};
use crate::server::engine::{DepartmentReach, Principal, Role, Transactional};
use crate::wire::sync::{Entity, PatchOp, Verdict};

fn department(name: &str, departments: &[&str], show_citizen: bool) -> Principal {
    Principal {
        user: name.into(),
        role: Role::Department,
        departments: Some(DepartmentReach {
            departments: departments.iter().map(|d| d.to_string()).collect(),
            show_citizen,
        }),
    }
}

/// A citizen's request with a name and phone, and one operators' note on it.
fn citizens_request<S: Transactional>(h: &Harness<S>, c: &mut Client, text: &str) -> Uuid {
    let id = Uuid::now_v7();
    let mut new = NewRequest::new(Channel::Phone, text, now());
    new.citizen = Some("Иван Петров".into());
    new.phone = Some("+79161234567".into());
    let m = c.journal(id, Op::Create(Box::new(new)), None);
    let note = c.journal(
        id,
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "Звонила заявителю, Иван просит перезвонить".into(),
        },
        None,
    );
    let r = h.push(c, vec![m, note]);
    assert!(
        r.results.iter().all(|x| x.status == Verdict::Applied),
        "{r:?}"
    );
    id
}

fn forward<S: Transactional>(h: &Harness<S>, c: &mut Client, id: Uuid, to: &str) {
    let m = c.journal(
        id,
        Op::Forward {
            department: Some(to.into()),
            note_id: Uuid::now_v7(),
            note: Some("Прошу проверить".into()),
        },
        None,
    );
    let r = h.push(c, vec![m]);
    assert_eq!(r.results[0].status, Verdict::Applied, "{r:?}");
}

/// Everything a pull from nothing brings the client: (entity, id, document) in order.
fn pulled<S: Transactional>(h: &Harness<S>, c: &Client) -> Vec<(Entity, String, Option<Value>)> {
    let mut cookie = None;
    let mut out = vec![];
    loop {
        let page = h.pull(c, cookie, Some(5));
        for op in page.patch {
            match op {
                PatchOp::Put { entity, id, value } => out.push((entity, id, Some(value.value()))),
                PatchOp::Del { entity, id } => out.push((entity, id, None)),
            }
        }
        cookie = Some(page.cookie);
        if !page.more {
            return out;
        }
    }
}

/// The documents of one kind a client ends up with, each once (a request changed again
/// after an earlier page comes again: the current document each time).
fn puts(all: &[(Entity, String, Option<Value>)], entity: Entity) -> Vec<&Value> {
    let mut by_id = std::collections::BTreeMap::new();
    for (e, id, v) in all {
        if *e == entity {
            by_id.insert(id, v.as_ref());
        }
    }
    by_id.into_values().flatten().collect()
}

pub fn department_accounts<S: Transactional>(h: &Harness<S>) {
    let mut lena = Client::new(lead("lena"));
    let ours = citizens_request(h, &mut lena, "Бродячие собаки у школы №5");
    let theirs = citizens_request(h, &mut lena, "Яма на Красной, 12");
    let untouched = citizens_request(h, &mut lena, "Не горит фонарь");
    forward(h, &mut lena, ours, "city_economy");
    forward(h, &mut lena, theirs, "transport_roads");
    let mut economy = Client::new(department("economy", &["city_economy"], false));

    // Its pull: only the request forwarded to it, without the citizen; no messages, no
    // audit lines, no operators' notes; the forward note, yes.
    let all = pulled(h, &economy);
    let requests = puts(&all, Entity::Request);
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0]["request"];
    assert_eq!(r["id"], ours.to_string());
    assert!(r["citizen"].is_null() && r["phone"].is_null(), "{r}");
    assert_eq!(r["text"], "Бродячие собаки у школы №5");
    assert!(puts(&all, Entity::Message).is_empty());
    assert!(puts(&all, Entity::Event).is_empty());
    let notes = puts(&all, Entity::Note);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["kind"], "forward");
    let text = serde_json::to_string(&all).unwrap_or_default();
    assert!(!text.contains("+7916") && !text.contains("Иван"), "{text}");
    assert!(
        !text.contains(&untouched.to_string()),
        "never forwarded: never named"
    );
    // Forwarded elsewhere: at most named as a deletion, never with its document.
    assert!(
        all.iter()
            .filter(|(_, id, _)| *id == theirs.to_string())
            .all(|(_, _, v)| v.is_none()),
        "{all:?}"
    );

    // Its push: an answer and a note on its request go through; anything an operator
    // does, or anything on a request not forwarded to it, is refused, and the refusal
    // carries no citizen either.
    // Files come with an answer only through the server's channels, which fetched them.
    let with_files = economy.journal(
        ours,
        Op::DepartmentAnswer {
            note_id: Uuid::now_v7(),
            body: "Фото с места".into(),
            attachments: vec![crate::domain::request::Attachment {
                kind: "photo".into(),
                name: None,
                size: None,
                source: Some("AgACAgIAAxkBAAI".into()),
                local_path: Some("/etc/passwd".into()),
                state: crate::domain::request::AttachmentState::Stored,
            }],
        },
        None,
    );
    let answer = economy.journal(
        ours,
        Op::DepartmentAnswer {
            note_id: Uuid::now_v7(),
            body: "Отлов назначен на завтра".into(),
            attachments: vec![],
        },
        None,
    );
    let reply = economy.journal(
        ours,
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Здравствуйте".into(),
        },
        None,
    );
    let elsewhere = economy.journal(
        theirs,
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "посмотрим".into(),
        },
        None,
    );
    let create = economy.journal(
        Uuid::now_v7(),
        Op::Create(Box::new(NewRequest::new(
            Channel::Phone,
            "Своя заявка",
            now(),
        ))),
        None,
    );
    let r = h.push(&economy, vec![with_files, answer, reply, elsewhere, create]);
    let verdicts: Vec<(Verdict, Option<&str>)> = r
        .results
        .iter()
        .map(|x| (x.status, x.code.as_deref()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (Verdict::Rejected, Some("forbidden")),
            (Verdict::Applied, None),
            (Verdict::Rejected, Some("forbidden")),
            (Verdict::Rejected, Some("forbidden")),
            (Verdict::Rejected, Some("forbidden")),
        ],
        "{r:?}"
    );
    assert!(r.results.iter().all(|x| x.current.is_none()), "{r:?}");
    let seen = h.request(&lena, ours);
    assert_eq!(seen["request"]["status"], "in_work", "the answer came back");

    // A request returned as not theirs leaves the department's pull (as a deletion).
    let mut transport = Client::new(department("roads", &["transport_roads"], false));
    let back = transport.journal(
        theirs,
        Op::Return {
            note_id: Uuid::now_v7(),
            reason: "Это не дорога, а двор".into(),
        },
        None,
    );
    let r = h.push(&transport, vec![back]);
    assert_eq!(r.results[0].status, Verdict::Applied, "{r:?}");
    let after = pulled(h, &transport);
    assert!(puts(&after, Entity::Request).is_empty(), "{after:?}");
    assert!(
        after
            .iter()
            .any(|(e, id, v)| *e == Entity::Request && *id == theirs.to_string() && v.is_none()),
        "{after:?}"
    );
    let again = transport.journal(
        theirs,
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "ещё".into(),
        },
        None,
    );
    let r = h.push(&transport, vec![again]);
    assert_eq!(r.results[0].code.as_deref(), Some("forbidden"), "{r:?}");

    // Where the city shows the citizen, the department sees them and the thread.
    let open = Client::new(department("economy2", &["city_economy"], true));
    let all = pulled(h, &open);
    let requests = puts(&all, Entity::Request);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["request"]["phone"], "+79161234567");
    assert_eq!(
        puts(&all, Entity::Note).len(),
        3,
        "forward, operators', answer"
    );
}
