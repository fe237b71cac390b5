//! The simulator's VK community: dialogs with their message history, the community wall with its
//! posts and comments, the Bots Long Poll event log with its `ts`, key and `failed` faults, and
//! what the community sent, deduplicated by `random_id` per peer (and `guid` per post) as VK
//! does. The API surface is `vk_api.rs`; citizen traffic is `vk_traffic.rs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::state::now_unix;

/// VK's limit for one message, in characters.
const MAX_TEXT: usize = 9000;
/// Long-poll events are kept this long (in events); an older `ts` gets `failed: 1`.
const KEEP_EVENTS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct VkSimOptions {
    pub group_id: i64,
    /// The only community token accepted; any other gets error 5.
    pub token: String,
    /// Share of generated citizen messages that arrive through VK instead of Telegram.
    pub share: f64,
    /// Share of long polls answered `failed` 1, 2 or 3 (one of them at random) instead of events;
    /// 1 and 3 drop the events waiting since the client's `ts` from the long poll (the history
    /// methods still have them: only a backfill finds them).
    pub failed_rate: f64,
    /// Share of method calls answered error 6 or 10 before doing anything.
    pub error_rate: f64,
    /// Share of sends recorded and then never answered.
    pub ambiguous_rate: f64,
}

impl Default for VkSimOptions {
    fn default() -> VkSimOptions {
        VkSimOptions {
            group_id: 200_000_001,
            token: "vk1.a.SIMULATED-COMMUNITY-TOKEN".into(),
            share: 0.0,
            failed_rate: 0.0,
            error_rate: 0.0,
            ambiguous_rate: 0.0,
        }
    }
}

/// One reply the community sent (recorded even when the client never learned the outcome).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VkSent {
    pub channel: String,
    /// `messages.send` or `wall.createComment`.
    pub method: String,
    /// The message or comment id VK gave it.
    pub id: i64,
    /// The dialog (`peer_id`) or `wall{owner}_{post}`.
    pub chat: String,
    pub text: String,
    pub reply_to: Option<i64>,
    /// `random_id` (messages) or `guid` (comments).
    pub random_id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The keyboard's text buttons, (label, payload) in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<(String, String)>,
}

/// Calls by outcome, for the tests.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VkStats {
    pub sent: usize,
    /// Sends whose random_id/guid was seen before: answered with the first one's id, not sent.
    pub deduplicated: usize,
    pub ambiguous: usize,
    /// Error 6 or 10 before doing anything.
    pub errors: usize,
    pub rejected: usize,
    /// Long polls answered `failed` 1, 2, 3.
    pub failed: [usize; 3],
    /// Events dropped from the long poll by `failed` 1 or 3.
    pub dropped: usize,
    pub long_polls: usize,
    pub backfill_calls: usize,
    pub events: usize,
}

/// One citizen event, with the external id a correct client stores it under.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VkEvent {
    pub external_id: String,
    pub kind: String,
    /// Whether the client should make a request or a message of it (not the community's own).
    pub citizen: bool,
}

struct Peer {
    next_id: i64,
    /// Both sides, oldest first.
    history: Vec<Value>,
    blocked: bool,
    /// random_id → the message it sent.
    sent_ids: HashMap<String, i64>,
}

pub(super) struct Post {
    pub post: Value,
    pub comments: Vec<Value>,
    guids: HashMap<String, i64>,
}

pub(super) struct VkWorld {
    pub opts: VkSimOptions,
    /// `http://addr` of the simulator: the long-poll server and photo links live under it.
    pub base: String,
    pub lp_url: String,
    pub key: String,
    key_seq: u64,
    /// The long poll: (ts, event JSON); `ts` of the next event is `next_ts`.
    events: Vec<(u64, String)>,
    next_ts: u64,
    /// Set after `failed` 1/3: the events before it are gone from the long poll.
    lost_before: u64,
    pub wake: Arc<Notify>,
    peers: HashMap<i64, Peer>,
    pub posts: BTreeMap<i64, Post>,
    next_post: i64,
    next_comment: i64,
    /// A test asks for this code on the next long poll.
    pub force_failed: Vec<i64>,
    /// The next sends are recorded and never answered (a test then kills the client).
    pub hold_sends: usize,
    pub held_tx: watch::Sender<usize>,
    pub held_rx: watch::Receiver<usize>,
    /// Long polls answered or held so far, for a test waiting until a client is polling.
    pub polls_tx: watch::Sender<usize>,
    pub sent: BTreeMap<String, Vec<VkSent>>,
    pub stats: VkStats,
    pub log: Vec<VkEvent>,
    event_seq: u64,
}

