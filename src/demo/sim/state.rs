//! The fake's world: the update queue with its offsets and long polls, the chats and their message
//! ids, what the bot sent, and the counters. One mutex guards it all; nothing awaits under it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

use super::api::ApiError;
use super::files::Files;
use super::traffic::Traffic;
use super::vk::VkWorld;
use super::vk_traffic::VkTraffic;
use super::{SentLog, SentMessage, SimOptions, SimStats, UpdateSummary};
use crate::demo::corpus::Generator;

/// Telegram's own limit: sendMessage counts UTF-16 code units.
const MAX_TEXT_UTF16: usize = 4096;
/// A photo's caption (Bot API: 0-1024 characters after entities parsing).
const MAX_CAPTION_UTF16: usize = 1024;

pub(super) struct Shared {
    pub opts: SimOptions,
    pub stop: watch::Receiver<bool>,
    pub held_rx: watch::Receiver<Option<u64>>,
    /// The regional feedback platform the simulator also plays (sim/platform.rs).
    pub platform: super::platform::Platform,
    inner: Mutex<Inner>,
}

pub(super) struct Inner {
    pub world: World,
    pub traffic: Traffic,
    pub vk: VkWorld,
    pub vk_traffic: VkTraffic,
}

impl Shared {
    pub fn new(opts: SimOptions, stop: watch::Receiver<bool>) -> Shared {
        let (held_tx, held_rx) = watch::channel(None);
        let world = World::new(&opts, held_tx);
        let traffic = Traffic::new(opts.seed);
        let vk = VkWorld::new(opts.vk.clone());
        let vk_traffic = VkTraffic::new(opts.seed);
        Shared {
            opts,
            stop,
            held_rx,
            platform: super::platform::Platform::new(super::PLATFORM_KEY),
            inner: Mutex::new(Inner {
                world,
                traffic,
                vk,
                vk_traffic,
            }),
        }
    }

    /// A panic elsewhere while holding the lock leaves plain data behind; keep serving it.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Generates up to `n` citizen messages, respecting `limit`.
    pub fn generate(&self, n: usize) -> usize {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let mut made = 0;
        while made < n {
            // The share of citizens writing through VK draws from VK's own stream, so a
            // Telegram-only run makes the same traffic as before VK existed.
            let vk = self.opts.vk.share > 0.0 && inner.vk_traffic.chance(self.opts.vk.share);
            if vk {
                if !inner.traffic.count_one(&mut inner.world, &self.opts) {
                    break;
                }
                inner.vk_traffic.event(&mut inner.vk);
            } else if !inner.traffic.event(&mut inner.world, &self.opts) {
                break;
            }
            made += 1;
        }
        made
    }
}

/// One update waiting for confirmation; `raw` is the exact JSON served.
struct Queued {
    id: i64,
    kind: String,
    raw: String,
}

/// The long poll currently held, woken by new updates, a rival poller or a webhook.
struct Held {
    id: u64,
    wake: Arc<Notify>,
}

pub(super) struct Queue {
    next_id: i64,
    pending: VecDeque<Queued>,
    confirmed: i64,
    allowed: Option<HashSet<String>>,
    /// Updates with ids below this were already filtered by `allowed`: a burst of tens of
    /// thousands is filtered once, not at every poll (that scan was a tenth of the ingest
    /// bench's CPU, taken from the gateway it measures).
    filtered_below: i64,
    held: Option<Held>,
    held_tx: watch::Sender<Option<u64>>,
    poll_seq: u64,
    pub history: Vec<UpdateSummary>,
}

pub(super) struct Chat {
    pub chat: Value,
    pub user: Value,
    next_message_id: i64,
    /// Latest version of every well-formed message in the chat, both sides.
    pub messages: HashMap<i64, Value>,
    pub last_bot_message: Option<i64>,
    blocked: bool,
}

impl Chat {
    pub fn private(user: Value) -> Chat {
        let mut chat = Map::new();
        for key in ["id", "first_name", "last_name", "username"] {
            if let Some(v) = user.get(key) {
                chat.insert(key.to_owned(), v.clone());
            }
        }
        chat.insert("type".to_owned(), json!("private"));
        Chat {
            chat: Value::Object(chat),
            user,
            next_message_id: 1,
            messages: HashMap::new(),
            last_bot_message: None,
            blocked: false,
        }
    }
}

/// What a getUpdates call gets right away.
pub(super) enum Poll {
    Ready(Vec<String>),
    Wait { id: u64, wake: Arc<Notify> },
}

