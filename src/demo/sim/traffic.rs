//! Citizen traffic: private chats writing to the bot the way people do. Texts come from the corpus
//! generator; around them the shapes a Telegram adapter meets in production: photos with captions,
//! albums, locations and venues after a text, contacts, PDF scans (some too big to download),
//! commands, follow-ups that reply to the bot, and edits of earlier messages.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::SimOptions;
use super::files::{FileKind, MAX_DOWNLOAD};
use super::state::{Shared, World, command_entities, now_unix};
use crate::demo::corpus::{Generator, SampleRequest};

/// Telegram's caption limit; longer requests go as a text followed by the bare photo.
const MAX_CAPTION_UTF16: usize = 1024;

const EDIT_SUFFIXES: &[&str] = &[
    " UPD: проблема всё ещё не решена.",
    " Уточнение: второй подъезд.",
    " Дополню: фото приложу позже.",
    " (исправил адрес)",
    " UPD: уже третий день так.",
    " Забыла добавить: телефон для связи в профиле.",
];

const DOC_NAMES: &[&str] = &[
    "Заявление.pdf",
    "Акт_осмотра.pdf",
    "Ответ_УК.pdf",
    "scan_0012.pdf",
    "Жалоба в МЦУ.pdf",
    "Коллективное_обращение_жильцов.pdf",
];

const VENUE_TITLES: &[&str] = &[
    "Двор",
    "Детская площадка",
    "Остановка",
    "Сквер",
    "Парковка у дома",
];

pub(super) struct Traffic {
    pub(super) g: Generator,
    citizens: Vec<Citizen>,
    ids: HashSet<i64>,
    generated: usize,
}

struct Citizen {
    chat_id: i64,
    topic: &'static str,
    /// The citizen's own texts and captions, which they may edit later.
    editable: Vec<i64>,
}

/// Runs the steady rate until the limit, shutdown, or forever; the burst was made by `start`.
pub(super) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let per_minute = shared.opts.per_minute;
    if !(per_minute > 0.0 && per_minute.is_finite()) {
        return;
    }
    let mean = 60.0 / per_minute;
    loop {
        // Poisson arrivals: exponential gaps, capped so one unlucky draw is not a long silence.
        let gap = {
            let mut inner = shared.lock();
            let u = inner.traffic.g.below(1 << 53) as f64 / (1u64 << 53) as f64;
            (-(1.0 - u).ln() * mean).min(mean * 10.0)
        };
        let gap = Duration::try_from_secs_f64(gap).unwrap_or(Duration::MAX);
        tokio::select! {
            () = tokio::time::sleep(gap) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if shared.generate(1) == 0 {
            return;
        }
    }
}