/// A `keyboard` as sent, with its text buttons' (label, payload) in order.
pub(super) type Keyboard = (Value, Vec<(String, String)>);

pub(super) enum SendError {
    Api(i64, &'static str),
}

impl VkWorld {
    pub fn new(opts: VkSimOptions) -> VkWorld {
        let (held_tx, held_rx) = watch::channel(0);
        let (polls_tx, _) = watch::channel(0);
        let mut w = VkWorld {
            opts,
            base: String::new(),
            lp_url: String::new(),
            key: String::new(),
            key_seq: 0,
            events: Vec::new(),
            next_ts: 1000,
            lost_before: 0,
            wake: Arc::new(Notify::new()),
            peers: HashMap::new(),
            posts: BTreeMap::new(),
            next_post: 1,
            next_comment: 1,
            force_failed: Vec::new(),
            hold_sends: 0,
            held_tx,
            held_rx,
            polls_tx,
            sent: BTreeMap::new(),
            stats: VkStats::default(),
            log: Vec::new(),
            event_seq: 0,
        };
        w.rotate_key();
        w
    }

    pub fn group_id(&self) -> i64 {
        self.opts.group_id
    }

    pub fn rotate_key(&mut self) {
        self.key_seq += 1;
        self.key = format!("lpkey{:08x}{}", self.key_seq * 2_654_435_761, self.key_seq);
    }

    pub fn ts(&self) -> u64 {
        self.next_ts
    }

    fn push_event(&mut self, kind: &str, object: Value, external_id: String, citizen: bool) {
        self.event_seq += 1;
        let event = json!({
            "group_id": self.opts.group_id,
            "type": kind,
            "event_id": format!("{:040x}", self.event_seq.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            "v": "5.199",
            "object": object,
        });
        self.events.push((self.next_ts, event.to_string()));
        self.next_ts += 1;
        if self.events.len() > KEEP_EVENTS {
            self.events.drain(..self.events.len() - KEEP_EVENTS);
        }
        self.stats.events += 1;
        self.log.push(VkEvent {
            external_id,
            kind: kind.into(),
            citizen,
        });
        self.wake.notify_waiters();
    }

    /// A message from a citizen in their dialog; returns its id.
    pub fn citizen_message(&mut self, peer: i64, fields: serde_json::Map<String, Value>) -> i64 {
        let p = self.peers.entry(peer).or_insert_with(|| Peer {
            next_id: 1,
            history: Vec::new(),
            blocked: false,
            sent_ids: HashMap::new(),
        });
        let id = p.next_id;
        p.next_id += 1;
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(id));
        m.insert("conversation_message_id".into(), json!(id));
        m.insert("date".into(), json!(now_unix()));
        m.insert("from_id".into(), json!(peer));
        m.insert("peer_id".into(), json!(peer));
        m.insert("out".into(), json!(0));
        m.insert("version".into(), json!(1));
        m.insert("attachments".into(), json!([]));
        m.extend(fields);
        let m = Value::Object(m);
        p.history.push(m.clone());
        let object = json!({"message": m, "client_info": {
            "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
            "keyboard": true, "inline_keyboard": true, "carousel": true, "lang_id": 0}});
        self.push_event("message_new", object, format!("msg:{peer}:{id}"), true);
        id
    }

