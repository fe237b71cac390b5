//! Staged mass incidents: a burst pipe at one house reported by several citizens in their own
//! words, some with coordinates (not always naming the house), some naming the house only in
//! the way people write addresses, with unrelated reports at the same house between them. The
//! demo's simulator sends them across its channels; the incidents benchmark plants them in a
//! month of ordinary requests. Deterministic for a seed.

use super::corpus::Generator;

/// One report of a staged incident (or an unrelated one beside it).
#[derive(Debug, Clone, PartialEq)]
pub struct StagedReport {
    pub citizen: String,
    pub text: String,
    /// As a form's address field has it (the platform's); the text may name it too.
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub topic: &'static str,
    /// Part of the incident (false: an unrelated report at the same house).
    pub member: bool,
}

/// Streets whose names decline like adjectives: «ул. Северная» = «на северной улице».
const STREETS: [(&str, &str); 10] = [
    ("Северная", "северной"),
    ("Садовая", "садовой"),
    ("Школьная", "школьной"),
    ("Рашпилевская", "рашпилевской"),
    ("Ставропольская", "ставропольской"),
    ("Кубанская", "кубанской"),
    ("Московская", "московской"),
    ("Береговая", "береговой"),
    ("Тургеневская", "тургеневской"),
    ("Фабричная", "фабричной"),
];

/// Ways a citizen reports a burst pipe; `{a}` is where, as they write it.
const PIPE: [&str; 14] = [
    "Прорвало трубу у дома {a}, вода хлещет на дорогу!",
    "{a} — порыв водопровода, вода течёт по двору уже час",
    "Во дворе дома {a} прорыв трубы, затопило подвал, воды в кранах нет",
    "Срочно! {a}: прорвало водопровод, вода бьёт из-под асфальта",
    "Нет холодной воды, у дома {a} из трубы хлещет вода",
    "{a}: течь из трубы, вода заливает тротуар, примите меры",
    "Порыв трубы возле дома {a}, вода стоит во дворе озером",
    "У нас {a} лопнула труба, вода идёт потоком",
    "Прорыв водопровода {a}, вода уходит в подвал, когда починят трубу?",
    "Вода из прорванной трубы затопила двор, адрес: {a}",
    "Опять прорвало трубу, {a}, вода везде",
    "Хлещет вода из-под земли у дома {a}, похоже порыв трубы",
    "Из трубы во дворе {a} фонтаном бьёт вода, нет воды в квартирах",
    "Прорвало водопроводную трубу {a}, вода течёт к подъездам",
];

/// The same complaints without the house: what people write when they send their location.
const PIPE_HERE: [&str; 5] = [
    "Прорвало трубу прямо тут, вода хлещет на дорогу",
    "Здесь порыв водопровода, вода течёт по двору",
    "Труба лопнула, вода идёт потоком, отправляю геолокацию",
    "Вот здесь прорыв трубы, вода бьёт из-под асфальта",
    "Хлещет вода из трубы, двор затоплен",
];

/// Other problems at the same house: near in place and time, not the same incident.
const UNRELATED: [(&str, &str); 4] = [
    ("roads", "Яма на дороге у дома {a}, машины бьют колёса"),
    (
        "waste",
        "Не вывозят мусор возле {a}, контейнеры переполнены",
    ),
    ("urban", "Во дворе {a} не горит фонарь, темно вечером"),
    ("animals", "Стая бродячих собак у дома {a}, страшно выйти"),
];

const NAMES: [&str; 16] = [
    "Ольга Котова",
    "Сергей Иванов",
    "Марина Белова",
    "Андрей Ким",
    "Наталья Гусева",
    "Игорь Попов",
    "Елена Сидорова",
    "Павел Орлов",
    "Татьяна Лебедева",
    "Алексей Морозов",
    "Ирина Волкова",
    "Дмитрий Зайцев",
    "Юлия Соколова",
    "Виктор Никитин",
    "Анна Смирнова",
    "Роман Егоров",
];

const LAT: (f64, f64) = (44.99, 45.11);
const LON: (f64, f64) = (38.91, 39.14);

fn unit(g: &mut Generator) -> f64 {
    g.below(1 << 30) as f64 / (1u64 << 30) as f64
}

