//! Turning Russian text into search terms. SQLite's FTS5 has no Russian stemmer, so words are
//! stemmed here (Snowball) and FTS5 indexes the stems; queries are stemmed the same way.

use unicode_segmentation::UnicodeSegmentation;

pub use crate::domain::words::terms;

/// Words too common to narrow a search; dropping them keeps prefix queries cheap.
const STOP: &[&str] = &[
    "в", "во", "на", "и", "а", "но", "у", "с", "со", "к", "ко", "о", "об", "по", "за", "из", "от",
    "до", "не", "ни", "же", "ли", "бы", "что", "это", "как", "так", "для", "при", "мы", "вы", "я",
];

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
        // A combining mark glues itself to a control character before it ("\0\u{363}" is one
        // word), and SQLite's FTS5 parser ends a quoted string at a NUL (found by the fuzz
        // bench). Quotes go too: quoting keeps FTS5 syntax out of user input.
        .map(|t| {
            t.chars()
                .filter(|c| !c.is_control() && *c != '"')
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(
        words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_fts5_query() {
        assert_eq!(
            match_expression("\0\u{363}").as_deref(),
            Some("\"\u{363}\"*")
        );
        assert_eq!(match_expression("\0\u{1}"), None);
    }

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
