//! The model a city's history trains, and what it suggests for a text. Training is a pure
//! function of the labelled examples (sorted first, so their order does not matter) and the
//! catalog: two consoles holding the same history train byte-identical models and suggest the
//! same for the same request. The version is a digest of exactly that input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bayes::{Bayes, PrefixIndex};
use super::features::{self, Sparse, Vocabulary};
use super::linear::{self, Linear};
use super::platt::Sigmoid;
use crate::domain::Catalog;
use crate::domain::words::terms;

/// Bumped when features or training change, so an old stored model is retrained, not read
/// with the wrong meaning.
pub const FORMAT: u32 = 1;

/// Below this many labels complement naive Bayes beats the SVM (measured on real appeals).
pub const SVM_FROM: usize = 300;

/// How many of the most likely topics a suggestion lists.
const TOP: usize = 3;

/// A labelled example: a closed request's text and the topic and department it ended with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub topic: String,
    #[serde(default)]
    pub department: Option<String>,
}

/// How a model suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The catalog's keyword hints: a city with too little history of its own.
    Keywords,
    /// Complement naive Bayes on the TF-IDF features: a short history.
    Bayes,
    /// Calibrated linear SVMs on the TF-IDF features.
    Svm,
    /// Multinomial naive Bayes on 5-letter prefixes: the evaluation's baseline only.
    PrefixBayes,
}

impl Method {
    /// What a history of `labels` labels gets, with keyword hints below `min_history`.
    pub fn for_history(labels: usize, min_history: usize) -> Method {
        if labels < min_history.max(1) {
            Method::Keywords
        } else if labels < SVM_FROM {
            Method::Bayes
        } else {
            Method::Svm
        }
    }
}

/// A topic and how likely it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub topic: String,
    pub probability: f64,
}

/// What the model suggests for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub topic: String,
    /// The topic's probability.
    pub probability: f64,
    /// None for out of scope (the center declines; no department takes it).
    pub department: Option<String>,
    /// The department's probability: every topic that leads there, summed.
    pub department_probability: f64,
    pub model_version: String,
    /// The most likely topics, the suggested one first.
    pub top: Vec<Ranked>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub version: String,
    pub method: Method,
    /// How many labelled examples trained it.
    pub labels: usize,
    topics: Vec<String>,
    /// Where each topic's requests went: department (None: out of scope) and share.
    routes: Vec<Vec<(Option<String>, f64)>>,
    vocabulary: Option<Vocabulary>,
    prefixes: Option<PrefixIndex>,
    svm: Option<Linear>,
    sigmoids: Vec<Sigmoid>,
    bayes: Option<Bayes>,
    /// Stems of each topic's keyword hints (`Method::Keywords`).
    keywords: Vec<Vec<String>>,
}

/// Trains a model of `method` on `examples`. Deterministic.
pub fn train(examples: &[Example], catalog: &Catalog, method: Method) -> Model {
    let mut examples: Vec<&Example> = examples.iter().collect();
    examples.sort();
    let version = digest(&examples, catalog, method);
    let mut topics: Vec<String> = match method {
        Method::Keywords => catalog.topics.iter().map(|t| t.id.clone()).collect(),
        _ => examples.iter().map(|e| e.topic.clone()).collect(),
    };
    topics.sort();
    topics.dedup();
    let routes = routes(&topics, &examples, catalog);
    let mut model = Model {
        version,
        method,
        labels: examples.len(),
        topics,
        routes,
        vocabulary: None,
        prefixes: None,
        svm: None,
        sigmoids: Vec::new(),
        bayes: None,
        keywords: Vec::new(),
    };
    let ys: Vec<usize> = examples
        .iter()
        .map(|e| model.topics.binary_search(&e.topic).unwrap_or(0))
        .collect();
    let classes = model.topics.len();
    match method {
        Method::Keywords => {
            model.keywords = model
                .topics
                .iter()
                .map(|id| {
                    let words = catalog
                        .topic(id)
                        .map(|t| t.keywords.join(" "))
                        .unwrap_or_default();
                    terms(&words).collect()
                })
                .collect();
        }
        Method::PrefixBayes => {
            let counted: Vec<_> = examples
                .iter()
                .map(|e| features::prefixes(&e.text))
                .collect();
            let index = PrefixIndex::learn(&counted);
            let xs: Vec<Sparse> = counted.iter().map(|c| index.vector(c)).collect();
            let refs: Vec<&Sparse> = xs.iter().collect();
            model.bayes = Some(Bayes::train(&refs, &ys, classes, index.dim(), false));
            model.prefixes = Some(index);
        }
        Method::Bayes | Method::Svm => {
            let counted: Vec<_> = examples.iter().map(|e| features::count(&e.text)).collect();
            let vocabulary = Vocabulary::learn(&counted);
            let xs: Vec<Sparse> = counted.iter().map(|c| vocabulary.vector(c)).collect();
            drop(counted);
            let refs: Vec<&Sparse> = xs.iter().collect();
            let dim = vocabulary.dim();
            if method == Method::Bayes {
                model.bayes = Some(Bayes::train(&refs, &ys, classes, dim, true));
            } else {
                model.sigmoids = calibrate(&refs, &ys, classes, dim);
                model.svm = Some(linear::train(&refs, &ys, classes, dim));
            }
            model.vocabulary = Some(vocabulary);
        }
    }
    model
}

