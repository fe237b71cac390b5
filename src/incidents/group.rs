//! Groups judged as a whole. Pair by pair, a burst pipe told in a dozen wordings falls apart:
//! «лопнула труба, вода идёт потоком» and «хлещет вода из-под земли, похоже порыв» share
//! little, though each shares much with the rest. The group's words together (its centroid)
//! hold every wording, so a report at the group's place that reads like the group joins it,
//! and two pieces at one place that read alike are one group.

use chrono::Duration;

use std::collections::BTreeSet;

use super::address::StreetKind;
use super::rule::{Report, Rules, Words, same_places, streets};

/// Grows `groups` (indices into `reports`, each at least `min_citizens` distinct citizens
/// already) by the reports `neighbours` gives for a report (those near it in place; the
/// caller leaves out any not free to join), and merges groups that meet. A report joins a
/// group when it is at the place of one of the group's members, within the window of that
/// member, on the group's topic, and its text's cosine with the group's centroid reaches
/// `min_similarity`; two groups merge on the same terms, centroid to centroid. Deterministic:
/// groups and reports are visited in index order.
pub fn grow(
    mut groups: Vec<Vec<usize>>,
    reports: &[&Report],
    neighbours: impl Fn(usize) -> Vec<usize>,
    rules: &Rules,
) -> Vec<Vec<usize>> {
    let window = Duration::milliseconds((rules.window_hours * 3_600_000.0) as i64);
    let mut owner: Vec<Option<usize>> = vec![None; reports.len()];
    for (g, members) in groups.iter().enumerate() {
        for &m in members {
            owner[m] = Some(g);
        }
    }
    // A group is at the streets its members name; a report naming another joins none of
    // its members, even through one who sent coordinates only.
    let streets_of = |members: &[usize]| -> BTreeSet<(StreetKind, &str)> {
        members
            .iter()
            .flat_map(|&m| streets(&reports[m].places))
            .collect()
    };
    let apart = |x: &BTreeSet<(StreetKind, &str)>, y: &BTreeSet<(StreetKind, &str)>| {
        !x.is_empty() && !y.is_empty() && x.is_disjoint(y)
    };
    let meets = |m: usize, j: usize| {
        let (a, b) = (reports[m], reports[j]);
        a.topic.is_some()
            && a.topic == b.topic
            && (a.at - b.at).abs() <= window
            && same_places(&a.places, &b.places, rules.radius_m)
    };
    // Each pass can only add members or remove groups, so it ends; a few passes settle it.
    for _ in 0..4 {
        let mut changed = false;
        for g in 0..groups.len() {
            if groups[g].is_empty() {
                continue;
            }
            let mut centroid = centroid_of(&groups[g], reports);
            let mut at = streets_of(&groups[g]);
            let mut i = 0;
            while i < groups[g].len() {
                let m = groups[g][i];
                i += 1;
                for j in neighbours(m) {
                    if owner[j] == Some(g) || !meets(m, j) {
                        continue;
                    }
                    match owner[j] {
                        None if !apart(&at, &streets_of(&[j]))
                            && centroid.cosine(&reports[j].words) >= rules.min_similarity =>
                        {
                            groups[g].push(j);
                            owner[j] = Some(g);
                        }
                        Some(h)
                            if !apart(&at, &streets_of(&groups[h]))
                                && centroid.cosine(&centroid_of(&groups[h], reports))
                                    >= rules.min_similarity =>
                        {
                            let moved = std::mem::take(&mut groups[h]);
                            for &k in &moved {
                                owner[k] = Some(g);
                            }
                            groups[g].extend(moved);
                        }
                        _ => continue,
                    }
                    centroid = centroid_of(&groups[g], reports);
                    at = streets_of(&groups[g]);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    groups.retain(|g| !g.is_empty());
    for g in &mut groups {
        g.sort_unstable();
    }
    groups
}

/// The members' words, each to unit length so a long appeal weighs no more than a short one.
fn centroid_of(members: &[usize], reports: &[&Report]) -> Words {
    Words::sum(members.iter().map(|&m| &reports[m].words))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::Place;
    use chrono::{TimeZone, Utc};

    fn report(n: u128, metres_north: f64, hours: f64, topic: &str, text: &str) -> Report {
        Report {
            id: uuid::Uuid::from_u128(n),
            citizen: format!("c{n}"),
            at: Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap()
                + Duration::minutes((hours * 60.0) as i64),
            topic: Some(topic.into()),
            places: vec![Place::Point {
                lat: 45.0 + metres_north / 111_195.0,
                lon: 39.0,
            }],
            words: Words::of(text),
            open: true,
        }
    }

    fn everyone(reports: &[&Report]) -> impl Fn(usize) -> Vec<usize> {
        let n = reports.len();
        move |_| (0..n).collect()
    }

    #[test]
    fn a_wording_unlike_each_member_but_like_the_group_joins_it() {
        let rs = [
            report(0, 0.0, 0.0, "utilities", "прорвало трубу затопило двор"),
            report(1, 20.0, 0.5, "utilities", "хлещет трубу фонтаном поток"),
            report(2, 40.0, 1.0, "utilities", "лопнула трубу подъезд асфальт"),
            // Shares one word with each member: with all three together, it reads alike.
            report(3, 60.0, 1.5, "utilities", "трубу прорыв подвал грязь"),
        ];
        let refs: Vec<&Report> = rs.iter().collect();
        let rules = Rules {
            min_similarity: 0.3,
            ..Rules::default()
        };
        for i in 0..3 {
            assert!(rs[3].words.cosine(&rs[i].words) < 0.3, "pair {i}");
        }
        let grown = grow(vec![vec![0, 1, 2]], &refs, everyone(&refs), &rules);
        assert_eq!(grown, vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn place_window_and_topic_still_bound_the_group() {
        let rs = [
            report(0, 0.0, 0.0, "utilities", "прорвало трубу вода хлещет"),
            report(1, 20.0, 0.5, "utilities", "прорвало трубу вода течёт"),
            report(2, 40.0, 1.0, "utilities", "прорвало трубу хлещет"),
            report(3, 2_000.0, 1.0, "utilities", "прорвало трубу вода хлещет"),
            report(4, 10.0, 60.0, "utilities", "прорвало трубу вода хлещет"),
            report(5, 10.0, 1.0, "roads", "прорвало трубу вода хлещет"),
            report(6, 10.0, 1.0, "utilities", "яма на дороге колёса"),
        ];
        let refs: Vec<&Report> = rs.iter().collect();
        let grown = grow(
            vec![vec![0, 1, 2]],
            &refs,
            everyone(&refs),
            &Rules::default(),
        );
        assert_eq!(grown, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn two_pieces_at_one_place_that_read_alike_are_one_group() {
        let rs = [
            report(0, 0.0, 0.0, "utilities", "прорвало трубу вода хлещет"),
            report(1, 20.0, 0.5, "utilities", "прорвало трубу вода течёт"),
            report(2, 40.0, 1.0, "utilities", "прорвало трубу хлещет"),
            report(3, 60.0, 1.0, "utilities", "порыв трубы вода хлещет потоком"),
            report(4, 80.0, 1.5, "utilities", "порыв трубы вода потоком"),
            report(5, 90.0, 1.5, "utilities", "порыв трубы потоком двор"),
        ];
        let refs: Vec<&Report> = rs.iter().collect();
        let grown = grow(
            vec![vec![0, 1, 2], vec![3, 4, 5]],
            &refs,
            everyone(&refs),
            &Rules::default(),
        );
        assert_eq!(grown, vec![vec![0, 1, 2, 3, 4, 5]]);
    }
}
