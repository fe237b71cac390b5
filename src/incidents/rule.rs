//! When reports are one incident. Nearby and similar alone floods operators: on real appeals
//! most close, similar pairs are one citizen writing again. So a group needs several distinct
//! citizens, each within the radius (or at the same address) and the time window of the new
//! report, on the same topic (set or suggested), and with text similar enough to it. A citizen
//! writing again about their own open request is a repeat instead: one case, not a new one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::address::AddressKey;
use super::geo::distance_m;
use crate::domain::words::terms;

/// `[incidents]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Distinct citizens that make a candidate incident.
    pub min_citizens: usize,
    pub radius_m: f64,
    pub window_hours: f64,
    /// Text cosine (stems) a report needs with the new one.
    pub min_similarity: f64,
    /// How long a citizen's open request takes their new reports as repeats.
    pub repeat_days: f64,
}

impl Rules {
    /// What is wrong with these rules, for the config's error.
    pub fn problem(&self) -> Option<String> {
        if !(2..=1000).contains(&self.min_citizens) {
            return Some(format!(
                "incidents.min_citizens must be 2–1000, got {}",
                self.min_citizens
            ));
        }
        if !(self.radius_m > 0.0 && self.radius_m <= 10_000.0) {
            return Some(format!(
                "incidents.radius_m must be in (0, 10000], got {}",
                self.radius_m
            ));
        }
        if !(self.window_hours > 0.0 && self.window_hours <= 720.0) {
            return Some(format!(
                "incidents.window_hours must be in (0, 720], got {}",
                self.window_hours
            ));
        }
        if !(0.0..=1.0).contains(&self.min_similarity) {
            return Some(format!(
                "incidents.min_similarity must be in [0, 1], got {}",
                self.min_similarity
            ));
        }
        if !(self.repeat_days >= 0.0 && self.repeat_days <= 90.0) {
            return Some(format!(
                "incidents.repeat_days must be in [0, 90], got {}",
                self.repeat_days
            ));
        }
        None
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_citizens: 3,
            radius_m: 300.0,
            window_hours: 48.0,
            min_similarity: 0.2,
            repeat_days: 7.0,
        }
    }
}

/// Where a report is: coordinates from the channel, else the address it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Place {
    Point { lat: f64, lon: f64 },
    Address(AddressKey),
}

/// What the rule needs of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: uuid::Uuid,
    /// Who wrote it, as the channel knows them (chat or account), so two channels' accounts of
    /// one person still count twice: no channel tells them apart.
    pub citizen: String,
    pub at: DateTime<Utc>,
    /// The topic set, else the one suggested.
    pub topic: Option<String>,
    /// Its coordinates and the address it names, either or both: a report with both is where
    /// coordinates and addresses meet (there is no geocoder).
    pub places: Vec<Place>,
    pub words: Words,
    pub open: bool,
}

/// Stem counts of a text, for the cosine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Words(BTreeMap<String, f64>);

/// Words that say nothing of the reason: function words, greetings and pleas every appeal
/// has, and the words of an address (the place is compared on its own). Without them two
/// appeals about different things at the same house read as similar.
const STOP: &[&str] = &[
    "в",
    "во",
    "на",
    "и",
    "а",
    "но",
    "у",
    "с",
    "со",
    "к",
    "ко",
    "о",
    "об",
    "по",
    "за",
    "из",
    "от",
    "до",
    "не",
    "ни",
    "же",
    "ли",
    "бы",
    "что",
    "это",
    "как",
    "так",
    "для",
    "при",
    "мы",
    "вы",
    "я",
    "он",
    "она",
    "они",
    "оно",
    "его",
    "ее",
    "их",
    "нас",
    "вас",
    "нам",
    "вам",
    "мне",
    "меня",
    "наш",
    "наши",
    "уже",
    "еще",
    "очень",
    "все",
    "весь",
    "вся",
    "просто",
    "там",
    "тут",
    "где",
    "когда",
    "который",
    "которая",
    "которые",
    "есть",
    "был",
    "была",
    "было",
    "были",
    "будет",
    "можно",
    "нужно",
    "надо",
    "просим",
    "прошу",
    "пожалуйста",
    "помогите",
    "здравствуйте",
    "добрый",
    "доброе",
    "день",
    "утро",
    "вечер",
    "уважаемые",
    "уважаемая",
    "уважаемый",
    "администрация",
    "власти",
    "сотрудники",
    "мцу",
    "спасибо",
    "город",
    "краснодар",
    "адрес",
    "адресу",
    "улица",
    "ул",
    "проспект",
    "пр",
    "переулок",
    "пер",
    "бульвар",
    "шоссе",
    "площадь",
    "проезд",
    "набережная",
    "микрорайон",
    "мкр",
    "дом",
    "д",
    "кв",
    "квартира",
    "район",
    "возле",
    "рядом",
    "около",
    "напротив",
    "этот",
    "эта",
    "этом",
    "этой",
    "сколько",
    "можно",
    // Where the citizen is and how urgent they feel, not what is wrong.
    "опять",
    "снова",
    "срочно",
    "здесь",
    "вот",
    "прямо",
    "отправляю",
    "геолокация",
    "геолокацию",
    "локация",
    "местоположение",
    "примите",
    "меры",
];

