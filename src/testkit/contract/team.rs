//! Shifts (`server::team`) kept by both server stores alike, run by `contract::all` on SQLite
//! and PostgreSQL: everyone on shift until marked, who may mark whom, one scope's marks not
//! another's.

use super::{Harness, SCOPE};
use crate::server::accounts;
use crate::server::engine::{Principal, Role, Transactional};
use crate::server::team::{self, TeamError};
use crate::wire::team::ShiftChange;

fn who(user: &str, role: Role) -> Principal {
    Principal {
        user: user.into(),
        role,
        departments: None,
    }
}

fn change(user: &str, on_shift: bool) -> ShiftChange {
    ShiftChange {
        scope_id: SCOPE.into(),
        user: user.into(),
        on_shift,
    }
}

pub fn shifts<S: Transactional>(h: &Harness<S>) {
    let now = super::now();
    for (name, role) in [
        ("anna", Role::Operator),
        ("boris", Role::Lead),
        ("ivan", Role::Operator),
        ("wall", Role::Viewer),
        ("portal", Role::Integration),
    ] {
        assert!(
            accounts::add(&h.store, name, role, &[SCOPE.to_string()], &[], now)
                .unwrap()
                .is_some()
        );
    }
    // Only the people who take requests, each on shift until marked.
    let staff = team::staff(&h.store, SCOPE).unwrap();
    let names: Vec<(&str, bool, bool)> = staff
        .iter()
        .map(|s| (s.user.as_str(), s.lead, s.on_shift))
        .collect();
    assert_eq!(
        names,
        [
            ("anna", false, true),
            ("boris", true, true),
            ("ivan", false, true)
        ]
    );

    // A lead marks anyone; the mark says who and when.
    let boris = who("boris", Role::Lead);
    let ivan = team::set_shift(&h.store, &boris, &change("ivan", false), now).unwrap();
    assert!(!ivan.on_shift);
    assert_eq!(ivan.marked_by.as_deref(), Some("boris"));
    // An operator marks themself, nobody else.
    let anna = who("anna", Role::Operator);
    team::set_shift(&h.store, &anna, &change("anna", false), now).unwrap();
    team::set_shift(&h.store, &anna, &change("anna", true), now).unwrap();
    assert!(matches!(
        team::set_shift(&h.store, &anna, &change("ivan", true), now),
        Err(TeamError::Forbidden(_))
    ));
    assert!(matches!(
        team::set_shift(
            &h.store,
            &who("wall", Role::Viewer),
            &change("wall", true),
            now
        ),
        Err(TeamError::ReadOnly)
    ));
    // Nobody by that name, or not one who takes requests: said, nothing kept.
    for user in ["nobody", "wall", "portal"] {
        assert!(matches!(
            team::set_shift(&h.store, &boris, &change(user, false), now),
            Err(TeamError::Bad(_))
        ));
    }
    let mut long = change("ivan", true);
    long.scope_id = "x".repeat(101);
    assert!(matches!(
        team::set_shift(&h.store, &boris, &long, now),
        Err(TeamError::Bad(_))
    ));

    let staff = team::staff(&h.store, SCOPE).unwrap();
    let on: Vec<(&str, bool)> = staff
        .iter()
        .map(|s| (s.user.as_str(), s.on_shift))
        .collect();
    assert_eq!(on, [("anna", true), ("boris", true), ("ivan", false)]);
    // Another city's shift is its own.
    let elsewhere = team::staff(&h.store, "sochi").unwrap();
    assert!(
        elsewhere
            .iter()
            .all(|s| s.on_shift && s.marked_by.is_none())
    );
}
