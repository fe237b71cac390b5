//! Every field an action carries, checked once: `apply` runs this first, so an import line,
//! `mcu new`, a channel's message, a console's action and a server's push meet the same bounds
//! (nothing another entry let through can later stop a push or a pull).
//!
//! Why each bound: a text longer than `MAX_TEXT` makes pushes that no server takes (and reads
//! like a paste gone wrong, not an appeal); a receipt time outside 2000 … now + 1 day gives a
//! request number that does not parse back (year 10000) or a clock nobody can keep; NUL is
//! refused by PostgreSQL's JSON and means nothing in a citizen's text, so it is dropped (both
//! stores then keep the same text); coordinates off the globe can't be shown on a map.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::mutation::{Mutation, Op, Rejection, Settle};
use super::request::{Attachment, ChannelRef, Location};

/// The longest text of a request, message, reply or note, in characters. Real appeals run to a
/// few thousand; a channel's longer message is cut to this (`clip_text`), anything else longer
/// is refused where it enters.
pub const MAX_TEXT: usize = 20_000;
/// Names: an operator, a citizen's display name.
pub const MAX_NAME: usize = 200;
pub const MAX_TAG: usize = 64;
/// Channel handles, file ids, links, addresses.
pub const MAX_REF: usize = 2_000;
/// A file's path on this machine.
pub const MAX_PATH: usize = 4_096;
/// Files on one message.
pub const MAX_ATTACHMENTS: usize = 50;

/// The earliest receipt time taken: nothing a center works on is older.
pub fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The latest receipt time taken, from the deciding clock: a day of skew, no more.
pub fn latest(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(1)
}

/// A channel's text cut to `MAX_TEXT` (a citizen's message is never refused for its length),
/// with NUL dropped.
pub fn clip_text(text: &str) -> String {
    clip(text, MAX_TEXT)
}

/// A channel's name for the citizen, cut to `MAX_NAME`.
pub fn clip_name(name: &str) -> String {
    clip(name, MAX_NAME)
}

/// When a channel says a citizen wrote, kept within the bounds: the store's clock decides.
pub fn clamp_at(at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    at.clamp(earliest(), now)
}

/// A channel's location with coordinates off the globe (or half a pair) dropped; the address,
/// if any, is kept.
pub fn clamp_location(l: Option<Location>) -> Option<Location> {
    let mut l = l?;
    if location(Some(&l)).is_err() {
        l.lat = None;
        l.lon = None;
    }
    if let Some(a) = &mut l.address {
        *a = clip(a, MAX_REF);
    }
    (l.lat.is_some() || l.address.is_some()).then_some(l)
}

fn clip(text: &str, max: usize) -> String {
    let clean: String = text.chars().filter(|c| *c != '\0').collect();
    match clean.char_indices().nth(max) {
        Some((cut, _)) => {
            let mut s = clean[..cut].to_string();
            s.pop();
            s.push('…');
            s
        }
        None => clean,
    }
}

/// An action journaled before these bounds, too big to send: every text cut to one character
/// over its bound, so the server refuses it (`too_long`) like any other and the queue behind
/// it moves on; the console keeps the whole text (a reply's as a draft).
pub fn shrink(m: &Mutation) -> Mutation {
    let mut m = m.clone();
    visit(&mut m, &mut |_, value, max| {
        if value.chars().count() > max {
            *value = value.chars().take(max + 1).collect();
        }
    });
    m
}

/// Drops NUL from every text of `m` and refuses what is out of bounds. `now` is the deciding
/// clock (the store's, the server's).
pub fn check(m: &mut Mutation, now: DateTime<Utc>) -> Result<(), Rejection> {
    let mut fault = None;
    visit(m, &mut |field, value, max| {
        if value.contains('\0') {
            value.retain(|c| c != '\0');
        }
        if fault.is_none() && value.chars().count() > max {
            fault = Some(Rejection::TooLong { field, max });
        }
    });
    if let Some(f) = fault {
        return Err(f);
    }
    let (earliest, latest) = (earliest(), latest(now));
    let time = |field: &'static str, at: Option<DateTime<Utc>>| match at {
        Some(at) if at < earliest || at > latest => Err(Rejection::OutOfRange {
            field,
            why: "between 2000-01-01 and a day from now",
        }),
        _ => Ok(()),
    };
    let phone = match &mut m.op {
        Op::Create(new) => new.phone.as_mut(),
        Op::SetPhone { phone } => Some(phone),
        _ => None,
    };
    if let Some(p) = phone {
        *p = super::phone::normalise(p).map_err(|_| Rejection::OutOfRange {
            field: "phone",
            why: "a phone number: +7 918 111-22-33, 89181112233 or +79181112233",
        })?;
    }
    match &m.op {
        Op::Create(new) => {
            time("received_at", Some(new.received_at))?;
            time("closed_at", new.closed_at)?;
            time("first_response_at", new.first_response_at)?;
            attachments(&new.attachments)?;
            location(new.location.as_ref())?;
        }
        Op::CitizenMessage {
            at,
            attachments: files,
            location: place,
            ..
        } => {
            time("at", Some(*at))?;
            attachments(files)?;
            location(place.as_ref())?;
        }
        Op::DepartmentAnswer {
            attachments: files, ..
        }
        | Op::DepartmentFiles { attachments: files } => attachments(files)?,
        Op::CitizenEdit { at, .. } | Op::Feedback { at, .. } => time("at", Some(*at))?,
        _ => {}
    }
    Ok(())
}