impl Traffic {
    pub fn new(seed: u64) -> Traffic {
        Traffic {
            g: Generator::new(seed),
            citizens: Vec::new(),
            ids: HashSet::new(),
            generated: 0,
        }
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.g.below(xs.len() as u64) as usize]
    }

    /// Counts one citizen message made elsewhere (VK) against `limit`; false once it is reached.
    pub fn count_one(&mut self, w: &mut World, opts: &SimOptions) -> bool {
        if opts.limit.is_some_and(|limit| self.generated >= limit) {
            return false;
        }
        self.generated += 1;
        w.counters.citizen_messages += 1;
        true
    }

    /// One citizen message (what `limit` counts): a request with its attachments, a follow-up,
    /// an edit or a command. False once the limit is reached.
    pub fn event(&mut self, w: &mut World, opts: &SimOptions) -> bool {
        if opts.limit.is_some_and(|limit| self.generated >= limit) {
            return false;
        }
        self.generated += 1;
        w.counters.citizen_messages += 1;
        if self.g.chance(opts.malformed_rate) {
            let kind = self.pick(&super::MalformedKind::ALL);
            self.malformed(w, kind);
            return true;
        }
        let known = !self.citizens.is_empty();
        match self.g.below(100) {
            0..18 if known => self.follow_up(w),
            18..24 if known => self.edit(w),
            24..28 if known => self.status(w),
            28..32 if known => {
                let i = self.g.below(self.citizens.len() as u64) as usize;
                let s = self.g.next_request();
                self.request(w, i, s);
            }
            32..35 => {
                // Pressed Start and never wrote anything else.
                let s = self.g.next_request();
                let i = self.new_citizen(w, &s.citizen, s.topic);
                self.start(w, i);
            }
            _ => {
                let s = self.g.next_request();
                let i = self.new_citizen(w, &s.citizen, s.topic);
                if self.g.chance(0.3) {
                    self.start(w, i);
                }
                self.request(w, i, s);
            }
        }
        true
    }

    /// A new private chat; chat.id = user.id, as Telegram has it for private chats.
    pub(super) fn new_citizen(&mut self, w: &mut World, name: &str, topic: &'static str) -> usize {
        let chat_id = loop {
            let id = 100_000_000 + self.g.below(7_900_000_000) as i64;
            if self.ids.insert(id) && !w.chats.contains_key(&id) {
                break id;
            }
        };
        let mut user = Map::new();
        user.insert("id".into(), json!(chat_id));
        user.insert("is_bot".into(), json!(false));
        if let Some(handle) = name.strip_prefix('@') {
            user.insert("first_name".into(), json!(handle));
            user.insert("username".into(), json!(handle));
        } else {
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            user.insert("first_name".into(), json!(first));
            if !last.is_empty() {
                user.insert("last_name".into(), json!(last));
            }
        }
        if self.g.chance(0.9) {
            user.insert("language_code".into(), json!("ru"));
        }
        w.ensure_chat(chat_id, Some(Value::Object(user)));
        self.citizens.push(Citizen {
            chat_id,
            topic,
            editable: Vec::new(),
        });
        self.citizens.len() - 1
    }

    /// Citizens who wrote before the demo began, known now so that the traffic's returning
    /// citizens include them: their chat ids and names, for the demo to give them a history.
    pub(super) fn regulars(&mut self, w: &mut World, n: usize) -> Vec<(i64, String)> {
        (0..n)
            .map(|_| {
                let s = self.g.next_request();
                let i = self.new_citizen(w, &s.citizen, s.topic);
                (self.citizens[i].chat_id, s.citizen)
            })
            .collect()
    }

    pub(super) fn chat_id(&self, i: usize) -> i64 {
        self.citizens[i].chat_id
    }

    fn start(&mut self, w: &mut World, i: usize) {
        let chat_id = self.citizens[i].chat_id;
        push_text(w, chat_id, "/start");
    }

    fn request(&mut self, w: &mut World, i: usize, s: SampleRequest) {
        let chat_id = self.citizens[i].chat_id;
        self.citizens[i].topic = s.topic;
        let fits = s.text.encode_utf16().count() <= MAX_CAPTION_UTF16;
        let main = if s.has_photo && fits {
            if self.g.chance(0.35) {
                self.media_group(w, chat_id, Some(&s.text))
            } else {
                self.photo(w, chat_id, Some(&s.text), None, None)
            }
        } else if s.has_photo {
            let id = push_text(w, chat_id, &s.text);
            self.photo(w, chat_id, None, None, None);
            id
        } else if fits && self.g.chance(0.05) {
            self.document(w, chat_id, Some(&s.text), None, None)
        } else {
            push_text(w, chat_id, &s.text)
        };
        self.citizens[i].editable.push(main);

        if let (Some(lat), Some(lon)) = (s.lat, s.lon) {
            let location = json!({"latitude": lat, "longitude": lon});
            if self.g.chance(0.25) {
                let mut m = w.citizen_message(chat_id);
                m.insert("location".into(), location);
                w.push_message("message", m);
            } else if self.g.chance(0.12) {
                let title = self.pick(VENUE_TITLES);
                let address = s.address.as_deref().unwrap_or("Краснодар");
                let mut m = w.citizen_message(chat_id);
                // Real venue messages carry the bare location as well.
                m.insert("location".into(), location.clone());
                m.insert(
                    "venue".into(),
                    json!({"location": location, "title": title, "address": address}),
                );
                w.push_message("message", m);
            }
        }
        if self.g.chance(0.04) {
            self.contact(w, chat_id);
        }
    }

    fn follow_up(&mut self, w: &mut World) {
        let i = self.g.below(self.citizens.len() as u64) as usize;
        let (chat_id, topic) = (self.citizens[i].chat_id, self.citizens[i].topic);
        let text = self.g.follow_up(topic);
        let to_bot = w.chats.get(&chat_id).and_then(|c| {
            let id = c.last_bot_message?;
            c.messages.get(&id).cloned()
        });
        let mut m = w.citizen_message(chat_id);
        m.insert("text".into(), json!(text));
        if let Some(mut original) = to_bot.filter(|_| self.g.chance(0.6)) {
            if let Some(o) = original.as_object_mut() {
                o.remove("reply_to_message");
            }
            m.insert("reply_to_message".into(), original);
        }
        let mid = m.get("message_id").and_then(Value::as_i64);
        w.push_message("message", m);
        self.citizens[i].editable.extend(mid);
    }

    fn edit(&mut self, w: &mut World) {
        let with_edits: Vec<usize> = (0..self.citizens.len())
            .filter(|i| !self.citizens[*i].editable.is_empty())
            .collect();
        if with_edits.is_empty() {
            return self.follow_up(w);
        }
        let i = self.pick(&with_edits);
        let c = &self.citizens[i];
        let mid = c.editable[self.g.below(c.editable.len() as u64) as usize];
        let chat_id = c.chat_id;
        let suffix = self.pick(EDIT_SUFFIXES);
        let Some(Value::Object(mut m)) = w
            .chats
            .get(&chat_id)
            .and_then(|c| c.messages.get(&mid))
            .cloned()
        else {
            return self.follow_up(w);
        };
        let field = if m.contains_key("caption") {
            "caption"
        } else {
            "text"
        };
        let edited = format!(
            "{}{suffix}",
            m.get(field).and_then(Value::as_str).unwrap_or("")
        );
        m.insert(field.into(), json!(edited));
        m.insert("edit_date".into(), json!(now_unix()));
        w.push_message("edited_message", m);
    }

    fn status(&mut self, w: &mut World) {
        let i = self.g.below(self.citizens.len() as u64) as usize;
        let text = format!("/status 2026-{:06}", 1 + self.g.below(3000));
        push_text(w, self.citizens[i].chat_id, &text);
    }

    fn contact(&mut self, w: &mut World, chat_id: i64) {
        let user = w.ensure_chat(chat_id, None).user.clone();
        let plus = if self.g.chance(0.7) { "+" } else { "" };
        let mut contact = json!({
            "phone_number": format!("{plus}7918{:07}", self.g.below(10_000_000)),
            "first_name": user.get("first_name").cloned().unwrap_or(json!("Житель")),
            "user_id": chat_id,
        });
        if let (Some(last), Some(c)) = (user.get("last_name"), contact.as_object_mut()) {
            c.insert("last_name".into(), last.clone());
        }
        let mut m = w.citizen_message(chat_id);
        m.insert("contact".into(), contact);
        w.push_message("message", m);
    }

    fn file_ids(&mut self, id_prefix: &str, unique_prefix: &str) -> (String, String) {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut id = String::from(id_prefix);
        for _ in 0..48 {
            id.push(B64[self.g.below(64) as usize] as char);
        }
        let mut unique = String::from(unique_prefix);
        for _ in 0..12 {
            unique.push(B64[self.g.below(64) as usize] as char);
        }
        (id, unique)
    }

    /// 1–3 sizes of one picture, smallest first; the last is the one worth downloading.
    pub(super) fn photo_sizes(&mut self, w: &mut World, count: Option<usize>) -> Value {
        const LADDER: [(u64, u64); 4] = [(90, 67), (320, 240), (800, 600), (1280, 960)];
        let n = count
            .unwrap_or_else(|| 1 + self.g.below(3) as usize)
            .clamp(1, 3);
        let from = self.g.below((LADDER.len() - n + 1) as u64) as usize;
        let portrait = self.g.chance(0.35);
        let mut sizes = Vec::with_capacity(n);
        for &(a, b) in &LADDER[from..from + n] {
            let (width, height) = if portrait { (b, a) } else { (a, b) };
            let (file_id, unique) = self.file_ids("AgACAgIAAxkBAAI", "AQAD");
            let file_size = 400 + width * height / (6 + self.g.below(6));
            w.files
                .register(&file_id, &unique, file_size, FileKind::Photo);
            sizes.push(
                json!({"file_id": file_id, "file_unique_id": unique, "file_size": file_size,
                              "width": width, "height": height}),
            );
        }
        Value::Array(sizes)
    }

    fn photo(
        &mut self,
        w: &mut World,
        chat_id: i64,
        caption: Option<&str>,
        media_group: Option<&str>,
        count: Option<usize>,
    ) -> i64 {
        let sizes = self.photo_sizes(w, count);
        let mut m = w.citizen_message(chat_id);
        let id = m.get("message_id").and_then(Value::as_i64).unwrap_or(0);
        if let Some(group) = media_group {
            m.insert("media_group_id".into(), json!(group));
        }
        m.insert("photo".into(), sizes);
        if let Some(c) = caption {
            m.insert("caption".into(), json!(c));
        }
        w.push_message("message", m);
        id
    }

    /// An album: separate messages with one `media_group_id`, the caption on the first only.
    fn media_group(&mut self, w: &mut World, chat_id: i64, caption: Option<&str>) -> i64 {
        let group = (13_000_000_000_000_000 + self.g.below(999_999_999_999_999)).to_string();
        let n = 2 + self.g.below(2);
        let first = self.photo(w, chat_id, caption, Some(&group), None);
        for _ in 1..n {
            self.photo(w, chat_id, None, Some(&group), None);
        }
        first
    }

    fn document(
        &mut self,
        w: &mut World,
        chat_id: i64,
        caption: Option<&str>,
        name: Option<&str>,
        size: Option<u64>,
    ) -> i64 {
        let name = name.map_or_else(|| self.pick(DOC_NAMES).to_owned(), str::to_owned);
        // Scanned stacks of paper: a good share exceed what bots may download.
        let size = size.unwrap_or_else(|| {
            if self.g.chance(0.3) {
                MAX_DOWNLOAD + 5 * 1024 * 1024 + self.g.below(2_000_000)
            } else {
                60_000 + self.g.below(2_500_000)
            }
        });
        let (file_id, unique) = self.file_ids("BQACAgIAAxkBAAI", "AgAD");
        w.files
            .register(&file_id, &unique, size, FileKind::Document);
        let mut m = w.citizen_message(chat_id);
        let id = m.get("message_id").and_then(Value::as_i64).unwrap_or(0);
        m.insert(
            "document".into(),
            json!({"file_name": name, "mime_type": "application/pdf", "file_id": file_id,
                   "file_unique_id": unique, "file_size": size}),
        );
        if let Some(c) = caption {
            m.insert("caption".into(), json!(c));
        }
        w.push_message("message", m);
        id
    }

    pub fn inject_photo(&mut self, w: &mut World, chat_id: i64, caption: Option<&str>) -> i64 {
        self.photo(w, chat_id, caption, None, Some(3));
        w.queue.history.last().map_or(0, |u| u.update_id)
    }

    /// A photo sent as a file, as a message's `document` carries it, downloadable as a JPEG.
    pub(super) fn picture_document(&mut self, w: &mut World, name: &str) -> Value {
        let (file_id, unique) = self.file_ids("BQACAgIAAxkBAAI", "AgAD");
        let size = 200_000 + self.g.below(2_000_000);
        w.files
            .register(&file_id, &unique, size, FileKind::PictureDocument);
        json!({"file_name": name, "mime_type": "image/jpeg", "file_id": file_id,
               "file_unique_id": unique, "file_size": size})
    }

    pub fn inject_document(&mut self, w: &mut World, chat_id: i64, name: &str, size: u64) -> i64 {
        self.document(w, chat_id, None, Some(name), Some(size));
        w.queue.history.last().map_or(0, |u| u.update_id)
    }
}

