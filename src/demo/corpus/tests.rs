use std::collections::{HashMap, HashSet};

use super::*;

/// The shipped catalog's table (assets/catalog.toml), written out independently of `TOPICS`.
const DESIGN_DEFAULTS: &[(&str, Option<&str>)] = &[
    ("utilities", Some("city_economy")),
    ("roads", Some("transport_roads")),
    ("urban", Some("city_economy")),
    ("transport", Some("transport_roads")),
    ("waste", Some("city_economy")),
    ("animals", Some("veterinary")),
    ("construction", Some("architecture")),
    ("social", Some("social")),
    ("trade", Some("consumer")),
    ("public_order", Some("police")),
    ("communications", Some("other")),
    ("other", Some("mcu")),
    ("out_of_scope", None),
];

fn sample(seed: u64, n: usize) -> Vec<SampleRequest> {
    Generator::new(seed).take(n).collect()
}

#[test]
fn prng_is_splitmix64() {
    let mut g = Generator::new(0);
    assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
    assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
}

#[test]
fn same_seed_same_sequence() {
    assert_eq!(sample(42, 2000), sample(42, 2000));
    let mut a = Generator::new(7);
    let mut b = Generator::new(7);
    for topic in ["roads", "utilities", "nonsense"] {
        assert_eq!(a.follow_up(topic), b.follow_up(topic));
    }
}

#[test]
fn different_seeds_differ() {
    let a = sample(1, 200);
    let b = sample(2, 200);
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert!(same < 5, "{same} identical requests out of 200");
}

#[test]
fn topic_mix_follows_the_article() {
    let reqs = sample(2024, 20_000);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in &reqs {
        *counts.entry(r.topic).or_default() += 1;
    }
    for (topic, _) in DESIGN_DEFAULTS {
        assert!(
            counts.get(topic).copied().unwrap_or(0) > 0,
            "topic {topic} never generated"
        );
    }
    assert_eq!(
        counts.len(),
        DESIGN_DEFAULTS.len(),
        "unknown topic ids: {counts:?}"
    );
    let top = counts["utilities"].min(counts["roads"]);
    for (topic, n) in &counts {
        if *topic != "utilities" && *topic != "roads" {
            assert!(
                *n < top,
                "{topic} ({n}) outnumbers utilities or roads ({top})"
            );
        }
    }
    let head = counts["utilities"] + counts["roads"];
    assert!(head * 100 / reqs.len() >= 35, "utilities+roads only {head}");
    // The article's order for the next three.
    assert!(counts["urban"] > counts["animals"]);
    assert!(counts["transport"] > counts["animals"]);
    assert!(counts["waste"] > counts["animals"]);
    let oos = counts["out_of_scope"] as f64 / reqs.len() as f64;
    assert!((0.03..=0.08).contains(&oos), "out_of_scope share {oos}");
}

#[test]
fn departments_match_design_defaults() {
    let table: HashMap<_, _> = DESIGN_DEFAULTS.iter().copied().collect();
    for t in &TOPICS {
        assert_eq!(table[t.id], t.department, "topic {}", t.id);
    }
    for r in sample(5, 20_000) {
        assert_eq!(r.department, table[r.topic], "topic {}", r.topic);
        if r.topic == "out_of_scope" {
            assert_eq!(r.department, None);
        }
    }
    assert_eq!(TOPICS.iter().map(|t| t.weight).sum::<u64>(), 1000);
}

#[test]
fn coordinates_inside_krasnodar() {
    for s in places::STREETS {
        assert!(
            (LAT_MIN..=LAT_MAX).contains(&s.lat) && (LON_MIN..=LON_MAX).contains(&s.lon),
            "{}",
            s.nom
        );
    }
    for m in places::MICROS {
        assert!(
            (LAT_MIN..=LAT_MAX).contains(&m.lat) && (LON_MIN..=LON_MAX).contains(&m.lon),
            "{}",
            m.addr
        );
    }
    let mut with_geo = 0;
    for r in sample(11, 20_000) {
        assert_eq!(r.lat.is_some(), r.lon.is_some());
        if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
            with_geo += 1;
            assert!((44.98..=45.12).contains(&lat), "lat {lat}");
            assert!((38.90..=39.15).contains(&lon), "lon {lon}");
        }
    }
    assert!(
        with_geo > 5_000 && with_geo < 18_000,
        "{with_geo} geotagged"
    );
}

#[test]
fn texts_are_clean_and_sized() {
    let reqs = sample(3, 100_000);
    let mut in_range = 0;
    let mut long = 0;
    for r in &reqs {
        let t = &r.text;
        assert!(!t.chars().any(char::is_control), "control char in {t:?}");
        assert!(
            !t.contains('{') && !t.contains('}'),
            "unfilled slot in {t:?}"
        );
        assert!(!t.contains("  "), "double space in {t:?}");
        assert!(!t.starts_with(' ') && !t.ends_with(' '), "{t:?}");
        let n = t.chars().count();
        assert!((15..=2200).contains(&n), "{n} chars: {t:?}");
        if (60..=600).contains(&n) {
            in_range += 1;
        }
        if n > 800 {
            long += 1;
        }
        assert!(!r.citizen.is_empty() && !r.citizen.chars().any(char::is_control));
        if let Some(a) = &r.address {
            assert!(!a.is_empty() && !a.chars().any(char::is_control));
        }
    }
    assert!(
        in_range * 100 / reqs.len() >= 85,
        "only {in_range} of {} in 60..=600 chars",
        reqs.len()
    );
    assert!(long > 0, "no long requests at all");
}

