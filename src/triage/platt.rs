//! Decision values into probabilities: a sigmoid per class fitted on values the class's model
//! gave texts it was not trained on (Platt 1999, in the numerically careful form of Lin, Lin
//! and Weng 2007). An SVM's raw margins are not comparable across classes — rare classes get
//! small ones — and calibration is what made the rare topics come out right on real appeals.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sigmoid {
    pub a: f64,
    pub b: f64,
}

impl Sigmoid {
    pub fn probability(&self, f: f64) -> f64 {
        let z = self.a * f + self.b;
        // Two forms, so neither exp overflows.
        if z >= 0.0 {
            (-z).exp() / (1.0 + (-z).exp())
        } else {
            1.0 / (1.0 + z.exp())
        }
    }

    /// Fits P(positive | f) = 1 / (1 + exp(a·f + b)) by Newton's method with backtracking,
    /// on targets smoothed by the counts (so a class never seen wrong is not given 1.0).
    pub fn fit(values: &[f64], positive: &[bool]) -> Sigmoid {
        let prior1 = positive.iter().filter(|p| **p).count() as f64;
        let prior0 = positive.len() as f64 - prior1;
        let hi = (prior1 + 1.0) / (prior1 + 2.0);
        let lo = 1.0 / (prior0 + 2.0);
        let t: Vec<f64> = positive.iter().map(|p| if *p { hi } else { lo }).collect();
        let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
        let objective = |a: f64, b: f64| -> f64 {
            values
                .iter()
                .zip(&t)
                .map(|(f, ti)| {
                    let z = f * a + b;
                    if z >= 0.0 {
                        ti * z + (1.0 + (-z).exp()).ln()
                    } else {
                        (ti - 1.0) * z + (1.0 + z.exp()).ln()
                    }
                })
                .sum()
        };
        let mut fval = objective(a, b);
        for _ in 0..100 {
            let (mut h11, mut h22, mut h21, mut g1, mut g2) = (1e-12, 1e-12, 0.0, 0.0, 0.0);
            for (f, ti) in values.iter().zip(&t) {
                let z = f * a + b;
                let (p, q) = if z >= 0.0 {
                    ((-z).exp() / (1.0 + (-z).exp()), 1.0 / (1.0 + (-z).exp()))
                } else {
                    (1.0 / (1.0 + z.exp()), z.exp() / (1.0 + z.exp()))
                };
                let d2 = p * q;
                h11 += f * f * d2;
                h22 += d2;
                h21 += f * d2;
                let d1 = ti - p;
                g1 += f * d1;
                g2 += d1;
            }
            if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let da = -(h22 * g1 - h21 * g2) / det;
            let db = -(-h21 * g1 + h11 * g2) / det;
            let gd = g1 * da + g2 * db;
            let mut step = 1.0;
            let mut moved = false;
            while step >= 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let nf = objective(na, nb);
                if nf < fval + 1e-4 * step * gd {
                    (a, b, fval) = (na, nb, nf);
                    moved = true;
                    break;
                }
                step /= 2.0;
            }
            if !moved {
                break;
            }
        }
        Sigmoid { a, b }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fitted_sigmoid_rises_with_the_margin_and_matches_the_rate() {
        // Margins above 0 are right three times in four; below, once in four.
        let mut values = Vec::new();
        let mut positive = Vec::new();
        for i in 0..400 {
            let f = if i % 2 == 0 { 1.0 } else { -1.0 };
            values.push(f);
            positive.push(if f > 0.0 { i % 8 != 0 } else { i % 8 == 1 });
        }
        let s = Sigmoid::fit(&values, &positive);
        assert!(s.probability(1.0) > s.probability(-1.0));
        assert!(
            (s.probability(1.0) - 0.75).abs() < 0.03,
            "{}",
            s.probability(1.0)
        );
        assert!(
            (s.probability(-1.0) - 0.25).abs() < 0.03,
            "{}",
            s.probability(-1.0)
        );
    }

    #[test]
    fn extreme_margins_stay_finite() {
        let s = Sigmoid { a: -3.0, b: 0.1 };
        assert!(s.probability(1e6).is_finite() && s.probability(-1e6).is_finite());
    }
}
