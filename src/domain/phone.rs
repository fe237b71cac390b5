//! A citizen's phone number, one way: operators type it as they hear it («8 918 111-22-33»),
//! the platform and Telegram send it as the citizen gave it («+7 (918) 111 22 33»). Kept as
//! digits with a leading `+` (E.164), so every form of one number finds the citizen's other
//! requests; shown grouped the Russian way.

/// The number in E.164 (`+79181112233`), or why it is not one. Russian forms: a leading `8`
/// or `7` with ten digits after it, or the ten digits alone (`918…`); other countries' need
/// their `+` and 8–15 digits. Spaces, dashes, dots and brackets are how people group digits.
pub fn normalise(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::new();
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' | '.' | '\u{a0}' => {}
            _ => return Err(NOT_A_NUMBER.into()),
        }
    }
    let russian = match (plus, digits.len(), digits.chars().next()) {
        (false, 11, Some('8' | '7')) | (true, 11, Some('7')) => Some(digits[1..].to_string()),
        (false, 10, Some('9' | '3' | '4' | '8')) => Some(digits.clone()),
        _ => None,
    };
    if let Some(national) = russian {
        return Ok(format!("+7{national}"));
    }
    if plus && (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
        return Ok(format!("+{digits}"));
    }
    Err(NOT_A_NUMBER.into())
}

/// What a wrong number is told (the caller names the field and, safely, the input).
pub const NOT_A_NUMBER: &str =
    "not a phone number (expected +7 918 111-22-33, 89181112233 or +79181112233)";

/// A normalised number as people read it: `+7 918 111-22-33`; other countries' as stored.
pub fn display(e164: &str) -> String {
    match e164.strip_prefix("+7") {
        Some(n) if n.len() == 10 && n.chars().all(|c| c.is_ascii_digit()) => {
            format!("+7 {} {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..])
        }
        _ => e164.to_string(),
    }
}

/// The number a search for `query` means, when the whole query is one (so «89181112233» in
/// the search line finds the citizen, not the word).
pub fn searched(query: &str) -> Option<String> {
    let digits = query.chars().filter(char::is_ascii_digit).count();
    (digits >= 10).then(|| normalise(query).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_a_russian_number_is_written_is_one_number() {
        for raw in [
            "+7 918 111-22-33",
            "89181112233",
            "+79181112233",
            "8 (918) 111-22-33",
            "7 918 111 22 33",
            "9181112233",
            " +7(918)111.22.33 ",
        ] {
            assert_eq!(normalise(raw).as_deref(), Ok("+79181112233"), "{raw}");
        }
        assert_eq!(display("+79181112233"), "+7 918 111-22-33");
        // A city number with its code, and another country's with its `+`.
        assert_eq!(normalise("8 861 255-00-00").as_deref(), Ok("+78612550000"));
        assert_eq!(
            normalise("+375 29 123-45-67").as_deref(),
            Ok("+375291234567")
        );
        assert_eq!(display("+375291234567"), "+375291234567");
    }

    #[test]
    fn what_is_not_a_number_is_refused_and_said_plainly() {
        for raw in [
            "",
            "112",
            "918111223",
            "891811122334",
            "+7 918 abc",
            "tel:89181112233",
            "\u{1b}[2J89181112233",
            "+0123456789",
        ] {
            let e = normalise(raw).unwrap_err();
            assert!(e.starts_with("not a phone number"), "{raw}: {e}");
            assert!(!e.contains('\u{1b}'), "{e}");
        }
    }

    #[test]
    fn a_search_for_a_number_in_any_form_means_the_number() {
        assert_eq!(searched("8 918 111-22-33").as_deref(), Some("+79181112233"));
        assert_eq!(searched("прорыв трубы"), None);
        assert_eq!(searched("2026-000123"), None);
    }
}
