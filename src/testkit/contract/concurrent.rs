//! The contract's checks with real concurrency: threads pushing and pulling at once.

use uuid::Uuid;

use super::{Client, Harness, lead, note_ids, operator};
use crate::domain::mutation::Op;
use crate::server::engine::{self, Transactional};
use crate::wire::sync::{PushResponse, Verdict};

/// Scenarios 3 and 9 with real concurrency: 50 consoles claim at once (exactly one wins),
/// and one push body is sent from 3 threads at once (its effect lands once).
pub fn concurrent_claims_and_duplicate_pushes<S: Transactional + Sync>(h: &Harness<S>) {
    let mut lena = Client::new(lead("lena"));
    let id = h.create(&mut lena, "Гонка");
    let results: Vec<(String, Verdict, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                s.spawn(move || {
                    let mut c = Client::new(operator(&format!("op{i}")));
                    let m = c.journal(id, Op::Claim, None);
                    let r = h.push(&c, vec![m]);
                    (c.who.user, r.results[0].status, r.results[0].code.clone())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect()
    });
    let winners: Vec<&String> = results
        .iter()
        .filter(|(_, v, _)| *v == Verdict::Applied)
        .map(|(who, _, _)| who)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|(_, v, _)| *v == Verdict::Rejected)
            .all(|(_, _, code)| code.as_deref() == Some("already_claimed"))
    );
    let doc = h.request(&lena, id);
    assert_eq!(&doc["request"]["assignee"], winners[0].as_str());

    let note = Uuid::now_v7();
    let batch = vec![lena.journal(
        id,
        Op::AddNote {
            note_id: note,
            body: "одна".into(),
        },
        None,
    )];
    let answers: Vec<PushResponse> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| h.push(&lena, batch.clone())))
            .collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect()
    });
    assert!(answers.iter().all(|a| a.last_mutation_id == 2));
    let ids = note_ids(h, &lena);
    assert_eq!(ids.iter().filter(|i| **i == note.to_string()).count(), 1);
}

/// Pulls while pushes commit, also with the pushing client's own id (two syncs on one
/// console file): every pull is answered. A pull only reads; waiting on, or failing for, a
/// push's row locks would turn every busy moment into 503s.
pub fn pulls_beside_pushes_are_answered<S: Transactional + Sync>(h: &Harness<S>) {
    let mut lena = Client::new(lead("lena"));
    let id = h.create(&mut lena, "Параллельно");
    let pushers: Vec<Client> = (0..3)
        .map(|i| Client::new(operator(&format!("p{i}"))))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(vec![]);
    std::thread::scope(|s| {
        for mut c in pushers {
            let (done, failures) = (&done, &failures);
            s.spawn(move || {
                let twin = Client {
                    id: c.id,
                    next: 0,
                    who: c.who.clone(),
                };
                for i in 0..30 {
                    let m = c.journal(
                        id,
                        Op::AddNote {
                            note_id: Uuid::now_v7(),
                            body: format!("{i}"),
                        },
                        None,
                    );
                    if let Err(e) = h.try_push(&c, vec![m]) {
                        failures.lock().unwrap().push(format!("push: {e}"));
                    }
                    // The same console's other sync, pulling under the same client id.
                    if let Err(e) =
                        engine::pull_page(&h.store, &twin.who, &twin.pull_req(None, Some(5)))
                    {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("pull by the pusher: {e}"));
                    }
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        for i in 0..2 {
            let (done, failures) = (&done, &failures);
            s.spawn(move || {
                let reader = Client::new(operator(&format!("r{i}")));
                let mut cookie = None;
                while done.load(std::sync::atomic::Ordering::SeqCst) < 3 {
                    match engine::pull_page(
                        &h.store,
                        &reader.who,
                        &reader.pull_req(cookie, Some(20)),
                    ) {
                        Ok(page) => cookie = Some(page.cookie),
                        Err(e) => failures.lock().unwrap().push(format!("pull: {e}")),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed, the first: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert_eq!(note_ids(h, &lena).len(), 90);
}
