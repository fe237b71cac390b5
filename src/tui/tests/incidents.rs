//! Incidents in the console: `m` lists them and the candidate groups, `c` confirms a group and
//! `x` dismisses it, `a` adds the selected request, the rows and the card mark them, and one
//! reply on an incident goes to each open member in its own words.

use super::*;
use crate::store::Detail;
use crate::store::incidents::Group;

fn candidate(members: &[&crate::domain::Request]) -> Group {
    Group {
        id: members[0].id,
        number: None,
        title: None,
        status: "candidate".into(),
        candidate: true,
        topic: "utilities".into(),
        place: "ул:красн:12".into(),
        citizens: members.len(),
        members: members.iter().map(|r| r.number.to_string()).collect(),
        member_ids: members.iter().map(|r| r.id).collect(),
        suggested: vec![],
        first_at: members[0].received_at,
    }
}

/// The inbox with an incident row (its card loaded, two members) and a candidate group.
fn with_incident(lang: Lang) -> App {
    let mut a = loaded(lang);
    let mut incident = request(9, "Прорыв водовода, ул. Красная, 12", 240);
    incident.is_incident = true;
    incident.channel = Channel::Manual;
    let mut m1 = request(11, "Прорвало трубу", 235);
    let mut m2 = request(12, "Вода во дворе из трубы", 200);
    m1.incident_id = Some(incident.id);
    m2.incident_id = Some(incident.id);
    m2.channel_ref.chat = Some("43".into());
    let mut closed = request(13, "Тоже вода", 190);
    closed.incident_id = Some(incident.id);
    closed.status = Status::Closed;
    a.rows.insert(0, incident.clone());
    a.members.insert(incident.id, 3);
    a.selected = 0;
    let groups = vec![
        Group {
            id: incident.id,
            number: Some(incident.number.to_string()),
            title: Some(incident.text.clone()),
            status: "new".into(),
            candidate: false,
            ..candidate(&[&m1, &m2])
        },
        candidate(&[&a.rows[2], &a.rows[3], &a.rows[4]]),
    ];
    update(&mut a, Msg::Incidents(Ok(groups)));
    let members = vec![m1, m2, closed];
    update(
        &mut a,
        Msg::Detail(Box::new(Detail {
            members: members
                .iter()
                .map(crate::store::read::MemberRef::of)
                .collect(),
            member_requests: members,
            ..thread_of(incident, vec![])
        })),
    );
    a
}

#[test]
fn m_lists_incidents_and_c_confirms_x_dismisses_a_group() {
    let mut a = with_incident(Lang::Ru);
    let cmds = update(&mut a, key('m'));
    assert!(matches!(a.mode, Mode::Incidents { selected: 0 }));
    assert!(matches!(&cmds[..], [Cmd::LoadIncidents(_)]));
    // `c` on a confirmed incident does nothing; on the candidate it makes one.
    assert!(update(&mut a, key('c')).is_empty());
    update(&mut a, key('j'));
    let ids = a.groups[1].member_ids.clone();
    match &update(&mut a, key('с'))[..] {
        [
            Cmd::ConfirmIncident {
                members,
                topic,
                actor,
                title: None,
            },
        ] => {
            assert_eq!(members, &ids);
            assert_eq!(topic.as_deref(), Some("utilities"));
            assert_eq!(actor, "anna");
        }
        other => panic!("{other:?}"),
    }
    // `x` dismisses it: every member is kept out of groups, at once.
    let cmds = update(&mut a, key('x'));
    match &cmds[..] {
        [Cmd::Apply(batch)] => {
            assert_eq!(batch.len(), 3);
            assert!(batch.iter().all(|m| m.op == Op::Ungroup));
            assert_eq!(batch.iter().map(|m| m.request_id).collect::<Vec<_>>(), ids);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.groups.len(), 1, "gone from the list at once");
}

#[test]
fn t_names_an_incident_and_esc_keeps_its_title() {
    let mut a = with_incident(Lang::Ru);
    let incident = a.groups[0].id;
    update(&mut a, key('m'));
    // `t` opens the title as it is; Ctrl-U clears it.
    update(&mut a, key('е'));
    assert!(
        matches!(&a.mode, Mode::IncidentTitle { input, .. } if input == "Прорыв водовода, ул. Красная, 12")
    );
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    // An empty title is refused and the field stays open.
    assert!(update(&mut a, code(KeyCode::Enter)).is_empty());
    assert!(matches!(a.mode, Mode::IncidentTitle { .. }));
    for c in "Авария на Красной".chars() {
        update(&mut a, key(c));
    }
    let screen = screen(&render(&a, 100, 30));
    assert!(
        screen.contains("Название инцидента: Авария на Красной"),
        "{screen}"
    );
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        ops(&cmds),
        [Op::Retitle {
            title: "Авария на Красной".into()
        }]
    );
    match &cmds[..] {
        [Cmd::Apply(batch)] => assert_eq!(batch[0].request_id, incident),
        other => panic!("{other:?}"),
    }
    assert!(matches!(a.mode, Mode::Incidents { selected: 0 }));
    assert_eq!(a.groups[0].title.as_deref(), Some("Авария на Красной"));
    // Esc leaves it; a candidate has no title to set; a view-only console sets none.
    update(&mut a, key('t'));
    update(&mut a, key('!'));
    assert!(update(&mut a, code(KeyCode::Esc)).is_empty());
    assert_eq!(a.groups[0].title.as_deref(), Some("Авария на Красной"));
    update(&mut a, key('j'));
    assert!(update(&mut a, key('t')).is_empty());
    assert!(matches!(a.mode, Mode::Incidents { selected: 1 }));
    let mut ro = with_incident(Lang::Ru);
    ro.readonly = true;
    update(&mut ro, key('m'));
    update(&mut ro, key('t'));
    assert!(matches!(ro.mode, Mode::Incidents { .. }));
}

