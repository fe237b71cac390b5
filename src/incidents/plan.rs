//! What an operator's action on an incident is, as the ordinary mutations every writer applies
//! through `domain::apply`: confirming a group creates the incident and joins its members,
//! dismissing marks them, one answer is a reply on every member, and so on. Pure: the store
//! applies the list in one transaction, and in a team each mutation syncs like any other.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::{Channel, Location, Request};
use crate::domain::status::CloseReason;

/// The incident a candidate group becomes, named by the group's earliest member: two
/// operators confirming the same group at once make one incident, not two (the second
/// creation is refused as already there, and both sets of joins agree).
pub fn incident_id_for(first_member: Uuid) -> Uuid {
    crate::domain::ids::named(&[b"mcu-incident:", first_member.as_bytes()])
}

/// Where a group is, for its title: the first address a member's channel gave, else the first
/// address a member's text names, as written.
pub fn place_of(members: &[&Request]) -> Option<String> {
    members
        .iter()
        .find_map(|m| m.location.as_ref()?.address.clone())
        .or_else(|| {
            members
                .iter()
                .find_map(|m| super::address::written(&m.text))
        })
}

/// A title when the operator gives none: the topic's name and where.
pub fn default_title(topic: Option<&str>, place: Option<&str>) -> String {
    match (topic, place) {
        (Some(t), Some(p)) if !p.is_empty() => format!("{t}: {p}"),
        (Some(t), _) => t.to_string(),
        (None, Some(p)) if !p.is_empty() => p.to_string(),
        _ => "—".to_string(),
    }
}