    /// A post on the community wall, by a citizen (`from` > 0) or the community itself.
    pub fn post(&mut self, from: i64, text: &str, extra: serde_json::Map<String, Value>) -> i64 {
        let owner = -self.opts.group_id;
        let id = self.next_post;
        self.next_post += 1;
        let mut p = serde_json::Map::new();
        p.insert("id".into(), json!(id));
        p.insert("owner_id".into(), json!(owner));
        p.insert("from_id".into(), json!(from));
        p.insert("date".into(), json!(now_unix()));
        p.insert("marked_as_ads".into(), json!(0));
        p.insert("post_type".into(), json!("post"));
        p.insert("text".into(), json!(text));
        p.insert("comments".into(), json!({"count": 0}));
        p.extend(extra);
        let p = Value::Object(p);
        self.posts.insert(
            id,
            Post {
                post: p.clone(),
                comments: Vec::new(),
                guids: HashMap::new(),
            },
        );
        let citizen = from > 0;
        self.push_event("wall_post_new", p, format!("wall:{owner}_{id}"), citizen);
        id
    }

    /// A comment under a post; `None` when there is no such post.
    pub fn comment(
        &mut self,
        post_id: i64,
        from: i64,
        text: &str,
        reply_to: Option<i64>,
    ) -> Option<i64> {
        let owner = -self.opts.group_id;
        let id = self.next_comment;
        let c = json!({
            "id": id, "from_id": from, "post_id": post_id, "owner_id": owner,
            "post_owner_id": owner, "date": now_unix(), "text": text,
            "parents_stack": reply_to.map_or_else(Vec::new, |r| vec![r]),
            "reply_to_comment": reply_to,
        });
        let post = self.posts.get_mut(&post_id)?;
        self.next_comment += 1;
        post.comments.push(c.clone());
        if let Some(n) = post
            .post
            .get_mut("comments")
            .and_then(|c| c.get_mut("count"))
        {
            *n = json!(post.comments.len());
        }
        let citizen = from != -self.opts.group_id;
        self.push_event(
            "wall_reply_new",
            c,
            format!("wall:{owner}_{post_id}:c{id}"),
            citizen,
        );
        Some(id)
    }

