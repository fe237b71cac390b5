//! Citizens writing to the VK community: dialog messages (text, photos, a location), follow-ups,
//! the start button, posts on the community wall and comments under the community's own news.
//! Texts come from the same corpus as the Telegram traffic.

use serde_json::{Map, Value, json};

use super::vk::VkWorld;
use crate::demo::corpus::Generator;

/// The community's own posts citizens comment under.
const NEWS: &[&str] = &[
    "Внимание! С 10:00 до 16:00 плановое отключение воды в Центральном округе.",
    "На улице Северной начался ремонт дорожного покрытия. Просим водителей учитывать объезд.",
    "Благоустройство сквера на Ставропольской: расскажите, что вы хотели бы видеть.",
];

pub(super) struct VkTraffic {
    g: Generator,
    citizens: Vec<(i64, &'static str)>,
    news: Vec<i64>,
    photos: u64,
}

impl VkTraffic {
    pub fn new(seed: u64) -> VkTraffic {
        VkTraffic {
            g: Generator::new(seed ^ 0x7c_0000_0000_0001),
            citizens: Vec::new(),
            news: Vec::new(),
            photos: 0,
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.g.chance(p)
    }

    /// One citizen action.
    pub fn event(&mut self, w: &mut VkWorld) {
        let base = w.base.clone();
        let base = base.as_str();
        if self.news.is_empty() {
            let group = w.group_id();
            for text in NEWS {
                let id = w.post(-group, text, Map::new());
                self.news.push(id);
            }
        }
        let known = !self.citizens.is_empty();
        match self.g.below(100) {
            0..15 if known => {
                let (peer, topic) =
                    self.citizens[self.g.below(self.citizens.len() as u64) as usize];
                let text = self.g.follow_up(topic);
                let mut m = Map::new();
                m.insert("text".into(), json!(text));
                w.citizen_message(peer, m);
            }
            15..20 => {
                let peer = self.new_citizen("utilities");
                let mut m = Map::new();
                m.insert("text".into(), json!("Начать"));
                m.insert("payload".into(), json!("{\"command\":\"start\"}"));
                w.citizen_message(peer, m);
            }
            20..30 => {
                let s = self.g.next_request();
                let peer = self.new_citizen(s.topic);
                let mut extra = Map::new();
                if s.has_photo {
                    extra.insert("attachments".into(), json!([self.photo(base, peer)]));
                }
                w.post(peer, &s.text, extra);
            }
            30..45 => {
                let s = self.g.next_request();
                let peer = self.new_citizen(s.topic);
                let post = self.news[self.g.below(self.news.len() as u64) as usize];
                w.comment(post, peer, &s.text, None);
            }
            _ => {
                let s = self.g.next_request();
                let peer = self.new_citizen(s.topic);
                let mut m = Map::new();
                m.insert("text".into(), json!(s.text));
                if s.has_photo {
                    m.insert("attachments".into(), json!([self.photo(base, peer)]));
                }
                if let (Some(lat), Some(lon)) = (s.lat, s.lon)
                    && self.g.chance(0.3)
                {
                    m.insert(
                        "geo".into(),
                        json!({"type": "point",
                        "coordinates": {"latitude": lat, "longitude": lon},
                        "place": {"title": s.address.unwrap_or_else(|| "Краснодар".into()),
                                  "city": "Краснодар", "country": "Россия"}}),
                    );
                }
                w.citizen_message(peer, m);
            }
        }
    }

    pub(super) fn new_citizen(&mut self, topic: &'static str) -> i64 {
        let peer = loop {
            let id = 1_000_000 + self.g.below(900_000_000) as i64;
            if !self.citizens.iter().any(|(p, _)| *p == id) {
                break id;
            }
        };
        self.citizens.push((peer, topic));
        peer
    }

    /// A photo attachment in three sizes; the largest is the one a client should keep.
    fn photo(&mut self, base: &str, owner: i64) -> Value {
        self.photos += 1;
        let id = 457_239_000 + self.photos as i64;
        let sizes: Vec<Value> = [("s", 75, 56), ("x", 604, 453), ("w", 1280, 960)]
            .iter()
            .map(|(t, w, h)| {
                json!({"type": t, "width": w, "height": h,
                       "url": format!("{base}/_vk/photo/{id}_{t}.jpg")})
            })
            .collect();
        json!({"type": "photo", "photo": {"id": id, "owner_id": owner, "album_id": -3,
               "date": super::state::now_unix(), "sizes": sizes}})
    }
}