/// Per-class sigmoids fitted on decision values of texts each fold's model did not see: three
/// folds, or for a long history one held-out fifth (the time limit is minutes, and a fifth of
/// tens of thousands is plenty to fit two numbers per class).
fn calibrate(xs: &[&Sparse], ys: &[usize], classes: usize, dim: usize) -> Vec<Sigmoid> {
    let n = xs.len();
    let (folds, held): (usize, Vec<usize>) = if n > 30_000 {
        (5, vec![0])
    } else {
        (3, (0..3).collect())
    };
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); classes];
    let mut truth: Vec<Vec<bool>> = vec![Vec::new(); classes];
    for f in held {
        let train_idx: Vec<usize> = (0..n).filter(|i| i % folds != f).collect();
        let m = linear::train(
            &train_idx.iter().map(|&i| xs[i]).collect::<Vec<_>>(),
            &train_idx.iter().map(|&i| ys[i]).collect::<Vec<_>>(),
            classes,
            dim,
        );
        for i in (0..n).filter(|i| i % folds == f) {
            let d = m.decide(xs[i]);
            for k in 0..classes {
                values[k].push(d[k]);
                truth[k].push(ys[i] == k);
            }
        }
    }
    (0..classes)
        .map(|k| Sigmoid::fit(&values[k], &truth[k]))
        .collect()
}

/// Each topic's departments as the history routed them, with the catalog's department as
/// one example more (a topic never routed yet still leads somewhere).
fn routes(
    topics: &[String],
    examples: &[&Example],
    catalog: &Catalog,
) -> Vec<Vec<(Option<String>, f64)>> {
    topics
        .iter()
        .map(|t| {
            let mut counts: BTreeMap<Option<String>, f64> = BTreeMap::new();
            if let Some(topic) = catalog.topic(t) {
                *counts.entry(topic.department.clone()).or_default() += 1.0;
            }
            for e in examples.iter().filter(|e| &e.topic == t) {
                *counts.entry(e.department.clone()).or_default() += 1.0;
            }
            let total: f64 = counts.values().sum();
            counts.into_iter().map(|(d, c)| (d, c / total)).collect()
        })
        .collect()
}

fn digest(examples: &[&Example], catalog: &Catalog, method: Method) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT.to_le_bytes());
    h.update(serde_json::to_vec(&method).unwrap_or_default());
    for e in examples {
        h.update(serde_json::to_vec(e).unwrap_or_default());
        h.update(b"\n");
    }
    if method == Method::Keywords {
        for t in &catalog.topics {
            h.update(t.id.as_bytes());
            h.update(t.keywords.join(" ").as_bytes());
        }
    }
    let d = h.finalize();
    d.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