fn stop_stems() -> &'static std::collections::HashSet<String> {
    static STEMS: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    STEMS.get_or_init(|| STOP.iter().flat_map(|w| terms(w)).collect())
}

impl Words {
    pub fn of(text: &str) -> Words {
        let mut m = BTreeMap::new();
        let stop = stop_stems();
        // One-letter words and numbers (house numbers, bus routes) say nothing of the reason.
        // «ул.Береговая» is two words, not one rare one.
        let text = text.replace('.', " ");
        for t in terms(&text).filter(|t| {
            t.chars().count() > 1 && !t.chars().all(|c| c.is_ascii_digit()) && !stop.contains(t)
        }) {
            *m.entry(t).or_insert(0.0) += 1.0;
        }
        Words(m)
    }

    /// The counts weighted by how rare each word is among the city's recent requests (TF-IDF):
    /// «вода» in every utilities appeal says less than «прорыв».
    pub fn weighted(mut self, idf: &Idf) -> Words {
        for (w, v) in self.0.iter_mut() {
            *v *= idf.of(w);
        }
        self
    }

    /// The sum of `words`, each to unit length: a group's words together.
    pub fn sum<'a>(words: impl IntoIterator<Item = &'a Words>) -> Words {
        let mut m: BTreeMap<String, f64> = BTreeMap::new();
        for w in words {
            let norm = w.0.values().map(|v| v * v).sum::<f64>().sqrt();
            if norm == 0.0 {
                continue;
            }
            for (k, v) in &w.0 {
                *m.entry(k.clone()).or_insert(0.0) += v / norm;
            }
        }
        Words(m)
    }

    pub fn cosine(&self, other: &Words) -> f64 {
        let dot: f64 = self
            .0
            .iter()
            .filter_map(|(k, a)| other.0.get(k).map(|b| a * b))
            .sum();
        let norm = |w: &Words| w.0.values().map(|v| v * v).sum::<f64>().sqrt();
        let n = norm(self) * norm(other);
        if n == 0.0 { 0.0 } else { dot / n }
    }
}

/// How rare each word is among a set of requests: ln((1 + N) / (1 + df)) + 1, the smoothed
/// inverse document frequency; a word never seen weighs most.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Idf {
    docs: usize,
    df: std::collections::HashMap<String, u32>,
}

impl Idf {
    pub fn learn<'a>(docs: impl IntoIterator<Item = &'a Words>) -> Idf {
        let mut idf = Idf::default();
        for d in docs {
            idf.docs += 1;
            for w in d.0.keys() {
                *idf.df.entry(w.clone()).or_insert(0) += 1;
            }
        }
        idf
    }

    pub fn of(&self, word: &str) -> f64 {
        let df = self.df.get(word).copied().unwrap_or(0) as f64;
        ((1.0 + self.docs as f64) / (1.0 + df)).ln() + 1.0
    }
}

/// Whether two places are one: within `radius_m`, or the same address key. A point and an
/// address can't be compared (no geocoder), so they are not.
pub fn same_place(a: &Place, b: &Place, radius_m: f64) -> bool {
    match (a, b) {
        (Place::Point { lat: la, lon: oa }, Place::Point { lat: lb, lon: ob }) => {
            distance_m(*la, *oa, *lb, *ob) <= radius_m
        }
        (Place::Address(x), Place::Address(y)) => x == y && x.house.is_some(),
        _ => false,
    }
}

/// The streets `places` name (kind and name).
pub fn streets(places: &[Place]) -> impl Iterator<Item = (super::address::StreetKind, &str)> + '_ {
    places.iter().filter_map(|p| match p {
        Place::Address(k) => Some((k.kind, k.street.as_str())),
        Place::Point { .. } => None,
    })
}