pub(super) struct SendRequest {
    pub chat_id: i64,
    pub text: String,
    pub reply_to: Option<i64>,
    pub reply_chat: Option<i64>,
    pub allow_without_reply: bool,
    /// The inline keyboard's (text, callback_data), in order.
    pub buttons: Vec<(String, String)>,
    /// sendPhoto's `photo` (a file_id or URL); `text` is then its caption.
    pub photo: Option<String>,
    /// sendDocument's `document`, the same way.
    pub document: Option<String>,
}

pub(super) struct World {
    /// Fault decisions draw from their own stream so API call patterns never change the traffic.
    pub faults: Generator,
    pub queue: Queue,
    pub chats: HashMap<i64, Chat>,
    pub sent: SentLog,
    pub files: Files,
    pub webhook: bool,
    pub counters: SimStats,
    pub bot_user: Value,
}

pub(super) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `{"update_id":N,` + the rest of an object literal, so bodies are served byte for byte.
fn with_update_id(id: i64, body: &str) -> String {
    let rest = body.trim_start();
    let rest = rest.strip_prefix('{').unwrap_or(rest);
    if rest.trim_start().starts_with('}') {
        format!("{{\"update_id\":{id}{rest}")
    } else {
        format!("{{\"update_id\":{id},{rest}")
    }
}

fn default_user(chat_id: i64) -> Value {
    json!({"id": chat_id, "is_bot": false, "first_name": "Житель", "last_name": "Тестовый",
           "language_code": "ru"})
}

/// Telegram marks a leading `/command` so bots need not parse it.
pub(super) fn command_entities(text: &str) -> Option<Value> {
    if !text.starts_with('/') {
        return None;
    }
    let command = text.split_whitespace().next().unwrap_or(text);
    Some(json!([{"type": "bot_command", "offset": 0, "length": command.encode_utf16().count()}]))
}

impl World {
    fn new(opts: &SimOptions, held_tx: watch::Sender<Option<u64>>) -> World {
        let mut faults = Generator::new(opts.seed ^ 0x5eed_fa17_0000_0001);
        let bot_id = opts
            .token
            .split(':')
            .next()
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(1);
        // Seed-derived and far from zero, as Telegram's are; never reused afterwards.
        let first_update = 100_000_000 + faults.below(800_000_000) as i64;
        World {
            faults,
            queue: Queue {
                next_id: first_update,
                pending: VecDeque::new(),
                confirmed: 0,
                allowed: None,
                filtered_below: 0,
                held: None,
                held_tx,
                poll_seq: 0,
                history: Vec::new(),
            },
            chats: HashMap::new(),
            sent: SentLog::default(),
            files: Files::new(opts.file_ttl),
            webhook: false,
            counters: SimStats::default(),
            bot_user: json!({"id": bot_id, "is_bot": true, "first_name": "Предложка МЦУ",
                             "username": "mcu_predlozhka_bot"}),
        }
    }

    pub fn stats(&self) -> SimStats {
        let mut s = self.counters.clone();
        s.updates_pending = self.queue.pending.len();
        s.next_update_id = self.queue.next_id;
        s.highest_confirmed_offset = self.queue.confirmed;
        s
    }

    pub fn ensure_chat(&mut self, chat_id: i64, user: Option<Value>) -> &mut Chat {
        self.chats
            .entry(chat_id)
            .or_insert_with(|| Chat::private(user.unwrap_or_else(|| default_user(chat_id))))
    }

    /// The common part of a citizen's new message: id, author, chat and date.
    pub fn citizen_message(&mut self, chat_id: i64) -> Map<String, Value> {
        let chat = self.ensure_chat(chat_id, None);
        let id = chat.next_message_id;
        chat.next_message_id = chat.next_message_id.saturating_add(1);
        let mut m = Map::new();
        m.insert("message_id".into(), json!(id));
        m.insert("from".into(), chat.user.clone());
        m.insert("chat".into(), chat.chat.clone());
        m.insert("date".into(), json!(now_unix()));
        m
    }

    /// Queues a well-formed `message` or `edited_message` and remembers it for replies.
    pub fn push_message(&mut self, kind: &str, msg: Map<String, Value>) -> i64 {
        let chat_id = msg
            .get("chat")
            .and_then(|c| c.get("id"))
            .and_then(Value::as_i64);
        let message_id = msg.get("message_id").and_then(Value::as_i64);
        let msg = Value::Object(msg);
        if let (Some(c), Some(m)) = (chat_id, message_id)
            && let Some(chat) = self.chats.get_mut(&c)
        {
            chat.messages.insert(m, msg.clone());
        }
        let body = json!({ kind: msg }).to_string();
        self.push_update(kind, &body, chat_id, message_id, false)
    }