impl Model {
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// Every topic's probability for `text`, in `topics()` order; None when the model has
    /// nothing to go on (no keyword matched, or no topics at all).
    pub fn probabilities(&self, text: &str) -> Option<Vec<f64>> {
        if self.topics.is_empty() {
            return None;
        }
        match self.method {
            Method::Keywords => {
                let stems: Vec<String> = terms(text).collect();
                let hits: Vec<f64> = self
                    .keywords
                    .iter()
                    .map(|k| stems.iter().filter(|s| k.contains(s)).count() as f64)
                    .collect();
                let total: f64 = hits.iter().sum();
                (total > 0.0).then(|| hits.into_iter().map(|h| h / total).collect())
            }
            Method::PrefixBayes => {
                let x = self.prefixes.as_ref()?.vector(&features::prefixes(text));
                Some(self.bayes.as_ref()?.probabilities(&x))
            }
            Method::Bayes | Method::Svm => {
                let x = self.vocabulary.as_ref()?.vector_of(text);
                if let Some(b) = &self.bayes {
                    return Some(b.probabilities(&x));
                }
                let d = self.svm.as_ref()?.decide(&x);
                let p: Vec<f64> = d
                    .iter()
                    .zip(&self.sigmoids)
                    .map(|(f, s)| s.probability(*f))
                    .collect();
                let sum: f64 = p.iter().sum();
                Some(if sum > 0.0 {
                    p.into_iter().map(|v| v / sum).collect()
                } else {
                    vec![1.0 / p.len() as f64; p.len()]
                })
            }
        }
    }

    /// Departments with their probabilities (every topic leading there, summed), likeliest
    /// first; None is out of scope.
    pub fn departments(&self, p: &[f64]) -> Vec<(Option<String>, f64)> {
        let mut by: BTreeMap<Option<String>, f64> = BTreeMap::new();
        for (k, routes) in self.routes.iter().enumerate() {
            for (d, share) in routes {
                *by.entry(d.clone()).or_default() += p[k] * share;
            }
        }
        let mut out: Vec<(Option<String>, f64)> = by.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The suggestion for `text`.
    pub fn suggest(&self, text: &str) -> Option<Suggestion> {
        self.suggest_from(&self.probabilities(text)?)
    }

    /// The suggestion given every topic's probability (`probabilities`).
    pub fn suggest_from(&self, p: &[f64]) -> Option<Suggestion> {
        let mut ranked: Vec<Ranked> = self
            .topics
            .iter()
            .zip(p)
            .map(|(t, p)| Ranked {
                topic: t.clone(),
                probability: *p,
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.topic.cmp(&b.topic))
        });
        ranked.truncate(TOP);
        let best = ranked.first()?.clone();
        // The department every topic leading there makes likeliest, summed (a request torn
        // between two topics of one department still goes to it with confidence).
        let (department, department_probability) = self.departments(p).into_iter().next()?;
        Some(Suggestion {
            topic: best.topic,
            probability: best.probability,
            department,
            department_probability,
            model_version: self.version.clone(),
            top: ranked,
        })
    }

    /// The model as bytes to store: its description as JSON, then the weights as
    /// little-endian f32 (JSON numbers would make a 20 MB model 60 MB and slow to read).
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let weights: &[f32] = match (&self.svm, &self.bayes) {
            (Some(s), _) => &s.weights,
            (_, Some(b)) => &b.log_prob,
            _ => &[],
        };
        let mut out = Vec::with_capacity(8 + json.len() + weights.len() * 4);
        out.extend((json.len() as u64).to_le_bytes());
        out.extend(json);
        for w in weights {
            out.extend(w.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Model, String> {
        let bad = |why: &str| format!("the stored triage model does not read: {why}");
        let len = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| bad("too short"))? as usize;
        let json = bytes
            .get(8..8usize.saturating_add(len))
            .ok_or_else(|| bad("cut short"))?;
        let mut model: Model = serde_json::from_slice(json).map_err(|e| bad(&e.to_string()))?;
        let rest = &bytes[8 + len..];
        if !rest.len().is_multiple_of(4) {
            return Err(bad("the weights are cut short"));
        }
        let weights: Vec<f32> = rest
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let expected = |dim: usize| dim * model.topics.len();
        if let Some(s) = &mut model.svm {
            if weights.len() != expected(s.dim) {
                return Err(bad("the weights don't fit the vocabulary"));
            }
            s.weights = weights;
        } else if let Some(b) = &mut model.bayes {
            if weights.len() != expected(b.dim) {
                return Err(bad("the weights don't fit the vocabulary"));
            }
            b.log_prob = weights;
        }
        if let Some(v) = &mut model.vocabulary {
            v.build_index();
        }
        if let Some(p) = &mut model.prefixes {
            p.build_index();
        }
        if model.routes.len() != model.topics.len() {
            return Err(bad("topics and routes differ"));
        }
        Ok(model)
    }
}