/// Whether two reports are at one place: any place of one is any place of the other, unless
/// they name different streets. A citizen's coordinates are where they stood, the street they
/// name is where the problem is: two reports 200 m apart about «Уральская, 30» and
/// «Черкасская, 47» are two places. Houses of one street within the radius may still be one
/// burst pipe.
pub fn same_places(a: &[Place], b: &[Place], radius_m: f64) -> bool {
    // Every pair of reports the search compares passes here: no allocation.
    let named = |ps: &[Place]| streets(ps).next().is_some();
    if named(a) && named(b) && !streets(a).any(|x| streets(b).any(|y| x == y)) {
        return false;
    }
    a.iter()
        .any(|p| b.iter().any(|q| same_place(p, q, radius_m)))
}

/// Whether `other` belongs with `new` under `rules`: place, time, topic and text.
pub fn belongs(new: &Report, other: &Report, rules: &Rules) -> bool {
    let window = Duration::milliseconds((rules.window_hours * 3_600_000.0) as i64);
    new.topic.is_some()
        && new.topic == other.topic
        && (new.at - other.at).abs() <= window
        && same_places(&new.places, &other.places, rules.radius_m)
        && new.words.cosine(&other.words) >= rules.min_similarity
}

/// The candidate group `new` forms with `neighbours` (what an index on place and time found):
/// the members, `new` first, when they are at least `min_citizens` distinct citizens.
pub fn candidate<'a>(
    new: &'a Report,
    neighbours: impl IntoIterator<Item = &'a Report>,
    rules: &Rules,
) -> Option<Vec<uuid::Uuid>> {
    let members: Vec<&Report> = std::iter::once(new)
        .chain(
            neighbours
                .into_iter()
                .filter(|o| o.id != new.id && belongs(new, o, rules)),
        )
        .collect();
    let citizens: BTreeSet<&str> = members.iter().map(|r| r.citizen.as_str()).collect();
    (citizens.len() >= rules.min_citizens.max(2)).then(|| members.iter().map(|r| r.id).collect())
}