/// A burst pipe at a house of its own: `members` reports from distinct citizens, then
/// `unrelated` other problems at the same house, interleaved at random. Of the members, half
/// send coordinates (within about 60 m of the house); the first of those and half the rest
/// name the house too.
pub fn incident(g: &mut Generator, members: usize, unrelated: usize) -> Vec<StagedReport> {
    let (street, declined) = STREETS[g.below(STREETS.len() as u64) as usize];
    let house = 1 + g.below(300);
    let lat = LAT.0 + unit(g) * (LAT.1 - LAT.0);
    let lon = LON.0 + unit(g) * (LON.1 - LON.0);
    let forms = [
        format!("ул. {street}, {house}"),
        format!("{street} ул {house}"),
        format!("на {declined} улице, д. {house}"),
        format!("улица {street}, дом {house}"),
        format!("ул.{street} {house}"),
    ];
    let first_name = g.below(NAMES.len() as u64) as usize;
    let mut out = Vec::with_capacity(members + unrelated);
    let mut phrasings: Vec<usize> = (0..PIPE.len()).collect();
    for i in 0..members {
        let k = g.below(phrasings.len() as u64) as usize;
        let phrasing = phrasings.swap_remove(k);
        if phrasings.is_empty() {
            phrasings = (0..PIPE.len()).collect();
        }
        let form = &forms[g.below(forms.len() as u64) as usize];
        let with_point = i % 2 == 1;
        // The first with coordinates names the house as well: where the two kinds meet (a
        // platform's form has both; there is no geocoder).
        let names_house = !with_point || i == 1 || g.chance(0.5);
        let text = if names_house {
            PIPE[phrasing].replace("{a}", form)
        } else {
            PIPE_HERE[g.below(PIPE_HERE.len() as u64) as usize].to_string()
        };
        // Within about 60 m: a degree of latitude is 111 km.
        let jitter = |g: &mut Generator| (unit(g) - 0.5) * 0.001;
        let (plat, plon) = if with_point {
            (Some(lat + jitter(g)), Some(lon + jitter(g)))
        } else {
            (None, None)
        };
        out.push(StagedReport {
            citizen: format!("{} {}", NAMES[(first_name + i) % NAMES.len()], i + 1),
            text,
            address: names_house.then(|| forms[0].clone()),
            lat: plat,
            lon: plon,
            topic: "utilities",
            member: true,
        });
    }
    for j in 0..unrelated {
        let (topic, text) = UNRELATED[j % UNRELATED.len()];
        let at = g.below(out.len() as u64 + 1) as usize;
        out.insert(
            at,
            StagedReport {
                citizen: format!(
                    "{} {}",
                    NAMES[(first_name + members + j) % NAMES.len()],
                    100 + j
                ),
                text: text.replace("{a}", &forms[0]),
                address: Some(forms[0].clone()),
                lat: None,
                lon: None,
                topic,
                member: false,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::{Place, Report, Rules, Words, address_key, candidate};

    #[test]
    fn a_staged_incident_is_one_group_and_the_unrelated_reports_stay_out() {
        for seed in 0..40 {
            let mut g = Generator::new(seed);
            let reports = incident(&mut g, 5 + (seed as usize % 8), 2);
            let at = chrono::Utc::now();
            let as_report = |i: usize, r: &StagedReport| {
                let mut places = vec![];
                if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
                    places.push(Place::Point { lat, lon });
                }
                places.extend(
                    r.address
                        .as_deref()
                        .and_then(address_key)
                        .or_else(|| address_key(&r.text))
                        .map(Place::Address),
                );
                Report {
                    id: uuid::Uuid::from_u128(i as u128),
                    citizen: r.citizen.clone(),
                    at,
                    topic: Some(r.topic.into()),
                    places,
                    words: Words::of(&r.text),
                    open: true,
                }
            };
            let all: Vec<Report> = reports
                .iter()
                .enumerate()
                .map(|(i, r)| as_report(i, r))
                .collect();
            // Every member's address (when named) reads to the one key.
            let keys: std::collections::BTreeSet<String> = reports
                .iter()
                .filter(|r| r.member && r.lat.is_none())
                .map(|r| {
                    address_key(&r.text)
                        .map(|k| k.to_string())
                        .unwrap_or_default()
                })
                .collect();
            assert_eq!(keys.len(), 1, "seed {seed}: {keys:?} {reports:#?}");
            let rules = Rules::default();
            let mut found = std::collections::BTreeSet::new();
            for r in &all {
                if let Some(m) = candidate(r, &all, &rules) {
                    found.extend(m);
                }
            }
            let members: std::collections::BTreeSet<uuid::Uuid> = reports
                .iter()
                .enumerate()
                .filter(|(_, r)| r.member)
                .map(|(i, _)| uuid::Uuid::from_u128(i as u128))
                .collect();
            assert!(found.is_subset(&members), "seed {seed}: only members group");
            assert!(
                found.len() * 5 >= members.len() * 4,
                "seed {seed}: {} of {} found",
                found.len(),
                members.len()
            );
        }
    }
}