/// What a citizen answers when the center asks them something (a question mark, or «уточните»
/// as the ready replies ask for an address or details, «да» or «нет» to «Вопрос решён?»); None
/// for anything else, the bot's own texts included.
pub(super) fn answer_to(text: &str, chat_id: i64) -> Option<&'static str> {
    const ANSWERS: [&str; 4] = [
        "Дом 12, второй подъезд, рядом с остановкой",
        "Да, всё так. Адрес: ул. Северная, 5, во дворе",
        "Это у дома 27, напротив магазина. Фото пришлю вечером",
        "Уточняю: ул. Красная, 122, со стороны дороги",
    ];
    let lower = text.to_lowercase();
    // «Вопрос решён?» after a resolved close: most say «да», one in five «нет».
    if lower.contains("вопрос решён?") || lower.contains("did it help?") {
        return Some(if chat_id.unsigned_abs().is_multiple_of(5) {
            "Нет, всё осталось как было"
        } else {
            "Да, спасибо"
        });
    }
    let reminder = lower.starts_with("напоминаем") || lower.starts_with("a reminder");
    let asks = lower.contains('?') || lower.contains("уточните");
    (asks && !reminder && !lower.contains("/status"))
        .then(|| ANSWERS[chat_id.unsigned_abs() as usize % ANSWERS.len()])
}

