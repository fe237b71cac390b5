//! Splitting a long reply into parts a channel accepts, at word boundaries where possible. The
//! outbox splits when it queues a reply and the console previews the same split, so the rule
//! sits below both rather than in `channels`.

/// Splits `text` into parts of at most `max` units as counted by `units` (Telegram counts UTF-16
/// code units). Prefers paragraph breaks, then line breaks, then spaces; a single word longer
/// than `max` is cut between characters. Deterministic, so a retry splits the same way.
pub fn split(text: &str, max: usize, units: impl Fn(&str) -> usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if units(rest) <= max {
            parts.push(rest.to_string());
            break;
        }
        // The longest prefix (on a char boundary) that fits.
        let mut fit = 0;
        let mut used = 0;
        for (i, c) in rest.char_indices() {
            let w = c.len_utf16();
            if used + w > max {
                break;
            }
            used += w;
            fit = i + c.len_utf8();
        }
        let head = &rest[..fit];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| head.rfind(sep).filter(|&i| i > 0))
            .unwrap_or(fit.max(first_char_len(rest)));
        let (part, tail) = rest.split_at(cut);
        parts.push(part.trim_end().to_string());
        rest = tail.trim_start();
    }
    parts
}

fn first_char_len(s: &str) -> usize {
    s.chars().next().map(char::len_utf8).unwrap_or(0)
}

pub fn utf16_units(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(
            split("Здравствуйте!", 4096, utf16_units),
            vec!["Здравствуйте!"]
        );
    }

    #[test]
    fn splits_at_spaces_and_keeps_order() {
        let parts = split("раз два три четыре", 8, utf16_units);
        assert_eq!(parts, vec!["раз два", "три", "четыре"]);
    }

    #[test]
    fn prefers_paragraphs() {
        let parts = split("первый абзац\n\nвторой абзац", 20, utf16_units);
        assert_eq!(parts, vec!["первый абзац", "второй абзац"]);
    }

    #[test]
    fn emoji_count_two_units_and_are_never_cut() {
        let text = "😀".repeat(5);
        let parts = split(&text, 3, utf16_units);
        assert_eq!(parts, vec!["😀", "😀", "😀", "😀", "😀"]);
    }

    proptest! {
        #[test]
        fn parts_fit_and_lose_no_words(words in proptest::collection::vec("[а-яё😀a-z]{1,12}", 0..400), max in 30usize..300) {
            let text = words.join(" ");
            let parts = split(&text, max, utf16_units);
            for p in &parts {
                prop_assert!(utf16_units(p) <= max, "{} > {max}", utf16_units(p));
                prop_assert!(!p.is_empty());
            }
            let joined: Vec<&str> = parts.iter().flat_map(|p| p.split(' ')).collect();
            let original: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
            prop_assert_eq!(joined, original);
        }
    }
}
