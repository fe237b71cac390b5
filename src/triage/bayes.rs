//! Naive Bayes, for a history too short for the SVM (below a few hundred labels complement
//! naive Bayes does better: Rennie et al. 2003, and so it measured on real appeals) and as the
//! baseline the evaluation reports beside the model (multinomial, on 5-letter word prefixes).

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use super::features::Sparse;

/// Laplace smoothing.
const ALPHA: f64 = 1.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bayes {
    pub complement: bool,
    pub dim: usize,
    /// log P(feature | class) (or of its complement), one row of `dim` per class.
    #[serde(skip)]
    pub log_prob: Vec<f32>,
    pub log_prior: Vec<f64>,
}

impl Bayes {
    pub fn train(
        xs: &[&Sparse],
        ys: &[usize],
        classes: usize,
        dim: usize,
        complement: bool,
    ) -> Bayes {
        let mut counts = vec![0f64; classes * dim];
        let mut docs = vec![0f64; classes];
        for (x, &y) in xs.iter().zip(ys) {
            docs[y] += 1.0;
            for (i, v) in x.iter() {
                counts[y * dim + *i as usize] += f64::from(*v);
            }
        }
        let mut log_prob = vec![0f32; classes * dim];
        for k in 0..classes {
            // Complement: what the other classes' texts hold, which has far more data for a
            // rare class than its own few texts.
            let row: Vec<f64> = (0..dim)
                .map(|j| {
                    if complement {
                        (0..classes)
                            .filter(|c| *c != k)
                            .map(|c| counts[c * dim + j])
                            .sum()
                    } else {
                        counts[k * dim + j]
                    }
                })
                .collect();
            let total: f64 = row.iter().sum::<f64>() + ALPHA * dim as f64;
            for j in 0..dim {
                log_prob[k * dim + j] = ((row[j] + ALPHA) / total).ln() as f32;
            }
        }
        let n: f64 = docs.iter().sum();
        let log_prior = docs
            .iter()
            .map(|d| ((d + 1.0) / (n + classes as f64)).ln())
            .collect();
        Bayes {
            complement,
            dim,
            log_prob,
            log_prior,
        }
    }

    /// Class probabilities for `x` (a softmax of the log-likelihoods: naive Bayes is
    /// overconfident, which the evaluation's coverage figures show).
    pub fn probabilities(&self, x: &Sparse) -> Vec<f64> {
        let classes = self.log_prior.len();
        let scores: Vec<f64> = (0..classes)
            .map(|k| {
                let row = &self.log_prob[k * self.dim..(k + 1) * self.dim];
                let s: f64 = x
                    .iter()
                    .map(|(i, v)| f64::from(row[*i as usize]) * f64::from(*v))
                    .sum();
                if self.complement {
                    // Complement weights say how much a text looks like the *other* classes.
                    -s
                } else {
                    s + self.log_prior[k]
                }
            })
            .collect();
        softmax(&scores)
    }
}

pub fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// Feature indices for counted prefixes, learnt from the training texts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrefixIndex {
    names: Vec<String>,
    #[serde(skip)]
    index: FxHashMap<String, u32>,
}

impl PrefixIndex {
    pub fn learn(docs: &[FxHashMap<String, u32>]) -> PrefixIndex {
        let mut names: Vec<String> = docs.iter().flat_map(|d| d.keys().cloned()).collect();
        names.sort();
        names.dedup();
        let mut p = PrefixIndex {
            names,
            index: FxHashMap::default(),
        };
        p.build_index();
        p
    }

    pub fn build_index(&mut self) {
        self.index = self.names.iter().cloned().zip(0..).collect();
    }

    pub fn dim(&self) -> usize {
        self.names.len()
    }

    pub fn vector(&self, counts: &FxHashMap<String, u32>) -> Sparse {
        let mut v: Sparse = counts
            .iter()
            .filter_map(|(k, n)| Some((*self.index.get(k)?, *n as f32)))
            .collect();
        v.sort_by_key(|(i, _)| *i);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_computable_multinomial_case() {
        // Two classes, two features; class 0 saw feature 0 three times, class 1 feature 1 once.
        let xs: Vec<Sparse> = vec![vec![(0, 3.0)], vec![(1, 1.0)]];
        let refs: Vec<&Sparse> = xs.iter().collect();
        let nb = Bayes::train(&refs, &[0, 1], 2, 2, false);
        // P(f0|c0) = (3+1)/(3+2) = 0.8, P(f0|c1) = (0+1)/(1+2) = 1/3; priors equal.
        let p = nb.probabilities(&vec![(0, 1.0)]);
        let expected = 0.8 / (0.8 + 1.0 / 3.0);
        assert!((p[0] - expected).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn complement_bayes_picks_the_class_whose_words_the_others_lack() {
        let xs: Vec<Sparse> = vec![
            vec![(0, 1.0)],
            vec![(0, 1.0)],
            vec![(1, 1.0)],
            vec![(2, 1.0)],
        ];
        let refs: Vec<&Sparse> = xs.iter().collect();
        let nb = Bayes::train(&refs, &[0, 0, 1, 2], 3, 3, true);
        let p = nb.probabilities(&vec![(1, 1.0)]);
        assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");
    }
}
