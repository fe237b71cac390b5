//! Shared views (`server::views`) kept by both server stores alike, run by `contract::all` on
//! SQLite and PostgreSQL: only a lead shares and takes back, sharing again keeps a view's
//! place, one scope's views are not another's, the limits hold.

use chrono::Duration;

use super::{Harness, SCOPE};
use crate::domain::views::{MAX_VIEWS, SavedView, View, ViewSort};
use crate::server::engine::{Principal, Role, Transactional};
use crate::server::team::TeamError;
use crate::server::views;
use crate::wire::team::{ViewShare, ViewUnshare};

fn who(user: &str, role: Role) -> Principal {
    Principal {
        user: user.into(),
        role,
        departments: None,
    }
}

fn share(name: &str, filter: &str) -> ViewShare {
    ViewShare {
        scope_id: SCOPE.into(),
        view: SavedView {
            name: name.into(),
            base: View::All,
            filter: filter.into(),
            sort: ViewSort::TimeLeft,
            // The server says who shared it and since when, whatever the console sent.
            shared_by: Some("someone else".into()),
            since: super::now() - Duration::days(300),
        },
    }
}

fn unshare(name: &str) -> ViewUnshare {
    ViewUnshare {
        scope_id: SCOPE.into(),
        name: name.into(),
    }
}

pub fn shared_views<S: Transactional>(h: &Harness<S>) {
    let now = super::now();
    let boris = who("boris", Role::Lead);
    assert!(views::shared(&h.store, SCOPE).unwrap().is_empty());

    let roads = views::share(&h.store, &boris, &share("Дороги", "тема:дороги"), now).unwrap();
    assert_eq!(roads.shared_by.as_deref(), Some("boris"));
    assert_eq!(roads.since, now);
    let later = now + Duration::minutes(5);
    views::share(
        &h.store,
        &who("root", Role::Admin),
        &share("  ЖКХ   не передано ", "тема:жкх статус:новое"),
        later,
    )
    .unwrap();
    // Shared again, changed, by another case of its name: the text changes, not its place.
    let again = views::share(
        &h.store,
        &boris,
        &share("дороги", "тема:дороги !closed"),
        later,
    )
    .unwrap();
    assert_eq!(again.since, now);
    let listed = views::shared(&h.store, SCOPE).unwrap();
    let names: Vec<(&str, &str)> = listed
        .iter()
        .map(|v| (v.name.as_str(), v.filter.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("дороги", "тема:дороги !closed"),
            ("ЖКХ не передано", "тема:жкх статус:новое")
        ]
    );

    // Only a lead: an operator is refused, a viewer changes nothing, a gateway is no member.
    for (role, name) in [(Role::Operator, "anna"), (Role::Gateway, "gw")] {
        let who = who(name, role);
        assert!(matches!(
            views::share(&h.store, &who, &share("Своё", ""), now),
            Err(TeamError::Forbidden(_))
        ));
        assert!(matches!(
            views::unshare(&h.store, &who, &unshare("дороги")),
            Err(TeamError::Forbidden(_))
        ));
    }
    assert!(matches!(
        views::share(
            &h.store,
            &who("wall", Role::Viewer),
            &share("Своё", ""),
            now
        ),
        Err(TeamError::ReadOnly)
    ));
    assert_eq!(views::shared(&h.store, SCOPE).unwrap().len(), 2);

    // The name's rules hold here too, and the limit.
    // (A built-in view's Russian or English name is the consoles' to refuse: they say it.)
    for bad in ["", "8", "all", "closed-today", &"я".repeat(41)] {
        assert!(
            matches!(
                views::share(&h.store, &boris, &share(bad, ""), now),
                Err(TeamError::Bad(_))
            ),
            "{bad:?}"
        );
    }
    for i in 0..MAX_VIEWS - 2 {
        views::share(&h.store, &boris, &share(&format!("вид {i}"), ""), now).unwrap();
    }
    assert!(matches!(
        views::share(&h.store, &boris, &share("ещё один", ""), now),
        Err(TeamError::Bad(_))
    ));
    for i in 0..MAX_VIEWS - 2 {
        views::unshare(&h.store, &boris, &unshare(&format!("ВИД {i}"))).unwrap();
    }

    // Taken back: gone for everyone; taking it back twice is told.
    let gone = views::unshare(&h.store, &boris, &unshare("ДОРОГИ")).unwrap();
    assert_eq!(gone.filter, "тема:дороги !closed");
    assert!(matches!(
        views::unshare(&h.store, &boris, &unshare("дороги")),
        Err(TeamError::NotFound(_))
    ));
    let left: Vec<String> = views::shared(&h.store, SCOPE)
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(left, ["ЖКХ не передано"]);
    // Another city's views are its own; a scope id is bounded.
    assert!(views::shared(&h.store, "sochi").unwrap().is_empty());
    assert!(matches!(
        views::shared(&h.store, &"x".repeat(101)),
        Err(TeamError::Bad(_))
    ));
}
