//! Citizen text is untrusted: it must never drive the terminal.

/// Removes control characters (escape sequences start with one), bidirectional overrides and
/// isolates; newlines and tabs become spaces so one message stays on its lines.
pub fn line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\n' || c == '\t' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !is_hostile(*c))
        .collect()
}

/// Like `line`, but keeps newlines for multi-line text (a thread message).
pub fn text(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| *c == '\n' || !is_hostile(*c))
        .collect()
}

fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_and_overrides_are_removed() {
        let hostile = "ok\x1b[2J\x1b]0;pwned\x07 \u{202E}evil\u{202C}\r\nnext\u{9b}31m";
        for s in [super::line(hostile), super::text(hostile)] {
            assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s:?}");
            assert!(!s.contains('\u{202E}'));
            assert!(s.contains("evil") && s.contains("next"));
        }
        assert!(super::text("a\nb").contains('\n'));
        assert!(!super::line("a\nb").contains('\n'));
    }
}
