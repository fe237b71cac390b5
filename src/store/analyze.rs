//! Turning Russian text into search terms. SQLite's FTS5 has no Russian stemmer, so words are
//! stemmed here (Snowball) and FTS5 indexes the stems; queries are stemmed the same way.

use frostem::{Algorithm, Stemmer};
use std::sync::OnceLock;
use unicode_segmentation::UnicodeSegmentation;

fn russian() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::new(Algorithm::Russian))
}

/// Words too common to narrow a search; dropping them keeps prefix queries cheap.
const STOP: &[&str] = &[
    "в", "во", "на", "и", "а", "но", "у", "с", "со", "к", "ко", "о", "об", "по", "за", "из", "от",
    "до", "не", "ни", "же", "ли", "бы", "что", "это", "как", "так", "для", "при", "мы", "вы", "я",
];

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
    static STEMS: std::cell::RefCell<std::collections::HashMap<String, String>> =
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

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// The document FTS5 indexes for a request: stems separated by spaces.
pub fn document<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut doc = String::new();
    for part in parts {
        for t in terms(part) {
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push_str(&t);
        }
    }
    doc
}

/// An FTS5 MATCH expression: every meaningful word must match, as a stem or a prefix of one,
/// so "ямой" finds "яма" and "крас" finds "Красная". None when nothing searchable is left.
pub fn match_expression(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .unicode_words()
        .filter(|w| !STOP.contains(&w.to_lowercase().as_str()))
        .flat_map(|w| terms(w).collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    // Stems hold only word characters, but quoting keeps FTS5 syntax out of user input anyway.
    Some(
        words
            .iter()
            .map(|w| format!("\"{}\"*", w.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_share_a_stem() {
        let forms: Vec<String> = ["яма", "ямы", "ямой", "ям"]
            .iter()
            .flat_map(|w| terms(w))
            .collect();
        assert!(forms.iter().all(|f| f == "ям"), "{forms:?}");
        let pipes: Vec<String> = ["труба", "трубы", "трубу"]
            .iter()
            .flat_map(|w| terms(w))
            .collect();
        assert!(pipes.windows(2).all(|p| p[0] == p[1]), "{pipes:?}");
    }

    #[test]
    fn yo_and_case_are_folded() {
        assert_eq!(
            terms("Ёлки").collect::<Vec<_>>(),
            terms("елки").collect::<Vec<_>>()
        );
    }

    #[test]
    fn query_drops_stop_words_and_quotes_terms() {
        assert_eq!(
            match_expression("яма на дороге").as_deref(),
            Some("\"ям\"* \"дорог\"*")
        );
        assert_eq!(match_expression("на и в"), None);
        // FTS5 operators in user input are only words here.
        assert_eq!(match_expression("\" OR *").as_deref(), Some("\"or\"*"));
        assert_eq!(
            match_expression("Bus 15").as_deref(),
            Some("\"bus\"* \"15\"*")
        );
    }

    #[test]
    fn document_joins_all_parts() {
        assert_eq!(document(["Яма", "у дома 5"]), "ям у дом 5");
    }
}