fn attachments(files: &[Attachment]) -> Result<(), Rejection> {
    if files.len() > MAX_ATTACHMENTS {
        return Err(Rejection::OutOfRange {
            field: "attachments",
            why: "at most 50 files",
        });
    }
    Ok(())
}

fn location(l: Option<&Location>) -> Result<(), Rejection> {
    let Some(l) = l else { return Ok(()) };
    let bad = |field, why| Err(Rejection::OutOfRange { field, why });
    match (l.lat, l.lon) {
        (Some(lat), Some(lon)) => {
            if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                return bad("lat", "from -90 to 90");
            }
            if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
                return bad("lon", "from -180 to 180");
            }
            Ok(())
        }
        (None, None) => Ok(()),
        _ => bad("lat", "lat and lon come together"),
    }
}

/// Every text field of the action, with its bound.
fn visit(m: &mut Mutation, f: &mut dyn FnMut(&'static str, &mut String, usize)) {
    f("actor", &mut m.actor, MAX_NAME);
    let opt = |field, v: &mut Option<String>, max, f: &mut dyn FnMut(_, &mut String, _)| {
        if let Some(v) = v {
            f(field, v, max);
        }
    };
    match &mut m.op {
        Op::Create(new) => {
            f("text", &mut new.text, MAX_TEXT);
            opt("external_id", &mut new.external_id, MAX_REF, f);
            opt("citizen", &mut new.citizen, MAX_NAME, f);
            opt("phone", &mut new.phone, MAX_NAME, f);
            opt("topic", &mut new.topic, MAX_NAME, f);
            opt("department", &mut new.department, MAX_NAME, f);
            channel_ref(&mut new.channel_ref, f);
            for a in &mut new.attachments {
                attachment(a, f);
            }
            if let Some(l) = &mut new.location {
                opt("address", &mut l.address, MAX_REF, f);
            }
        }
        Op::Assign { assignee } => opt("assignee", assignee, MAX_NAME, f),
        Op::SetTopic { topic, .. } => opt("topic", topic, MAX_NAME, f),
        Op::SetDepartment { department } => opt("department", department, MAX_NAME, f),
        Op::Tag { tag } | Op::Untag { tag } => f("tag", tag, MAX_TAG),
        Op::Forward {
            department, note, ..
        } => {
            opt("department", department, MAX_NAME, f);
            opt("note", note, MAX_TEXT, f);
        }
        Op::DepartmentAnswer {
            body, attachments, ..
        } => {
            f("text", body, MAX_TEXT);
            for a in attachments {
                attachment(a, f);
            }
        }
        Op::Reply { body, .. }
        | Op::Relay { body, .. }
        | Op::Return { reason: body, .. }
        | Op::Ask { body, .. }
        | Op::Remind { body, .. }
        | Op::CloseUnanswered { body, .. }
        | Op::AskFeedback { body, .. }
        | Op::Feedback { body, .. }
        | Op::AddNote { body, .. }
        | Op::CitizenEdit { body, .. }
        | Op::Acknowledge { body, .. }
        | Op::SettleReply {
            how: Settle::Phoned { body, .. },
        } => f("text", body, MAX_TEXT),
        Op::CitizenMessage {
            body,
            attachments,
            location,
            from,
            ..
        } => {
            f("text", body, MAX_TEXT);
            opt("author", from, MAX_NAME, f);
            for a in attachments {
                attachment(a, f);
            }
            if let Some(l) = location {
                opt("address", &mut l.address, MAX_REF, f);
            }
        }
        Op::DepartmentFiles { attachments } => {
            for a in attachments {
                attachment(a, f);
            }
        }
        Op::SetAttachment {
            source, local_path, ..
        } => {
            f("source", source, MAX_REF);
            opt("local_path", local_path, MAX_PATH, f);
        }
        Op::Retitle { title } => f("title", title, MAX_NAME),
        Op::SetPhone { phone } => f("phone", phone, MAX_NAME),
        Op::Escalate { chat, body, .. } => {
            f("chat", chat, MAX_REF);
            f("text", body, MAX_TEXT);
        }
        Op::Claim
        | Op::SplitOff { .. }
        | Op::JoinIncident { .. }
        | Op::LeaveIncident
        | Op::Ungroup
        | Op::Release
        | Op::SetPriority { .. }
        | Op::Close { .. }
        | Op::Reopen
        | Op::LinkDuplicate { .. }
        | Op::Merge { .. }
        | Op::Delivery { .. }
        | Op::SettleReply {
            how: Settle::Unreachable,
        } => {}
    }
}

fn channel_ref(r: &mut ChannelRef, f: &mut dyn FnMut(&'static str, &mut String, usize)) {
    for (field, v) in [("chat", &mut r.chat), ("message", &mut r.message)] {
        if let Some(v) = v {
            f(field, v, MAX_REF);
        }
    }
}

fn attachment(a: &mut Attachment, f: &mut dyn FnMut(&'static str, &mut String, usize)) {
    f("attachment kind", &mut a.kind, MAX_NAME);
    for (field, v, max) in [
        ("attachment name", &mut a.name, MAX_NAME),
        ("attachment source", &mut a.source, MAX_REF),
        ("local_path", &mut a.local_path, MAX_PATH),
    ] {
        if let Some(v) = v {
            f(field, v, max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mutation::NewRequest;
    use crate::domain::request::Channel;
    use uuid::Uuid;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
    }

    fn create(new: NewRequest) -> Mutation {
        Mutation::new(Uuid::nil(), "anna", now(), Op::Create(Box::new(new)))
    }

    #[test]
    fn receipt_times_are_bounded() {
        for (at, ok) in [
            ("9999-12-31T23:59:59Z", false),
            ("2999-01-01T00:00:00Z", false),
            ("1999-12-31T23:59:59Z", false),
            ("2000-01-01T00:00:00Z", true),
            ("2026-12-07T11:59:00Z", true),
            ("2026-12-07T12:01:00Z", false),
        ] {
            let at: DateTime<Utc> = at.parse().unwrap();
            let mut m = create(NewRequest::new(Channel::Phone, "x", at));
            assert_eq!(check(&mut m, now()).is_ok(), ok, "{at}");
        }
    }

    #[test]
    fn nul_is_dropped_everywhere_and_long_texts_refused() {
        let mut new = NewRequest::new(Channel::Phone, "a\0b", now());
        new.citizen = Some("Ив\0ан".into());
        let mut m = create(new);
        check(&mut m, now()).unwrap();
        let Op::Create(new) = &m.op else {
            unreachable!()
        };
        assert_eq!(
            (new.text.as_str(), new.citizen.as_deref()),
            ("ab", Some("Иван"))
        );

        let long = "я".repeat(MAX_TEXT + 1);
        let mut m = create(NewRequest::new(Channel::Phone, long.clone(), now()));
        assert_eq!(
            check(&mut m, now()),
            Err(Rejection::TooLong {
                field: "text",
                max: MAX_TEXT
            })
        );
        let mut reply = Mutation::new(
            Uuid::nil(),
            "anna",
            now(),
            Op::Tag {
                tag: "x".repeat(MAX_TAG + 1),
            },
        );
        assert!(matches!(
            check(&mut reply, now()),
            Err(Rejection::TooLong { field: "tag", .. })
        ));
        // A channel's text is cut, never refused.
        let clipped = clip_text(&long);
        assert_eq!(clipped.chars().count(), MAX_TEXT);
        assert!(clipped.ends_with('…'));
        assert_eq!(clip_text("a\0b"), "ab");
    }

    #[test]
    fn the_files_a_department_sent_are_checked_as_a_citizens() {
        let file = |name: &str| Attachment {
            kind: "photo".into(),
            name: Some(name.into()),
            size: None,
            source: Some("AgAC".into()),
            local_path: None,
            state: crate::domain::request::AttachmentState::Pending,
        };
        let answer = |attachments| {
            Mutation::new(
                Uuid::nil(),
                "ЖКХ",
                now(),
                Op::DepartmentAnswer {
                    note_id: Uuid::nil(),
                    body: "Фото с места".into(),
                    attachments,
                },
            )
        };
        let mut m = answer(vec![file("акт\0.jpg")]);
        check(&mut m, now()).unwrap();
        let Op::DepartmentAnswer { attachments, .. } = &m.op else {
            unreachable!()
        };
        assert_eq!(attachments[0].name.as_deref(), Some("акт.jpg"));
        let mut m = answer(vec![file("x"); MAX_ATTACHMENTS + 1]);
        assert!(matches!(
            check(&mut m, now()),
            Err(Rejection::OutOfRange {
                field: "attachments",
                ..
            })
        ));
    }

    #[test]
    fn coordinates_are_on_the_globe_and_come_in_pairs() {
        for (lat, lon, ok) in [
            (Some(45.0), Some(39.0), true),
            (None, None, true),
            (Some(999.0), Some(39.0), false),
            (Some(45.0), Some(-181.0), false),
            (Some(f64::NAN), Some(39.0), false),
            (Some(45.0), None, false),
        ] {
            let mut new = NewRequest::new(Channel::Phone, "x", now());
            new.location = Some(Location {
                lat,
                lon,
                address: None,
            });
            assert_eq!(
                check(&mut create(new), now()).is_ok(),
                ok,
                "{lat:?} {lon:?}"
            );
        }
    }
}