/// What the department the simulator plays answers to a request posted to its chat
/// (`store::department_chat`); None for any other message.
pub(super) fn department_answer_to(text: &str) -> Option<&'static str> {
    const ANSWERS: [&str; 3] = [
        "Принято. Бригада выедет сегодня до 18:00, по результату сообщим.",
        "Работы запланированы на завтра, срок — до конца недели.",
        "Проверили на месте: неисправность устранена.",
    ];
    let passed = text.contains("передано вам") || text.contains("is passed to you");
    passed.then(|| ANSWERS[text.len() % ANSWERS.len()])
}

/// A text message replying to the bot's message `reply_to`; returns its message_id.
pub(super) fn push_reply(w: &mut World, chat_id: i64, text: &str, reply_to: i64) -> i64 {
    let mut m = w.citizen_message(chat_id);
    let id = m.get("message_id").and_then(Value::as_i64).unwrap_or(0);
    m.insert("text".into(), json!(text));
    let replied = json!({
        "message_id": reply_to,
        "chat": m.get("chat").cloned().unwrap_or(Value::Null),
        "date": m.get("date").cloned().unwrap_or(Value::Null),
    });
    m.insert("reply_to_message".into(), replied);
    // The department's dispatcher answers, not a citizen.
    if let Some(from) = m.get_mut("from").and_then(Value::as_object_mut) {
        from.insert("first_name".into(), json!("Диспетчер"));
        from.remove("last_name");
        from.remove("username");
    }
    w.push_message("message", m);
    id
}

