//! Text into sparse TF-IDF vectors: Snowball-stemmed word 1–2-grams and character 2–5-grams
//! taken inside word boundaries, each block weighted on its own (sublinear tf, smoothed idf,
//! L2 norm). Words carry the meaning; the character grams catch what stemming misses —
//! misspellings, run-together words, street names in odd cases — which citizens' texts are
//! full of.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::domain::words::terms;

/// A sparse vector: (feature index, value), indices ascending.
pub type Sparse = Vec<(u32, f32)>;

/// How many features of each block a vocabulary keeps at most, the most frequent first: the
/// model's size stays bounded (a region's year of requests has millions of distinct grams,
/// nearly all seen once).
const MAX_WORD_FEATURES: usize = 120_000;
const MAX_CHAR_FEATURES: usize = 200_000;

/// The features of one text, before weighting: counts by feature name, per block.
pub struct Counted {
    words: FxHashMap<String, u32>,
    chars: FxHashMap<String, u32>,
}

/// Counts the features of `text`.
pub fn count(text: &str) -> Counted {
    let mut words: FxHashMap<String, u32> = FxHashMap::default();
    let stems: Vec<String> = terms(text).filter(|t| !t.is_empty()).collect();
    for s in &stems {
        *words.entry(s.clone()).or_default() += 1;
    }
    for pair in stems.windows(2) {
        *words.entry(format!("{} {}", pair[0], pair[1])).or_default() += 1;
    }
    let mut chars: FxHashMap<String, u32> = FxHashMap::default();
    for w in text.unicode_words() {
        let w = w.to_lowercase().replace('ё', "е");
        let padded: Vec<char> = std::iter::once(' ')
            .chain(w.chars())
            .chain(std::iter::once(' '))
            .collect();
        for n in 2..=5 {
            if padded.len() < n {
                break;
            }
            for g in padded.windows(n) {
                *chars.entry(g.iter().collect()).or_default() += 1;
            }
        }
    }
    Counted { words, chars }
}

/// The vocabulary and idf learnt from training texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    words: Vec<String>,
    chars: Vec<String>,
    /// idf of every feature: the words' first, then the characters'.
    idf: Vec<f32>,
    #[serde(skip)]
    word_index: FxHashMap<String, u32>,
    #[serde(skip)]
    char_index: FxHashMap<String, u32>,
}

impl Vocabulary {
    /// Learns from `docs`: features seen in at least two texts (one-off grams are noise and
    /// most of the size), the most frequent up to the block's cap, in a fixed order so that
    /// the same texts always give the same vocabulary.
    pub fn learn(docs: &[Counted]) -> Vocabulary {
        let n = docs.len();
        let block = |get: fn(&Counted) -> &FxHashMap<String, u32>, cap: usize| {
            let mut df: FxHashMap<&str, u32> = FxHashMap::default();
            for d in docs {
                for k in get(d).keys() {
                    *df.entry(k.as_str()).or_default() += 1;
                }
            }
            let mut kept: Vec<(&str, u32)> = df.into_iter().filter(|(_, c)| *c >= 2).collect();
            kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            kept.truncate(cap);
            kept.sort_by(|a, b| a.0.cmp(b.0));
            let idf: Vec<f32> = kept
                .iter()
                .map(|(_, df)| (((1 + n) as f32) / ((1 + df) as f32)).ln() + 1.0)
                .collect();
            let names: Vec<String> = kept.into_iter().map(|(k, _)| k.to_owned()).collect();
            (names, idf)
        };
        let (words, mut idf) = block(|d| &d.words, MAX_WORD_FEATURES);
        let (chars, char_idf) = block(|d| &d.chars, MAX_CHAR_FEATURES);
        idf.extend(char_idf);
        let mut v = Vocabulary {
            words,
            chars,
            idf,
            word_index: FxHashMap::default(),
            char_index: FxHashMap::default(),
        };
        v.build_index();
        v
    }

    /// Rebuilds the lookup after deserializing.
    pub fn build_index(&mut self) {
        let offset = self.words.len() as u32;
        self.word_index = (self.words.iter().cloned()).zip(0..).collect();
        self.char_index = (self.chars.iter().cloned()).zip(offset..).collect();
    }

    pub fn dim(&self) -> usize {
        self.idf.len()
    }

    /// The weighted vector of a counted text.
    pub fn vector(&self, c: &Counted) -> Sparse {
        let known =
            |index: &FxHashMap<String, u32>, counts: &FxHashMap<String, u32>| -> Vec<(u32, u32)> {
                counts
                    .iter()
                    .filter_map(|(k, n)| Some((*index.get(k)?, *n)))
                    .collect()
            };
        self.weigh(
            known(&self.word_index, &c.words),
            known(&self.char_index, &c.chars),
        )
    }