    pub fn push_update(
        &mut self,
        kind: &str,
        body: &str,
        chat_id: Option<i64>,
        message_id: Option<i64>,
        malformed: bool,
    ) -> i64 {
        let q = &mut self.queue;
        let id = q.next_id;
        q.next_id += 1;
        q.pending.push_back(Queued {
            id,
            kind: kind.to_owned(),
            raw: with_update_id(id, body),
        });
        q.history.push(UpdateSummary {
            update_id: id,
            kind: kind.to_owned(),
            chat_id,
            message_id,
            malformed,
        });
        self.counters.updates_queued += 1;
        if let Some(held) = &q.held {
            held.wake.notify_one();
        }
        id
    }

    pub fn inject_text(&mut self, chat_id: i64, text: &str) -> i64 {
        let mut m = self.citizen_message(chat_id);
        m.insert("text".into(), json!(text));
        if let Some(entities) = command_entities(text) {
            m.insert("entities".into(), entities);
        }
        self.push_message("message", m)
    }

    pub fn inject_raw(&mut self, update: Value) -> i64 {
        const KINDS: [&str; 4] = [
            "message",
            "edited_message",
            "callback_query",
            "my_chat_member",
        ];
        let mut obj = match update {
            Value::Object(obj) => obj,
            other => Map::from_iter([("message".to_owned(), other)]),
        };
        obj.remove("update_id");
        let kind = KINDS
            .iter()
            .find(|k| obj.contains_key(**k))
            .map(|k| (*k).to_owned())
            .or_else(|| obj.keys().next().cloned())
            .unwrap_or_default();
        let msg = obj.get(&kind);
        let chat_id = msg
            .and_then(|m| m.get("chat"))
            .and_then(|c| c.get("id"))
            .and_then(Value::as_i64);
        let message_id = msg
            .and_then(|m| m.get("message_id"))
            .and_then(Value::as_i64);
        if let (Some(c), Some(mid), Some(msg)) = (chat_id, message_id, msg) {
            let user = msg.get("from").filter(|u| u.get("id").is_some()).cloned();
            let chat = self.ensure_chat(c, user);
            chat.next_message_id = chat.next_message_id.max(mid.saturating_add(1));
            chat.messages.insert(mid, msg.clone());
        }
        let body = Value::Object(obj).to_string();
        self.push_update(&kind, &body, chat_id, message_id, false)
    }

    pub fn set_blocked(&mut self, chat_id: i64, blocked: bool) {
        self.ensure_chat(chat_id, None).blocked = blocked;
    }

    pub fn set_webhook(&mut self, set: bool) {
        self.webhook = set;
        if let Some(held) = &self.queue.held
            && set
        {
            held.wake.notify_one();
        }
    }

    /// deleteWebhook(drop_pending_updates=true) forgets the queue, as Telegram does.
    pub fn drop_pending(&mut self) {
        let q = &mut self.queue;
        if let Some(last) = q.pending.back() {
            q.confirmed = q.confirmed.max(last.id + 1);
        }
        q.pending.clear();
    }

    /// Applies offset and allowed_updates, kicks a held rival, and answers now or asks to wait.
    pub fn poll_begin(
        &mut self,
        offset: Option<i64>,
        limit: usize,
        timeout_s: u64,
        allowed: Option<Vec<String>>,
    ) -> Result<Poll, ApiError> {
        self.counters.get_updates_calls += 1;
        if self.webhook {
            self.counters.conflicts += 1;
            return Err(ApiError::webhook_conflict());
        }
        let q = &mut self.queue;
        if let Some(rival) = q.held.take() {
            // The held request learns it lost when it wakes and finds itself no longer held.
            rival.wake.notify_one();
            q.held_tx.send_replace(None);
        }
        match offset {
            Some(o) if o < 0 => {
                let keep = usize::try_from(o.unsigned_abs()).unwrap_or(usize::MAX);
                while q.pending.len() > keep {
                    if let Some(u) = q.pending.pop_front() {
                        q.confirmed = q.confirmed.max(u.id + 1);
                    }
                }
            }
            Some(o) if o > 0 => {
                while q.pending.front().is_some_and(|u| u.id < o) {
                    q.pending.pop_front();
                }
                q.confirmed = q.confirmed.max(o);
            }
            _ => {}
        }
        match allowed {
            Some(list) if list.is_empty() => q.allowed = None,
            Some(list) => {
                let list: HashSet<String> = list.into_iter().collect();
                if q.allowed.as_ref() != Some(&list) {
                    q.filtered_below = 0;
                }
                q.allowed = Some(list);
            }
            None => {}
        }
        let ready = q.collect(limit);
        if !ready.is_empty() || timeout_s == 0 {
            return Ok(Poll::Ready(ready));
        }
        q.poll_seq += 1;
        let id = q.poll_seq;
        let wake = Arc::new(Notify::new());
        q.held = Some(Held {
            id,
            wake: wake.clone(),
        });
        q.held_tx.send_replace(Some(id));
        Ok(Poll::Wait { id, wake })
    }

