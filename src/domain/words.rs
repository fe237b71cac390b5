//! Russian words as their stems: the one stemming that search (`store::analyze`) and triage
//! (`triage::features`) share, so a word form the search folds is folded for triage alike.

use frostem::{Algorithm, Stemmer};
use std::sync::OnceLock;
use unicode_segmentation::UnicodeSegmentation;

fn russian() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::new(Algorithm::Russian))
}

/// Stems of every word in `text`, in order, lowercased with ё folded to е.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.unicode_words().map(|w| {
        let w = w.to_lowercase().replace('ё', "е");
        if w.chars().any(is_cyrillic) {
            stem(w)
        } else {
            w
        }
    })
}

/// Most different word forms remembered per thread before the memory starts over.
const STEM_CACHE: usize = 100_000;

thread_local! {
    /// FxHash, not the default SipHash: hashing the words here was a tenth of gateway intake
    /// (#20). Citizens' words reach it, as they reach triage's FxHash maps; the cache starts
    /// over at `STEM_CACHE` entries, which bounds what crafted collisions could cost.
    static STEMS: std::cell::RefCell<rustc_hash::FxHashMap<String, String>> =
        Default::default();
}

/// Snowball stemming of `word`, remembered: requests repeat a few thousand word forms, and
/// stemming each anew was the larger part of building a search document (a first sync
/// indexes hundreds of thousands of them).
fn stem(word: String) -> String {
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(s) = cache.get(&word) {
            return s.clone();
        }
        if cache.len() >= STEM_CACHE {
            cache.clear();
        }
        let s = russian().stem(&word).into_owned();
        cache.insert(word, s.clone());
        s
    })
}

pub fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}