#[test]
fn texts_are_varied() {
    let reqs = sample(9, 2000);
    let distinct: HashSet<&str> = reqs.iter().map(|r| r.text.as_str()).collect();
    assert!(
        distinct.len() >= 500,
        "only {} distinct texts",
        distinct.len()
    );
    let citizens: HashSet<&str> = reqs.iter().map(|r| r.citizen.as_str()).collect();
    assert!(
        citizens.len() >= 300,
        "only {} distinct citizens",
        citizens.len()
    );
    assert!(citizens.iter().any(|c| c.starts_with('@')));
}

#[test]
fn word_forms_of_one_root_appear() {
    let mut words: HashSet<String> = HashSet::new();
    for r in sample(17, 20_000) {
        for w in r.text.split(|c: char| !c.is_alphabetic()) {
            if !w.is_empty() {
                words.insert(w.to_lowercase());
            }
        }
    }
    for w in [
        "яма",
        "ямы",
        "яму",
        "ямой",
        "ям",
        "яме",
        "ямах",
        "ямами",
        "труба",
        "трубу",
        "трубы",
        "трубой",
        "трубе",
        "труб",
        "вода",
        "воды",
        "воду",
        "водой",
        "мусор",
        "мусора",
        "мусором",
        "кабан",
        "сервала",
    ] {
        assert!(words.contains(w), "word form {w:?} never generated");
    }
}

#[test]
fn every_template_uses_known_slots() {
    const KNOWN: &[&str] = &[
        "at",
        "since",
        "recent",
        "part",
        "wait",
        "days",
        "stop",
        "g",
        "rg",
        "route",
        "route_gen",
        "route_loc",
        "route_acc",
        "clock",
        "heat",
        "school",
    ];
    let mut lists: Vec<&[&str]> = Vec::new();
    for t in &TOPICS {
        assert!(!t.themes.is_empty() && !t.follow.is_empty(), "{}", t.id);
        for th in t.themes {
            assert!(!th.cores.is_empty() && !th.details.is_empty(), "{}", t.id);
            assert!(th.details.len() + t.common.len() <= 64);
            lists.extend([th.cores, th.details]);
        }
        lists.extend([t.common, t.follow]);
    }
    lists.extend([
        tail::HISTORY,
        tail::HISTORY_HOUSING,
        tail::GENERIC_FOLLOW_BAD,
        tail::GENERIC_FOLLOW_GOOD,
        LONG_EXTRA,
    ]);
    for list in lists {
        for tpl in list {
            let mut rest = *tpl;
            while let Some(open) = rest.find('{') {
                let close = rest[open..].find('}').expect(tpl) + open;
                let key = &rest[open + 1..close];
                assert!(KNOWN.contains(&key), "unknown slot {key:?} in {tpl:?}");
                rest = &rest[close + 1..];
            }
            assert!(!rest.contains('}'), "{tpl:?}");
        }
    }
    // The frequent topics carry many templates.
    for t in TOPICS.iter().take(5) {
        let n: usize = t.themes.iter().map(|th| th.cores.len()).sum();
        assert!(n >= 15, "{} has {n} templates", t.id);
    }
}

#[test]
fn follow_ups_read_well() {
    let mut g = Generator::new(99);
    let mut seen = HashSet::new();
    for (topic, _) in DESIGN_DEFAULTS
        .iter()
        .chain([("no_such_topic", None)].iter())
    {
        for _ in 0..50 {
            let t = g.follow_up(topic);
            assert!(t.chars().count() >= 8, "{t:?}");
            assert!(
                !t.contains('{') && !t.chars().any(char::is_control),
                "{t:?}"
            );
            seen.insert(t);
        }
    }
    assert!(seen.len() > 100, "only {} distinct follow-ups", seen.len());
}

#[test]
fn uniform_helpers() {
    let mut g = Generator::new(1);
    assert_eq!(g.below(0), 0);
    let mut hist = [0u32; 6];
    for _ in 0..60_000 {
        let x = g.below(6);
        hist[x as usize] += 1;
    }
    assert!(
        hist.iter().all(|&h| (9_000..11_000).contains(&h)),
        "{hist:?}"
    );
    assert!(!g.chance(0.0));
    assert!(g.chance(1.0));
    let hits = (0..10_000).filter(|_| g.chance(0.25)).count();
    assert!((2_200..2_800).contains(&hits), "{hits}");
}

#[test]
fn surnames_follow_gender() {
    let mut s = String::new();
    for (masc, fem) in [
        ("Петров", "Петрова"),
        ("Полянский", "Полянская"),
        ("Чепурной", "Чепурная"),
        ("Шевченко", "Шевченко"),
        ("Саркисян", "Саркисян"),
        ("Ильин", "Ильина"),
    ] {
        s.clear();
        places::push_surname(&mut s, masc, true);
        assert_eq!(s, fem);
    }
}
