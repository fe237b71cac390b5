//! Citizens' names on VK messages. A message carries only its author's id; `users.get` turns
//! the ids a batch brings into «Ольга Котова», remembered per id, so an operator reads a name
//! where the card said `vk.com/id5001`. A lookup that fails leaves the link: a message is
//! never held back or lost for a name, and the next batch asks again.

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

use super::Vk;
use crate::wire::intake::{Inbound, InboundEvent};

/// Names remembered before the memory starts over (a city's VK citizens of a few months).
const REMEMBERED: usize = 50_000;
/// `users.get` takes up to 1,000 ids a call.
const PER_CALL: usize = 1_000;
/// A name is worth this much of the intake's time, no more.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// The person's id in an author link `vk.com/id{n}` (a community's `club` link has none).
fn person(author: &str) -> Option<i64> {
    author
        .strip_prefix("vk.com/id")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
}

/// `users.get`'s answer: each user's id and «first last», skipping what does not read.
pub(super) fn users(v: &Value) -> Vec<(i64, String)> {
    let Some(list) = v.as_array() else {
        return vec![];
    };
    list.iter()
        .filter_map(|u| {
            let id = u.get("id")?.as_i64()?;
            let part = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").trim();
            let name = format!("{} {}", part("first_name"), part("last_name"))
                .trim()
                .to_string();
            (!name.is_empty()).then_some((id, name))
        })
        .collect()
}

impl Vk {
    /// Puts the citizen's name on each message of `events` whose author is a person's link.
    pub(super) async fn name_authors(&self, events: &mut [InboundEvent]) {
        fn authors(e: &mut InboundEvent) -> Option<&mut String> {
            match &mut e.inbound {
                Inbound::Message(m) => m.author.as_mut(),
                _ => None,
            }
        }
        let mut wanted: Vec<i64> = vec![];
        {
            let known = self.names.lock().unwrap_or_else(|e| e.into_inner());
            for e in events.iter_mut() {
                if let Some(id) = authors(e).and_then(|a| person(a))
                    && !known.contains_key(&id)
                    && !wanted.contains(&id)
                {
                    wanted.push(id);
                }
            }
        }
        for ids in wanted.chunks(PER_CALL) {
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            match self
                .call("users.get", &[("user_ids", list)], LOOKUP_TIMEOUT)
                .await
            {
                Ok(v) => {
                    let mut known = self.names.lock().unwrap_or_else(|e| e.into_inner());
                    if known.len() + ids.len() > REMEMBERED {
                        known.clear();
                    }
                    known.extend(users(&v));
                }
                Err(f) => tracing::warn!(reason = %f, "VK names not read; the profile links stay"),
            }
        }
        let known = self.names.lock().unwrap_or_else(|e| e.into_inner());
        for e in events.iter_mut() {
            if let Some(author) = authors(e)
                && let Some(name) = person(author).and_then(|id| known.get(&id))
            {
                *author = crate::domain::fields::clip_name(name);
            }
        }
    }
}

/// A fresh memory of names.
pub(super) fn memory() -> std::sync::Mutex<HashMap<i64, String>> {
    std::sync::Mutex::new(HashMap::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_to_names_and_a_link_to_its_person() {
        let v: Value = serde_json::from_str(
            r#"[{"id":5001,"first_name":"Ольга","last_name":"Котова"},
                {"id":5002,"first_name":"","last_name":""},
                {"first_name":"Без id"},
                {"id":5003,"first_name":"Игорь","last_name":"","deactivated":"deleted"}]"#,
        )
        .unwrap();
        assert_eq!(
            users(&v),
            [(5001, "Ольга Котова".into()), (5003, "Игорь".into())]
        );
        assert!(users(&Value::Null).is_empty());
        assert_eq!(person("vk.com/id5001"), Some(5001));
        assert_eq!(person("vk.com/club42"), None);
        assert_eq!(person("Ольга Котова"), None);
    }
}