    /// After a wake-up: Some(updates) to answer, None to keep waiting, or the 409 to give.
    pub fn poll_resume(&mut self, id: u64, limit: usize) -> Result<Option<Vec<String>>, ApiError> {
        let mine = self.queue.held.as_ref().is_some_and(|h| h.id == id);
        if !mine {
            self.counters.conflicts += 1;
            return Err(ApiError::poller_conflict());
        }
        if self.webhook {
            self.poll_end(id);
            self.counters.conflicts += 1;
            return Err(ApiError::webhook_conflict());
        }
        let ready = self.queue.collect(limit);
        if ready.is_empty() {
            return Ok(None);
        }
        self.poll_end(id);
        Ok(Some(ready))
    }

    /// The held poll `id` is over (answered, timed out, or its client went away).
    pub fn poll_end(&mut self, id: u64) {
        let q = &mut self.queue;
        if q.held.as_ref().is_some_and(|h| h.id == id) {
            q.held = None;
            q.held_tx.send_replace(None);
        }
    }

    pub fn send_message(&mut self, req: SendRequest) -> Result<Value, ApiError> {
        use super::files::FileKind;
        // A file_id names its type: Telegram sends a document's only as a document.
        let file = match (&req.photo, &req.document) {
            (Some(p), _) => Some((p, FileKind::Photo)),
            (None, Some(d)) => Some((d, FileKind::Document)),
            (None, None) => None,
        };
        if let Some((id, kind)) = file
            && self.files.kind_of(id).is_some_and(|k| k.sent_as() != kind)
        {
            return Err(ApiError::bad_request("type of file mismatch"));
        }
        match file.map(|(id, _)| id) {
            None if req.text.trim().is_empty() => {
                return Err(ApiError::bad_request("message text is empty"));
            }
            None if req.text.encode_utf16().count() > MAX_TEXT_UTF16 => {
                return Err(ApiError::bad_request("message is too long"));
            }
            Some(_) if req.text.encode_utf16().count() > MAX_CAPTION_UTF16 => {
                return Err(ApiError::bad_request("message caption is too long"));
            }
            Some(p)
                if !(p.starts_with("https://")
                    || p.starts_with("http://")
                    || self.files.knows(p)) =>
            {
                return Err(ApiError::bad_request(
                    "wrong remote file identifier specified: Wrong padding length",
                ));
            }
            _ => {}
        }
        let Some(chat) = self.chats.get(&req.chat_id) else {
            return Err(ApiError::bad_request("chat not found"));
        };
        if chat.blocked {
            return Err(ApiError::new(403, "Forbidden: bot was blocked by the user"));
        }
        let mut reply = None;
        if let Some(reply_id) = req.reply_to {
            let other_chat = req.reply_chat.is_some_and(|c| c != req.chat_id);
            let source = self.chats.get(&req.reply_chat.unwrap_or(req.chat_id));
            let original = source.and_then(|c| c.messages.get(&reply_id));
            match original {
                Some(m) => {
                    let mut m = m.clone();
                    // Telegram nests one level only.
                    if let Some(obj) = m.as_object_mut() {
                        obj.remove("reply_to_message");
                    }
                    reply = Some((reply_id, m));
                }
                // "Always False for replies in another chat" per the Bot API.
                None if req.allow_without_reply && !other_chat => {}
                None => return Err(ApiError::bad_request("message to be replied not found")),
            }
        }

        let bot_user = self.bot_user.clone();
        let Some(chat) = self.chats.get_mut(&req.chat_id) else {
            return Err(ApiError::bad_request("chat not found"));
        };
        let message_id = chat.next_message_id;
        chat.next_message_id = chat.next_message_id.saturating_add(1);
        let at = chrono::Utc::now();
        let mut msg = json!({
            "message_id": message_id,
            "from": bot_user,
            "chat": chat.chat.clone(),
            "date": at.timestamp(),
        });
        if let Some(obj) = msg.as_object_mut() {
            match (&req.photo, &req.document) {
                (Some(p), _) => {
                    obj.insert(
                        "photo".into(),
                        json!([{ "file_id": p, "width": 1280, "height": 960 }]),
                    );
                    obj.insert("caption".into(), req.text.clone().into());
                }
                (None, Some(d)) => {
                    obj.insert("document".into(), json!({ "file_id": d }));
                    obj.insert("caption".into(), req.text.clone().into());
                }
                (None, None) => {
                    obj.insert("text".into(), req.text.clone().into());
                }
            }
        }
        if let (Some(obj), Some((_, original))) = (msg.as_object_mut(), &reply) {
            obj.insert("reply_to_message".into(), original.clone());
        }
        if let (Some(obj), false) = (msg.as_object_mut(), req.buttons.is_empty()) {
            let row: Vec<Value> = req
                .buttons
                .iter()
                .map(|(text, d)| json!({ "text": text, "callback_data": d }))
                .collect();
            obj.insert("reply_markup".into(), json!({ "inline_keyboard": [row] }));
        }
        chat.messages.insert(message_id, msg.clone());
        chat.last_bot_message = Some(message_id);
        self.sent.total += 1;
        self.sent
            .chats
            .entry(req.chat_id.to_string())
            .or_default()
            .push(SentMessage {
                message_id,
                chat_id: req.chat_id,
                text: req.text,
                reply_to_message_id: reply.map(|(id, _)| id),
                at,
                buttons: req.buttons.iter().map(|(_, d)| d.clone()).collect(),
                labels: req.buttons.into_iter().map(|(t, _)| t).collect(),
                photo: req.photo,
                document: req.document,
            });
        Ok(msg)
    }
}

