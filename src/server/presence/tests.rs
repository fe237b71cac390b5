use super::*;

const S: &str = "krasnodar";

fn at(request: u128, session: u128, activity: Activity) -> PresenceReport {
    PresenceReport {
        scope_id: S.into(),
        session: Uuid::from_u128(session),
        request_id: Some(Uuid::from_u128(request)),
        activity,
    }
}

fn gone(session: u128) -> PresenceReport {
    PresenceReport {
        request_id: None,
        ..at(0, session, Activity::Viewing)
    }
}

fn p(request: u128, user: &str, activity: Activity) -> Presence {
    Presence {
        request_id: Uuid::from_u128(request),
        user: user.into(),
        activity,
    }
}

#[test]
fn reports_replace_each_other_per_console_and_leaving_removes() {
    let board = Roster::new(DEFAULT_TTL);
    let t = Instant::now();
    let mut rx = board.subscribe(S);
    board
        .report("petrov", &at(1, 10, Activity::Viewing), t)
        .unwrap();
    board
        .report("petrov", &at(2, 10, Activity::Viewing), t)
        .unwrap();
    board
        .report("sidorova", &at(2, 20, Activity::Composing), t)
        .unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(
        *rx.borrow_and_update().clone(),
        vec![
            p(2, "petrov", Activity::Viewing),
            p(2, "sidorova", Activity::Composing)
        ]
    );
    // A heartbeat that changes nothing wakes nobody.
    board
        .report("petrov", &at(2, 10, Activity::Viewing), t)
        .unwrap();
    assert!(!rx.has_changed().unwrap());
    board.report("petrov", &gone(10), t).unwrap();
    assert_eq!(
        *board.snapshot(S),
        vec![p(2, "sidorova", Activity::Composing)]
    );
    // Each operator is shown everyone but themselves.
    assert!(visible_to(&board.snapshot(S), "sidorova").is_empty());
    assert_eq!(visible_to(&board.snapshot(S), "petrov").len(), 1);
    // Scopes are apart.
    assert!(board.snapshot("sochi").is_empty());
}

#[test]
fn two_consoles_of_one_operator_and_composing_includes_viewing() {
    let board = Roster::new(DEFAULT_TTL);
    let t = Instant::now();
    board
        .report("petrov", &at(1, 10, Activity::Viewing), t)
        .unwrap();
    board
        .report("petrov", &at(2, 11, Activity::Viewing), t)
        .unwrap();
    board
        .report("petrov", &at(2, 12, Activity::Composing), t)
        .unwrap();
    assert_eq!(
        *board.snapshot(S),
        vec![
            p(1, "petrov", Activity::Viewing),
            p(2, "petrov", Activity::Composing)
        ]
    );
    for s in 13..(10 + SESSIONS_PER_USER as u128) {
        board
            .report("petrov", &at(3, s, Activity::Viewing), t)
            .unwrap();
    }
    assert_eq!(
        board.report("petrov", &at(3, 99, Activity::Viewing), t),
        Err(ReportError::TooManySessions)
    );
    // A known console still reports; other operators are not limited by petrov's.
    board
        .report("petrov", &at(4, 10, Activity::Viewing), t)
        .unwrap();
    board
        .report("ivanova", &at(4, 99, Activity::Viewing), t)
        .unwrap();
    let long = PresenceReport {
        scope_id: "x".repeat(MAX_SCOPE_LEN + 1),
        ..at(1, 1, Activity::Viewing)
    };
    assert_eq!(
        board.report("petrov", &long, t),
        Err(ReportError::ScopeTooLong)
    );
}

#[test]
fn an_entry_expires_unless_renewed() {
    let board = Roster::new(Duration::from_secs(15));
    let t = Instant::now();
    board
        .report("petrov", &at(1, 10, Activity::Viewing), t)
        .unwrap();
    board
        .report(
            "sidorova",
            &at(1, 20, Activity::Composing),
            t + Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(board.sweep(t), Some(t + Duration::from_secs(15)));
    // petrov renews at 10 s; sidorova goes quiet.
    board
        .report(
            "petrov",
            &at(1, 10, Activity::Viewing),
            t + Duration::from_secs(10),
        )
        .unwrap();
    assert_eq!(
        board.sweep(t + Duration::from_secs(20)),
        Some(t + Duration::from_secs(25))
    );
    assert_eq!(*board.snapshot(S), vec![p(1, "petrov", Activity::Viewing)]);
    assert_eq!(board.sweep(t + Duration::from_secs(25)), None);
    assert!(board.snapshot(S).is_empty());
    // An empty scope nobody listens to is forgotten.
    assert!(board.scopes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_publishes_an_expiry_when_it_happens() {
    let board = Arc::new(Roster::new(Duration::from_secs(15)));
    let (stop_tx, stop) = watch::channel(false);
    let sweeper = tokio::spawn(board.clone().sweeper(stop));
    let mut rx = board.subscribe(S);
    let start = Instant::now();
    board
        .report("petrov", &at(1, 10, Activity::Composing), start)
        .unwrap();
    rx.changed().await.unwrap();
    assert_eq!(rx.borrow_and_update().len(), 1);
    rx.changed().await.unwrap();
    assert!(rx.borrow_and_update().is_empty());
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    stop_tx.send(true).unwrap();
    sweeper.await.unwrap();
}