#[test]
fn a_adds_the_selected_request_and_enter_shows_the_incident() {
    let mut a = with_incident(Lang::Ru);
    update(&mut a, key('j'));
    let target = a.rows[1].id;
    let incident = a.groups[0].id;
    update(&mut a, key('m'));
    assert_eq!(
        ops(&update(&mut a, key('a'))),
        [Op::JoinIncident {
            incident_id: incident
        }]
    );
    assert_eq!(a.current().map(|r| r.id), Some(target));
    update(&mut a, key('m'));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.filter.number.as_deref(), a.groups[0].number.as_deref());
    assert!(cmds.iter().any(|c| matches!(c, Cmd::LoadPage { .. })));
    // A view-only console changes nothing.
    let mut ro = with_incident(Lang::Ru);
    ro.readonly = true;
    update(&mut ro, key('m'));
    update(&mut ro, key('j'));
    assert!(update(&mut ro, key('c')).is_empty());
}

#[test]
fn one_reply_on_an_incident_reaches_each_open_member_in_its_own_words() {
    let mut a = with_incident(Lang::Ru);
    update(&mut a, key('r'));
    update(
        &mut a,
        Msg::Paste("По обращению {number}: бригада на месте".into()),
    );
    let cmds = update(&mut a, ctrl_s());
    let sent: Vec<(Uuid, String)> = cmds
        .iter()
        .flat_map(|c| match c {
            Cmd::Apply(ms) => ms.clone(),
            _ => vec![],
        })
        .map(|m| match m.op {
            Op::Reply { body, .. } => (m.request_id, body),
            other => panic!("{other:?}"),
        })
        .collect();
    let d = a.detail.clone().unwrap();
    let want: Vec<(Uuid, String)> = std::iter::once(&d.request)
        .chain(d.member_requests.iter().take(2))
        .map(|r| (r.id, format!("По обращению {}: бригада на месте", r.number)))
        .collect();
    assert_eq!(sent, want, "the closed member is left alone");
}

#[test]
fn an_incident_is_never_acted_on_before_its_members_are_known() {
    let mut a = with_incident(Lang::Ru);
    a.detail = None;
    assert!(update(&mut a, key('r')).is_empty());
    assert!(matches!(a.mode, Mode::Normal));
    assert!(a.flash.is_some());
    // Shift-M on a request in no incident: said so.
    let mut a = with_incident(Lang::Ru);
    update(&mut a, key('j'));
    assert!(update(&mut a, key('M')).is_empty());
    assert!(a.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn rows_and_the_card_mark_incidents_and_candidates() {
    let a = with_incident(Lang::Ru);
    insta::assert_snapshot!(screen(&render(&a, 120, 30)));
    let mut en = with_incident(Lang::En);
    update(&mut en, key('m'));
    insta::assert_snapshot!(screen(&render(&en, 120, 30)));
}