/// A button pressed under the bot's message `message_id`: a `callback_query` update.
pub(super) fn press(w: &mut World, chat_id: i64, message_id: i64, data: &str) -> i64 {
    let mut m = w.citizen_message(chat_id);
    let from = m.remove("from").unwrap_or(Value::Null);
    let query_id = format!("{chat_id}{message_id}{}", w.queue.history.len());
    let mut message = json!({
        "message_id": message_id,
        "chat": m.get("chat").cloned().unwrap_or(Value::Null),
        "date": m.get("date").cloned().unwrap_or(Value::Null),
    });
    // As Telegram does, the query carries the message with its keyboard.
    if let Some(markup) = w
        .chats
        .get(&chat_id)
        .and_then(|c| c.messages.get(&message_id))
        .and_then(|m| m.get("reply_markup"))
    {
        message["reply_markup"] = markup.clone();
    }
    w.inject_raw(json!({"callback_query": {
        "id": query_id,
        "from": from,
        "message": message,
        "chat_instance": chat_id.to_string(),
        "data": data,
    }}))
}

/// A text message (with command entities for `/...`); returns its message_id.
pub(super) fn push_text(w: &mut World, chat_id: i64, text: &str) -> i64 {
    let mut m = w.citizen_message(chat_id);
    let id = m.get("message_id").and_then(Value::as_i64).unwrap_or(0);
    m.insert("text".into(), json!(text));
    if let Some(entities) = command_entities(text) {
        m.insert("entities".into(), entities);
    }
    w.push_message("message", m);
    id
}