/// The citizen's own open request `new` repeats, if any: same citizen, open, within
/// `repeat_days`, and similar text or the same place. The most similar wins.
pub fn repeat_of(new: &Report, theirs: &[Report], rules: &Rules) -> Option<uuid::Uuid> {
    let window = Duration::milliseconds((rules.repeat_days * 86_400_000.0) as i64);
    theirs
        .iter()
        .filter(|o| o.id != new.id && o.open && o.citizen == new.citizen)
        .filter(|o| (new.at - o.at).abs() <= window)
        .map(|o| {
            let same_place = same_places(&new.places, &o.places, rules.radius_m);
            (o, new.words.cosine(&o.words), same_place)
        })
        .filter(|(_, sim, place)| *sim >= rules.min_similarity || *place)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(o, _, _)| o.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
    }

    /// A report `metres_north` of one point, `hours` after `t0`.
    fn report(n: u128, citizen: &str, metres_north: f64, hours: f64, text: &str) -> Report {
        Report {
            id: uuid::Uuid::from_u128(n),
            citizen: citizen.into(),
            at: t0() + Duration::milliseconds((hours * 3_600_000.0) as i64),
            topic: Some("utilities".into()),
            places: vec![Place::Point {
                lat: 45.0355 + metres_north / 111_195.0,
                lon: 38.9753,
            }],
            words: Words::of(text),
            open: true,
        }
    }

    const PIPE: &str = "Прорвало трубу, вода заливает двор";

    #[test]
    fn three_citizens_make_a_group_two_do_not() {
        let rules = Rules::default();
        let new = report(1, "a", 0.0, 0.0, PIPE);
        let others = [
            report(2, "b", 100.0, -1.0, "Во дворе прорвало трубу, всё в воде"),
            report(3, "c", 200.0, -2.0, "Прорыв трубы, заливает двор водой"),
        ];
        let group = candidate(&new, &others, &rules).expect("three citizens");
        assert_eq!(group.len(), 3);
        // The same citizen twice counts once.
        let same = [
            report(2, "b", 100.0, -1.0, PIPE),
            report(3, "b", 200.0, -2.0, PIPE),
        ];
        assert_eq!(candidate(&new, &same, &rules), None);
    }

    #[test]
    fn the_radius_the_window_the_topic_and_the_text_are_edges() {
        let rules = Rules::default();
        let new = report(1, "a", 0.0, 0.0, PIPE);
        let near = report(2, "b", 299.0, -47.9, PIPE);
        assert!(belongs(&new, &near, &rules));
        assert!(!belongs(&new, &report(2, "b", 301.0, 0.0, PIPE), &rules));
        assert!(!belongs(&new, &report(2, "b", 0.0, -48.1, PIPE), &rules));
        assert!(!belongs(&new, &report(2, "b", 0.0, 48.1, PIPE), &rules));
        let mut other_topic = near.clone();
        other_topic.topic = Some("roads".into());
        assert!(!belongs(&new, &other_topic, &rules));
        // Nearby, at the same time, about something else.
        assert!(!belongs(
            &new,
            &report(2, "b", 10.0, 0.0, "Не вывозят мусор с площадки"),
            &rules
        ));
        let strict = Rules {
            min_similarity: 0.99,
            ..Rules::default()
        };
        assert!(!belongs(
            &new,
            &report(2, "b", 10.0, 0.0, "Во дворе прорвало трубу"),
            &strict
        ));
    }

    #[test]
    fn an_address_meets_the_same_address_not_a_point() {
        let rules = Rules::default();
        let at = |n: u128, citizen: &str, text: &str| Report {
            places: super::super::address::key(text)
                .map(Place::Address)
                .into_iter()
                .collect(),
            ..report(n, citizen, 0.0, 0.0, text)
        };
        let new = at(1, "a", "Прорвало трубу, ул. Красная, 122");
        assert!(belongs(
            &new,
            &at(2, "b", "на Красной улице д. 122 прорвало трубу"),
            &rules
        ));
        assert!(!belongs(
            &new,
            &at(2, "b", "Прорвало трубу, ул. Красная, 124"),
            &rules
        ));
        assert!(!belongs(&new, &report(2, "b", 0.0, 0.0, PIPE), &rules));
    }

    #[test]
    fn a_citizen_writing_again_is_a_repeat_of_their_open_request() {
        let rules = Rules::default();
        let new = report(
            1,
            "a",
            0.0,
            0.0,
            "Трубу так и не починили, вода заливает двор",
        );
        let mut closed = report(2, "a", 0.0, -5.0, PIPE);
        closed.open = false;
        let theirs = [
            closed,
            report(3, "a", 0.0, -24.0, PIPE),
            report(4, "b", 0.0, -1.0, PIPE),
        ];
        assert_eq!(
            repeat_of(&new, &theirs, &rules),
            Some(uuid::Uuid::from_u128(3))
        );
        // A week and more later it is a new case.
        let old = [report(3, "a", 0.0, -24.0 * 7.5, PIPE)];
        assert_eq!(repeat_of(&new, &old, &rules), None);
    }

    #[test]
    fn a_report_with_both_a_point_and_an_address_joins_the_two_kinds() {
        let rules = Rules::default();
        let point_only = report(1, "a", 0.0, 0.0, PIPE);
        let mut address_only = report(2, "b", 0.0, 1.0, PIPE);
        address_only.places = vec![Place::Address(
            super::super::address::key("ул. Красная, 122").unwrap(),
        )];
        assert!(!belongs(&point_only, &address_only, &rules));
        let mut both = report(3, "c", 100.0, 2.0, PIPE);
        both.places.push(address_only.places[0].clone());
        assert!(belongs(&both, &point_only, &rules));
        assert!(belongs(&both, &address_only, &rules));
        let group = candidate(&both, &[point_only, address_only], &rules).unwrap();
        assert_eq!(group.len(), 3);
    }

    #[test]
    fn near_points_naming_different_streets_are_two_places() {
        let rules = Rules::default();
        let named = |n: u128, metres: f64, address: &str| {
            let mut r = report(n, &format!("c{n}"), metres, 0.0, PIPE);
            r.places
                .push(Place::Address(super::super::address::key(address).unwrap()));
            r
        };
        let a = named(1, 0.0, "ул. Уральская, 30");
        // 100 m apart: another house of the same street may be the same burst pipe.
        assert!(belongs(&a, &named(2, 100.0, "ул. Уральская, 34"), &rules));
        // Another street is another place, however near the citizen stood.
        assert!(!belongs(&a, &named(3, 100.0, "ул. Черкасская, 47"), &rules));
        // Coordinates alone still meet either.
        assert!(belongs(&a, &report(4, "d", 100.0, 0.0, PIPE), &rules));
    }

    #[test]
    fn an_address_written_together_is_its_words_and_a_plea_is_no_reason() {
        let glued = Words::of("ул.Береговая 133 прорвало трубу");
        let apart = Words::of("ул. Береговая 133 прорвало трубу");
        assert_eq!(glued, apart);
        // «Опять», «срочно», «отправляю геолокацию» say nothing of what is wrong.
        assert_eq!(
            Words::of("Срочно! Опять прорвало трубу, отправляю геолокацию"),
            Words::of("прорвало трубу")
        );
    }
}