    pub fn set_blocked(&mut self, peer: i64, blocked: bool) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.blocked = blocked;
        }
    }

    /// What a long poll with `key` and `ts` gets now: events, a `failed` answer (injected by
    /// a test or drawn from `failed_rate`), or nothing yet.
    pub fn check(
        &mut self,
        key: &str,
        ts: u64,
        faults: &mut crate::demo::corpus::Generator,
    ) -> Option<Value> {
        self.stats.long_polls += 1;
        self.polls_tx.send_replace(self.stats.long_polls);
        if key != self.key {
            self.stats.failed[1] += 1;
            return Some(json!({"failed": 2}));
        }
        let fault = if self.force_failed.is_empty() {
            faults
                .chance(self.opts.failed_rate)
                .then(|| 1 + faults.below(3) as i64)
        } else {
            Some(self.force_failed.remove(0))
        };
        match fault {
            Some(2) => {
                self.rotate_key();
                self.stats.failed[1] += 1;
                Some(json!({"failed": 2}))
            }
            Some(code @ (1 | 3)) => {
                // The events waiting for this client are lost to the long poll.
                let dropped = self.events.iter().filter(|(t, _)| *t >= ts).count();
                self.stats.dropped += dropped;
                self.lost_before = self.next_ts;
                self.stats.failed[code as usize - 1] += 1;
                if code == 3 {
                    self.rotate_key();
                    return Some(json!({"failed": 3}));
                }
                Some(json!({"failed": 1, "ts": self.next_ts.to_string()}))
            }
            _ => self.recheck(key, ts),
        }
    }

    /// The events from `ts` on, if any, with no fault drawn (a held poll looking again).
    pub fn recheck(&mut self, key: &str, ts: u64) -> Option<Value> {
        if key != self.key {
            self.stats.failed[1] += 1;
            return Some(json!({"failed": 2}));
        }
        if ts < self.lost_before || ts > self.next_ts {
            self.stats.failed[0] += 1;
            return Some(json!({"failed": 1, "ts": self.next_ts.to_string()}));
        }
        let start = self.events.partition_point(|(t, _)| *t < ts);
        if start == self.events.len() {
            return None;
        }
        let updates: Vec<Value> = self.events[start..]
            .iter()
            .take(1000)
            .filter_map(|(_, e)| serde_json::from_str(e).ok())
            .collect();
        let next = ts + updates.len() as u64;
        Some(json!({"ts": next.to_string(), "updates": updates}))
    }

    /// An empty long-poll answer at the end of `wait`.
    pub fn idle(&self, ts: u64) -> Value {
        json!({"ts": ts.to_string(), "updates": []})
    }

    /// `messages.send`: recorded once per `random_id` and peer; a repeat answers the first id.
    pub fn send_message(
        &mut self,
        peer: i64,
        text: &str,
        random_id: &str,
        reply_to: Option<i64>,
        keyboard: Option<Keyboard>,
    ) -> Result<(i64, bool), SendError> {
        if text.trim().is_empty() {
            return Err(SendError::Api(
                100,
                "One of the parameters specified was missing or invalid: message is empty or invalid",
            ));
        }
        if text.chars().count() > MAX_TEXT {
            return Err(SendError::Api(914, "Message is too long"));
        }
        let Some(p) = self.peers.get_mut(&peer) else {
            return Err(SendError::Api(
                901,
                "Can't send messages for users without permission",
            ));
        };
        if p.blocked {
            return Err(SendError::Api(
                901,
                "Can't send messages for users without permission",
            ));
        }
        // random_id 0 turns the check off, as VK documents.
        if random_id != "0"
            && let Some(id) = p.sent_ids.get(random_id)
        {
            self.stats.deduplicated += 1;
            return Ok((*id, false));
        }
        let id = p.next_id;
        p.next_id += 1;
        let at = chrono::Utc::now();
        let mut sent = json!({"id": id, "conversation_message_id": id, "date": at.timestamp(),
            "from_id": -self.opts.group_id, "peer_id": peer, "out": 1, "text": text,
            "random_id": random_id.parse::<i64>().unwrap_or(0)});
        let (keyboard, buttons) = keyboard.unzip();
        if let Some(k) = keyboard {
            sent["keyboard"] = k;
        }
        p.history.push(sent);
        p.sent_ids.insert(random_id.to_string(), id);
        self.stats.sent += 1;
        self.sent.entry(peer.to_string()).or_default().push(VkSent {
            channel: "vk".into(),
            method: "messages.send".into(),
            id,
            chat: peer.to_string(),
            text: text.to_string(),
            reply_to,
            random_id: random_id.to_string(),
            at,
            buttons: buttons.unwrap_or_default(),
        });
        Ok((id, true))
    }

    /// `wall.createComment` from the community: once per `guid` and post.
    pub fn create_comment(
        &mut self,
        post_id: i64,
        text: &str,
        guid: Option<&str>,
        reply_to: Option<i64>,
    ) -> Result<(i64, bool), SendError> {
        if text.trim().is_empty() {
            return Err(SendError::Api(
                100,
                "One of the parameters specified was missing or invalid: message is empty",
            ));
        }
        let owner = -self.opts.group_id;
        let Some(post) = self.posts.get(&post_id) else {
            return Err(SendError::Api(
                100,
                "One of the parameters specified was missing or invalid: post not found",
            ));
        };
        if let Some(id) = guid.and_then(|g| post.guids.get(g)) {
            self.stats.deduplicated += 1;
            return Ok((*id, false));
        }
        let id = self
            .comment(post_id, owner, text, reply_to)
            .ok_or(SendError::Api(100, "post not found"))?;
        if let (Some(g), Some(post)) = (guid, self.posts.get_mut(&post_id)) {
            post.guids.insert(g.to_string(), id);
        }
        self.stats.sent += 1;
        let chat = format!("wall{owner}_{post_id}");
        self.sent.entry(chat.clone()).or_default().push(VkSent {
            channel: "vk".into(),
            method: "wall.createComment".into(),
            id,
            chat,
            text: text.to_string(),
            reply_to,
            random_id: guid.unwrap_or("").to_string(),
            at: chrono::Utc::now(),
            buttons: vec![],
        });
        Ok((id, true))
    }

    /// `messages.getConversations`: dialogs by their last message, newest first.
    pub fn conversations(&self, count: usize) -> Value {
        let mut list: Vec<(&i64, &Value)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| Some((id, p.history.last()?)))
            .collect();
        list.sort_by_key(|(id, m)| {
            (
                std::cmp::Reverse(m.get("date").and_then(Value::as_i64).unwrap_or(0)),
                **id,
            )
        });
        let items: Vec<Value> = list
            .iter()
            .take(count)
            .map(|(id, m)| {
                json!({"conversation": {"peer": {"id": id, "type": "user", "local_id": id},
                        "can_write": {"allowed": true}}, "last_message": m})
            })
            .collect();
        json!({"count": self.peers.len(), "items": items})
    }

    /// `messages.getHistory`: newest first.
    pub fn history(&self, peer: i64, count: usize, offset: usize) -> Value {
        let Some(p) = self.peers.get(&peer) else {
            return json!({"count": 0, "items": []});
        };
        let items: Vec<&Value> = p.history.iter().rev().skip(offset).take(count).collect();
        json!({"count": p.history.len(), "items": items})
    }

    /// `wall.get`: newest first.
    pub fn wall(&self, count: usize, offset: usize) -> Value {
        let items: Vec<&Value> = self
            .posts
            .values()
            .rev()
            .skip(offset)
            .take(count)
            .map(|p| &p.post)
            .collect();
        json!({"count": self.posts.len(), "items": items})
    }

    /// `wall.getComments`; `desc` newest first.
    pub fn comments(&self, post_id: i64, count: usize, offset: usize, desc: bool) -> Option<Value> {
        let post = self.posts.get(&post_id)?;
        let mut items: Vec<&Value> = post.comments.iter().collect();
        if desc {
            items.reverse();
        }
        let items: Vec<&Value> = items.into_iter().skip(offset).take(count).collect();
        Some(
            json!({"count": post.comments.len(), "items": items, "current_level_count": post.comments.len(), "can_post": true}),
        )
    }

    /// The citizen of `peer` taps the button labelled `label` under the community's message
    /// `sent_id`: as VK does for a text button, a message with the label as its text and the
    /// button's `payload`. `None` when that message has no such button.
    pub fn tap(&mut self, peer: i64, sent_id: i64, label: &str) -> Option<i64> {
        let payload = self
            .sent
            .get(&peer.to_string())?
            .iter()
            .find(|s| s.id == sent_id)?
            .buttons
            .iter()
            .find(|(l, _)| l == label)?
            .1
            .clone();
        let mut m = serde_json::Map::new();
        m.insert("text".into(), json!(label));
        m.insert("payload".into(), json!(payload));
        Some(self.citizen_message(peer, m))
    }

    /// A held send was recorded: tell whoever waits (a test about to kill the client).
    pub fn note_held(&mut self) {
        self.stats.ambiguous += 1;
        let n = self.stats.ambiguous;
        self.held_tx.send_replace(n);
    }
}

/// Upper bound for `wait`, as VK's.
pub(super) const MAX_WAIT: Duration = Duration::from_secs(90);

/// `users.get`'s answer for a person: a name of its own for each id, the same every time.
pub fn user(id: i64) -> Value {
    const FIRST: [&str; 8] = [
        "Ольга",
        "Сергей",
        "Марина",
        "Андрей",
        "Наталья",
        "Игорь",
        "Елена",
        "Павел",
    ];
    const LAST: [(&str, &str); 6] = [
        ("Котов", "Котова"),
        ("Иванов", "Иванова"),
        ("Белов", "Белова"),
        ("Гусев", "Гусева"),
        ("Попов", "Попова"),
        ("Орлов", "Орлова"),
    ];
    let first = FIRST[(id as usize) % FIRST.len()];
    let (he, she) = LAST[(id as usize / FIRST.len()) % LAST.len()];
    // The list alternates: even places are women's names.
    let last = if (id as usize % FIRST.len()).is_multiple_of(2) {
        she
    } else {
        he
    };
    json!({"id": id, "first_name": first, "last_name": last})
}