impl Queue {
    /// Up to `limit` deliverable updates; ones of kinds the client opted out of are dropped,
    /// as Telegram would never have kept them.
    fn collect(&mut self, limit: usize) -> Vec<String> {
        if let Some(allowed) = &self.allowed {
            let from = self.pending.partition_point(|u| u.id < self.filtered_below);
            let mut fresh = self.pending.split_off(from);
            fresh.retain(|u| allowed.contains(&u.kind));
            self.pending.append(&mut fresh);
            self.filtered_below = self.next_id;
        }
        self.pending
            .iter()
            .take(limit)
            .map(|u| u.raw.clone())
            .collect()
    }
}

#[cfg(test)]
mod unit {
    use super::{Poll, SimOptions, World, with_update_id};
    use tokio::sync::watch;

    fn kinds(world: &mut World, allowed: Option<&[&str]>) -> Vec<String> {
        let allowed = allowed.map(|a| a.iter().map(|k| k.to_string()).collect());
        match world.poll_begin(None, 100, 0, allowed) {
            Ok(Poll::Ready(raw)) => raw
                .iter()
                .map(|u| {
                    let v: serde_json::Value = serde_json::from_str(u).expect("update");
                    v.as_object()
                        .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
                        .expect("kind")
                })
                .collect(),
            _ => panic!("a poll with no timeout answers at once"),
        }
    }

    #[test]
    fn updates_of_kinds_not_allowed_are_dropped_whenever_they_arrive() {
        let (tx, _rx) = watch::channel(None);
        let mut world = World::new(&SimOptions::default(), tx);
        world.push_update("message", "{\"message\":{}}", None, None, false);
        world.push_update("channel_post", "{\"channel_post\":{}}", None, None, false);
        assert_eq!(kinds(&mut world, Some(&["message"])), ["message"]);
        // Arriving after the filter was set, still filtered, and by the list remembered.
        world.push_update("channel_post", "{\"channel_post\":{}}", None, None, false);
        world.push_update("message", "{\"message\":{}}", None, None, false);
        assert_eq!(kinds(&mut world, None), ["message", "message"]);
        // A wider list lets the kind through from then on.
        world.push_update("channel_post", "{\"channel_post\":{}}", None, None, false);
        assert_eq!(
            kinds(&mut world, Some(&["message", "channel_post"])),
            ["message", "message", "channel_post"]
        );
    }

    #[test]
    fn update_id_goes_first_and_the_body_stays_byte_for_byte() {
        assert_eq!(
            with_update_id(7, r#"{"message":{"text":"\ud800"}}"#),
            r#"{"update_id":7,"message":{"text":"\ud800"}}"#
        );
        assert_eq!(with_update_id(8, "{}"), r#"{"update_id":8}"#);
    }
}
