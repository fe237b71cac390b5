//! How good the suggestions are on labelled requests the model did not learn from: the
//! figures `mcu triage eval` prints. Pure: predictions and truths in, numbers out (the CLI
//! trains, times and predicts).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::model::{Example, Model};

/// One test request: the truth, and what the model said.
pub struct Outcome {
    pub topic: String,
    pub department: Option<String>,
    /// Topics, likeliest first (empty: no suggestion).
    pub topics: Vec<String>,
    /// Departments, likeliest first, with the suggested one's probability.
    pub departments: Vec<Option<String>>,
    pub department_probability: f64,
}

impl Outcome {
    /// What `model` says of `example`.
    pub fn of(model: &Model, example: &Example) -> Outcome {
        let (topics, departments, department_probability) = match model.probabilities(&example.text)
        {
            Some(p) => {
                let mut ranked: Vec<(usize, f64)> = p.iter().copied().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let topics: Vec<String> = ranked
                    .iter()
                    .map(|(k, _)| model.topics()[*k].clone())
                    .collect();
                let s = model.suggest_from(&p);
                let mut departments: Vec<Option<String>> =
                    model.departments(&p).into_iter().map(|(d, _)| d).collect();
                // The suggested department first (its topic's), then the rest by probability.
                let (first, q) =
                    s.map_or((None, 0.0), |s| (s.department, s.department_probability));
                departments.retain(|d| *d != first);
                departments.insert(0, first);
                (topics, departments, q)
            }
            None => (Vec::new(), Vec::new(), 0.0),
        };
        Outcome {
            topic: example.topic.clone(),
            department: example.department.clone(),
            topics,
            departments,
            department_probability,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicScores {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub top2: f64,
    pub top3: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentScores {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub top2: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub threshold: f64,
    /// Of all test requests, the share whose suggested department is at least this likely.
    pub share: f64,
    pub department_accuracy: f64,
    pub topic_accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub topic: TopicScores,
    pub department: DepartmentScores,
    pub coverage: Vec<Coverage>,
    pub per_topic: BTreeMap<String, ClassScores>,
}

pub const THRESHOLDS: [f64; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];

/// The scores of `outcomes`.
pub fn score(outcomes: &[Outcome]) -> Scores {
    let n = outcomes.len().max(1) as f64;
    let share = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count() as f64 / n;
    let topic_at = |o: &Outcome, k: usize| o.topics.iter().take(k).any(|t| *t == o.topic);
    let dept_at = |o: &Outcome, k: usize| o.departments.iter().take(k).any(|d| *d == o.department);
    let topic_pairs: Vec<(String, Option<String>)> = outcomes
        .iter()
        .map(|o| (o.topic.clone(), o.topics.first().cloned()))
        .collect();
    let dept_pairs: Vec<(String, Option<String>)> = outcomes
        .iter()
        .map(|o| (name(&o.department), o.departments.first().map(name)))
        .collect();
    let per_topic = per_class(&topic_pairs);
    let coverage = THRESHOLDS
        .iter()
        .map(|&t| {
            let covered: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| !o.topics.is_empty() && o.department_probability >= t - 1e-12)
                .collect();
            let m = covered.len().max(1) as f64;
            Coverage {
                threshold: t,
                share: covered.len() as f64 / n,
                department_accuracy: covered.iter().filter(|o| dept_at(o, 1)).count() as f64 / m,
                topic_accuracy: covered.iter().filter(|o| topic_at(o, 1)).count() as f64 / m,
            }
        })
        .collect();
    Scores {
        topic: TopicScores {
            accuracy: share(&|o| topic_at(o, 1)),
            macro_f1: macro_f1(&per_topic),
            top2: share(&|o| topic_at(o, 2)),
            top3: share(&|o| topic_at(o, 3)),
        },
        department: DepartmentScores {
            accuracy: share(&|o| dept_at(o, 1)),
            macro_f1: macro_f1(&per_class(&dept_pairs)),
            top2: share(&|o| dept_at(o, 2)),
        },
        coverage,
        per_topic,
    }
}

/// A department as a class name; out of scope has none.
fn name(d: &Option<String>) -> String {
    d.clone().unwrap_or_else(|| "-".into())
}

/// Precision, recall and F1 of every class seen in the truth or the predictions.
fn per_class(pairs: &[(String, Option<String>)]) -> BTreeMap<String, ClassScores> {
    let classes: BTreeSet<&String> = pairs
        .iter()
        .flat_map(|(t, p)| std::iter::once(t).chain(p.as_ref()))
        .collect();
    classes
        .into_iter()
        .map(|c| {
            let tp = pairs
                .iter()
                .filter(|(t, p)| t == c && p.as_ref() == Some(c))
                .count() as f64;
            let predicted = pairs.iter().filter(|(_, p)| p.as_ref() == Some(c)).count() as f64;
            let support = pairs.iter().filter(|(t, _)| t == c).count();
            let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
            let recall = if support > 0 {
                tp / support as f64
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            (
                c.clone(),
                ClassScores {
                    precision,
                    recall,
                    f1,
                    support,
                },
            )
        })
        .collect()
}

fn macro_f1(per: &BTreeMap<String, ClassScores>) -> f64 {
    if per.is_empty() {
        return 0.0;
    }
    per.values().map(|c| c.f1).sum::<f64>() / per.len() as f64
}

/// Splits `examples` into `folds` parts for cross-validation, the same way every run: by a
/// hash of the text, so a fold does not depend on the file's order.
pub fn fold_of(example: &Example, folds: usize) -> usize {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(example.text.as_bytes());
    (u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]) % folds.max(1) as u64)
        as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(topic: &str, dept: &str, topics: &[&str], depts: &[&str], q: f64) -> Outcome {
        Outcome {
            topic: topic.into(),
            department: Some(dept.into()),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            departments: depts.iter().map(|d| Some(d.to_string())).collect(),
            department_probability: q,
        }
    }

    #[test]
    fn a_hand_computed_case() {
        // Four requests: two right at the top, one right second, one right third.
        let outcomes = vec![
            o(
                "roads",
                "tr",
                &["roads", "waste", "urban"],
                &["tr", "ce"],
                0.95,
            ),
            o(
                "waste",
                "ce",
                &["waste", "roads", "urban"],
                &["ce", "tr"],
                0.85,
            ),
            o(
                "urban",
                "ce",
                &["waste", "urban", "roads"],
                &["ce", "tr"],
                0.65,
            ),
            o(
                "urban",
                "ce",
                &["roads", "waste", "urban"],
                &["tr", "ce"],
                0.55,
            ),
        ];
        let s = score(&outcomes);
        assert_eq!(s.topic.accuracy, 0.5);
        assert_eq!(s.topic.top2, 0.75);
        assert_eq!(s.topic.top3, 1.0);
        assert_eq!(s.department.accuracy, 0.75);
        assert_eq!(s.department.top2, 1.0);
        // roads: predicted twice, right once (P 0.5, R 1, F1 2/3); waste: P 0.5, R 1, F1 2/3;
        // urban: never predicted (F1 0). Macro: (2/3 + 2/3 + 0) / 3.
        assert!(
            (s.topic.macro_f1 - 4.0 / 9.0).abs() < 1e-9,
            "{}",
            s.topic.macro_f1
        );
        assert_eq!(s.per_topic["urban"].support, 2);
        // ce: P 1, R 2/3 → 0.8; tr: P 0.5, R 1 → 2/3.
        assert!((s.department.macro_f1 - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
        let at = |t: f64| {
            s.coverage
                .iter()
                .find(|c| c.threshold == t)
                .unwrap()
                .clone()
        };
        assert_eq!(at(0.8).share, 0.5);
        assert_eq!(at(0.8).department_accuracy, 1.0);
        assert_eq!(at(0.6).share, 0.75);
        assert_eq!(at(0.6).topic_accuracy, 2.0 / 3.0);
        assert_eq!(at(0.9).share, 0.25);
    }
}