    /// The weighted vector of `text`, the same as `vector(&count(text))` without building a
    /// string for every gram: a suggestion is computed as each request is written, and the
    /// grams of a long text are thousands.
    pub fn vector_of(&self, text: &str) -> Sparse {
        let mut words: Vec<(u32, u32)> = Vec::new();
        let stems: Vec<String> = terms(text).filter(|t| !t.is_empty()).collect();
        let mut buf = String::new();
        for (i, s) in stems.iter().enumerate() {
            if let Some(&k) = self.word_index.get(s.as_str()) {
                words.push((k, 1));
            }
            if let Some(next) = stems.get(i + 1) {
                buf.clear();
                buf.push_str(s);
                buf.push(' ');
                buf.push_str(next);
                if let Some(&k) = self.word_index.get(buf.as_str()) {
                    words.push((k, 1));
                }
            }
        }
        let mut chars: Vec<(u32, u32)> = Vec::new();
        let mut padded = String::new();
        let mut bounds: Vec<usize> = Vec::new();
        for w in text.unicode_words() {
            padded.clear();
            padded.push(' ');
            padded.extend(
                w.chars()
                    .flat_map(char::to_lowercase)
                    .map(|c| if c == 'ё' { 'е' } else { c }),
            );
            padded.push(' ');
            bounds.clear();
            bounds.extend(padded.char_indices().map(|(b, _)| b));
            bounds.push(padded.len());
            let n_chars = bounds.len() - 1;
            for n in 2..=5 {
                for start in 0..(n_chars + 1).saturating_sub(n) {
                    let gram = &padded[bounds[start]..bounds[start + n]];
                    if let Some(&k) = self.char_index.get(gram) {
                        chars.push((k, 1));
                    }
                }
            }
        }
        self.weigh(merge(words), merge(chars))
    }

    /// TF-IDF of each block's (feature, count), each block normalised on its own.
    fn weigh(&self, words: Vec<(u32, u32)>, chars: Vec<(u32, u32)>) -> Sparse {
        let mut out = Vec::new();
        for counts in [words, chars] {
            let mut block: Sparse = counts
                .into_iter()
                .map(|(i, n)| (i, (1.0 + (n as f32).ln()) * self.idf[i as usize]))
                .collect();
            let norm = block.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (_, v) in &mut block {
                    *v /= norm;
                }
            }
            out.extend(block);
        }
        out.sort_by_key(|(i, _)| *i);
        out
    }
}

/// Sums the counts of equal features.
fn merge(mut v: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    v.sort_unstable_by_key(|(i, _)| *i);
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
    for (i, n) in v {
        match out.last_mut() {
            Some((j, m)) if *j == i => *m += n,
            _ => out.push((i, n)),
        }
    }
    out
}

/// The naive-Bayes baseline's features: each word's first five letters, counted.
pub fn prefixes(text: &str) -> FxHashMap<String, u32> {
    let mut out: FxHashMap<String, u32> = FxHashMap::default();
    for w in text.unicode_words() {
        let p: String = w.to_lowercase().replace('ё', "е").chars().take(5).collect();
        *out.entry(p).or_default() += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_meet_and_grams_stay_inside_words() {
        let c = count("Прорыв трубы, трубу прорвало");
        assert_eq!(c.words.get("труб"), Some(&2), "{:?}", c.words.keys());
        assert!(
            c.words.keys().any(|k| k.ends_with(" труб")),
            "{:?}",
            c.words.keys()
        );
        assert!(c.chars.contains_key(" тр"));
        assert!(c.chars.contains_key("бы "));
        // No gram spans two words.
        assert!(c.chars.keys().all(|g| !g.trim().contains(' ')));
    }

    #[test]
    fn vectors_are_normalised_per_block_and_unknown_features_dropped() {
        let docs: Vec<Counted> = ["яма на дороге", "яма во дворе", "мусор во дворе"]
            .iter()
            .map(|t| count(t))
            .collect();
        let v = Vocabulary::learn(&docs);
        let x = v.vector(&count("яма яма и снег"));
        let words: f32 = x
            .iter()
            .filter(|(i, _)| (*i as usize) < v.words.len())
            .map(|(_, w)| w * w)
            .sum();
        assert!((words - 1.0).abs() < 1e-5, "{words}");
        assert!(x.windows(2).all(|p| p[0].0 < p[1].0));
        // The fast path gives the same vector.
        let fast = v.vector_of("яма яма и снег");
        assert_eq!(x.len(), fast.len());
        for (a, b) in x.iter().zip(&fast) {
            assert_eq!(a.0, b.0);
            assert!((a.1 - b.1).abs() < 1e-6);
        }
        // "снег" was in no training text.
        assert!(!v.words.iter().any(|w| w.starts_with("снег")));
    }
}