/// Confirms a candidate group (`members` earliest first): the incident, received when its
/// earliest member was (so its clock is that member's), with the group's topic and place,
/// then every member joining it.
pub fn confirm(
    members: &[&Request],
    title: &str,
    topic: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Option<(Uuid, Vec<Mutation>)> {
    let first = members.first()?;
    let id = incident_id_for(first.id);
    let mut new = NewRequest::new(Channel::Manual, title, first.received_at);
    new.incident = true;
    new.topic = topic.map(str::to_string);
    let point = members.iter().find_map(|m| {
        let l = m.location.as_ref()?;
        Some((l.lat?, l.lon?))
    });
    let address = place_of(members);
    new.location = (point.is_some() || address.is_some()).then(|| Location {
        lat: point.map(|p| p.0),
        lon: point.map(|p| p.1),
        address,
    });
    let mut out = vec![Mutation::new(id, actor, now, Op::Create(Box::new(new)))];
    out.extend(join(id, members, actor, now));
    Some((id, out))
}

/// Whether two requests come from one citizen on one channel (the same chat or account).
pub fn same_citizen(a: &Request, b: &Request) -> bool {
    a.channel == b.channel
        && a.channel_ref.chat.is_some()
        && a.channel_ref.chat == b.channel_ref.chat
}

/// A request joined to another as its duplicate, its citizen told first, on it, which request
/// handles it: their own earlier one (a repeat), or another citizen's about the same problem.
/// Nothing is said where the channel cannot carry it (a phone call) or the request is closed;
/// `lang` None links it without a word.
pub fn join_duplicate(
    repeat: &Request,
    original: &Request,
    lang: Option<crate::lang::Lang>,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Mutation> {
    let mut out = vec![];
    if let Some(lang) = lang
        && repeat.status.is_open()
        && repeat.channel.delivers()
        && repeat.channel_ref.chat.is_some()
    {
        let body = if same_citizen(repeat, original) {
            repeat_told(lang, original)
        } else {
            duplicate_told(lang, repeat, original)
        };
        out.push(reply_to(repeat, body, actor, now));
    }
    out.push(Mutation::new(
        repeat.id,
        actor,
        now,
        Op::LinkDuplicate {
            parent_id: original.id,
        },
    ));
    out
}

/// What a citizen is told when their repeat joins their open request.
pub fn repeat_told(lang: crate::lang::Lang, original: &Request) -> String {
    lang.pick(
        "Ваше сообщение добавлено к обращению {number}: ответ придёт по нему.",
        "Your message was added to request {number}: the answer will come there.",
    )
    .replace("{number}", &original.number.to_string())
}

/// What a citizen is told when their request joins another citizen's about the same problem:
/// which one handles it, without promising them its answers (those go to its own citizen).
pub fn duplicate_told(lang: crate::lang::Lang, repeat: &Request, original: &Request) -> String {
    lang.pick(
        "Здравствуйте! Об этой проблеме уже сообщили, ею занимаются специалисты по обращению \
         {original}. Ваше обращение {number} присоединено к нему и закрыто как повторное.",
        "Hello! This problem was already reported and specialists are working on it under \
         request {original}. Your request {number} was joined to it and closed as a repeat.",
    )
    .replace("{original}", &original.number.to_string())
    .replace("{number}", &repeat.number.to_string())
}

/// Members joining `incident` (moving from another one if they were in it).
pub fn join(
    incident: Uuid,
    members: &[&Request],
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Mutation> {
    members
        .iter()
        .map(|m| {
            Mutation::new(
                m.id,
                actor,
                now,
                Op::JoinIncident {
                    incident_id: incident,
                },
            )
        })
        .collect()
}

/// A candidate group is not one incident: its members stay out of groups.
pub fn dismiss(members: &[&Request], actor: &str, now: DateTime<Utc>) -> Vec<Mutation> {
    members
        .iter()
        .map(|m| Mutation::new(m.id, actor, now, Op::Ungroup))
        .collect()
}

/// One answer to every open member, each as that member's own reply (`body_for` fills the
/// member's own variables), and on the incident itself for its record and clock.
pub fn reply(
    incident: &Request,
    members: &[&Request],
    body_for: &dyn Fn(&Request) -> String,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Mutation> {
    let mut out: Vec<Mutation> = members
        .iter()
        .filter(|m| m.status.is_open())
        .map(|m| reply_to(m, body_for(m), actor, now))
        .collect();
    if incident.status.is_open() {
        out.push(reply_to(incident, body_for(incident), actor, now));
    }
    out
}

fn reply_to(r: &Request, body: String, actor: &str, now: DateTime<Utc>) -> Mutation {
    Mutation::new(
        r.id,
        actor,
        now,
        Op::Reply {
            message_id: Uuid::now_v7(),
            body,
        },
    )
}

/// Forwards the incident and each open member not already with that department, once.
pub fn forward(
    incident: &Request,
    members: &[&Request],
    department: Option<&str>,
    note: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Mutation> {
    std::iter::once(incident)
        .chain(members.iter().copied())
        .filter(|r| r.status.is_open())
        .filter(|r| {
            r.status != crate::domain::Status::WaitingDepartment
                || department.is_some_and(|d| r.department.as_deref() != Some(d))
        })
        .map(|r| {
            Mutation::new(
                r.id,
                actor,
                now,
                Op::Forward {
                    department: department.map(str::to_string),
                    note_id: Uuid::now_v7(),
                    note: note.map(str::to_string),
                },
            )
        })
        .collect()
}

/// Closes the open members, each with the final answer first when there is one, then the
/// incident.
pub fn close(
    incident: &Request,
    members: &[&Request],
    reason: CloseReason,
    body_for: Option<&dyn Fn(&Request) -> String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Mutation> {
    let mut out = Vec::new();
    for r in members
        .iter()
        .copied()
        .chain(std::iter::once(incident))
        .filter(|r| r.status.is_open())
    {
        if let Some(body) = body_for {
            out.push(reply_to(r, body(r), actor, now));
        }
        out.push(Mutation::new(r.id, actor, now, Op::Close { reason }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mutation::{ClockPolicy, Ctx, apply};
    use crate::domain::request::RequestNumber;
    use crate::domain::{Catalog, Status};
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
    }

    fn made(seq: u32, text: &str, minutes: i64) -> Request {
        let catalog = Catalog::krasnodar();
        let policy = ClockPolicy::default();
        let mut new = NewRequest::new(
            Channel::Telegram,
            text,
            t0() + chrono::Duration::minutes(minutes),
        );
        new.channel_ref.chat = Some("42".into());
        new.location = Some(Location {
            lat: None,
            lon: None,
            address: Some("ул. Красная, 122".into()),
        });
        let m = Mutation::new(Uuid::now_v7(), "gateway", t0(), Op::Create(Box::new(new)));
        let ctx = Ctx {
            catalog: &catalog,
            policy: &policy,
            now: t0() + chrono::Duration::hours(1),
            new_number: Some(RequestNumber::new(2026, seq)),
        };
        apply(None, &m, &ctx).unwrap().request
    }

    #[test]
    fn confirming_makes_one_incident_per_group_whoever_confirms() {
        let a = made(1, "Прорвало трубу", 0);
        let b = made(2, "Течёт вода из-под асфальта", 20);
        let (id, ms) = confirm(&[&a, &b], "Прорыв", None, "anna", t0()).unwrap();
        let (again, _) = confirm(&[&a, &b], "Другое имя", None, "boris", t0()).unwrap();
        assert_eq!(id, again, "the same group is the same incident");
        assert_ne!(id, incident_id_for(b.id));
        assert_eq!(ms.len(), 3);
        let Op::Create(new) = &ms[0].op else {
            panic!("the incident first")
        };
        assert!(new.incident);
        assert_eq!(
            new.received_at, a.received_at,
            "the earliest member's clock"
        );
        assert_eq!(
            new.location.as_ref().and_then(|l| l.address.as_deref()),
            Some("ул. Красная, 122")
        );
        assert!(
            ms[1..]
                .iter()
                .all(|m| m.op == Op::JoinIncident { incident_id: id })
        );
        assert!(confirm(&[], "x", None, "anna", t0()).is_none());
    }

    #[test]
    fn one_answer_reaches_each_open_member_in_its_own_words() {
        let inc = made(9, "Прорыв", 0);
        let a = made(1, "Прорвало трубу", 0);
        let mut closed = made(2, "Течёт вода", 20);
        closed.status = Status::Closed;
        let c = made(3, "Вода на дороге", 30);
        let ms = reply(
            &inc,
            &[&a, &closed, &c],
            &|r| format!("Ответ по {}", r.number),
            "anna",
            t0(),
        );
        let bodies: Vec<(Uuid, String)> = ms
            .iter()
            .map(|m| match &m.op {
                Op::Reply { body, .. } => (m.request_id, body.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            bodies,
            vec![
                (a.id, "Ответ по 2026-000001".to_string()),
                (c.id, "Ответ по 2026-000003".to_string()),
                (inc.id, "Ответ по 2026-000009".to_string()),
            ]
        );
    }

    #[test]
    fn closing_answers_then_closes_every_open_member_and_the_incident() {
        let inc = made(9, "Прорыв", 0);
        let a = made(1, "Прорвало трубу", 0);
        let body = |_: &Request| "Устранено".to_string();
        let ms = close(
            &inc,
            &[&a],
            CloseReason::Resolved,
            Some(&body),
            "anna",
            t0(),
        );
        let names: Vec<(&str, Uuid)> = ms.iter().map(|m| (m.op.name(), m.request_id)).collect();
        assert_eq!(
            names,
            vec![
                ("reply", a.id),
                ("close", a.id),
                ("reply", inc.id),
                ("close", inc.id)
            ]
        );
        let silent = close(&inc, &[&a], CloseReason::Resolved, None, "anna", t0());
        assert_eq!(silent.len(), 2);
    }

    #[test]
    fn a_repeat_joins_its_citizens_open_request_and_they_are_told_which() {
        let original = made(1, "Прорвало трубу", 0);
        let repeat = made(2, "Вода всё течёт", 60);
        let told = repeat_told(crate::lang::Lang::Ru, &original);
        assert!(told.contains("2026-000001"), "{told}");
        let ru = Some(crate::lang::Lang::Ru);
        let ms = join_duplicate(&repeat, &original, ru, "anna", t0());
        assert!(matches!(&ms[0].op, Op::Reply { body, .. } if *body == told));
        assert_eq!(
            ms[1].op,
            Op::LinkDuplicate {
                parent_id: original.id
            }
        );
        assert!(ms.iter().all(|m| m.request_id == repeat.id));
        // Another citizen's duplicate: they are told which request handles the problem.
        let mut other = made(3, "Вода", 60);
        other.channel_ref.chat = Some("elsewhere".into());
        assert!(!same_citizen(&other, &original));
        let ms = join_duplicate(&other, &original, ru, "anna", t0());
        match &ms[0].op {
            Op::Reply { body, .. } => {
                assert!(
                    body.contains("2026-000001") && body.contains("2026-000003"),
                    "{body}"
                )
            }
            op => panic!("{op:?}"),
        }
        assert_eq!(ms.len(), 2);
        // Linked without a word: asked so, or a phone call nobody can be told through.
        assert_eq!(
            join_duplicate(&other, &original, None, "anna", t0()).len(),
            1
        );
        let mut phoned = made(4, "Звонок: вода", 60);
        phoned.channel = Channel::Phone;
        assert_eq!(
            join_duplicate(&phoned, &original, ru, "anna", t0()).len(),
            1
        );
    }

    #[test]
    fn forwarding_skips_members_already_with_that_department() {
        let inc = made(9, "Прорыв", 0);
        let a = made(1, "Прорвало трубу", 0);
        let mut b = made(2, "Течёт вода", 20);
        b.status = Status::WaitingDepartment;
        b.department = Some("water".into());
        let ms = forward(&inc, &[&a, &b], Some("water"), None, "anna", t0());
        let ids: Vec<Uuid> = ms.iter().map(|m| m.request_id).collect();
        assert_eq!(ids, vec![inc.id, a.id]);
    }
}
