//! Citizen text is untrusted: it must never drive the terminal, nor run as a formula in the
//! spreadsheet a CSV or XLSX export is opened in.

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

/// One spreadsheet cell, for every CSV and XLSX writer: cleaned as `text` (newlines stay, a
/// quoted CSV cell holds them), and a leading `'` when a spreadsheet would take the cell for a
/// formula — `=`, `+`, `-` or `@` first, even after spaces (a tab or CR first is already a
/// space or gone, and some spreadsheets trim spaces before they look). A plain number such as
/// a negative longitude stays as it is: it can't run, and the `'` would make it text.
pub fn cell(s: &str) -> String {
    let clean = text(s);
    if looks_like_formula(&clean) {
        format!("'{clean}")
    } else {
        clean
    }
}

fn looks_like_formula(s: &str) -> bool {
    let s = s.trim_start();
    s.starts_with(['=', '+', '-', '@']) && !is_plain_number(s)
}

/// An optional sign, digits, and at most one decimal point with digits around it: `-45.03`.
fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
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

    #[test]
    fn a_cell_is_cleaned_and_a_formula_defused() {
        use super::cell;
        for formula in ["=1+1", "+7 (999) 1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)"] {
            assert_eq!(cell(formula), format!("'{formula}"));
        }
        // What a tab, CR or spaces put before the formula does not hide it.
        assert_eq!(cell("\t=1+1"), "' =1+1");
        assert_eq!(cell("\r=1+1"), "'=1+1");
        assert_eq!(cell("  \n=1+1"), "'  \n=1+1");
        assert_eq!(
            cell("=HYPERLINK(\"x\")\x1b]52;c;aGk=\x07\x1b[2J\u{202e}\u{9b}"),
            "'=HYPERLINK(\"x\")]52;c;aGk=[2J"
        );
        // Numbers, dates and plain words stay as they are.
        for plain in [
            "-45.03",
            "+5",
            "38.97",
            "2026-10-05T10:00:00+00:00",
            "Яма",
            "a-b",
            "",
        ] {
            assert_eq!(cell(plain), plain);
        }
        for not_a_number in ["-", "-.5", "-5.", "-1e5", "-inf", "-1.2.3"] {
            assert_eq!(cell(not_a_number), format!("'{not_a_number}"));
        }
        assert_eq!(cell("две\nстроки"), "две\nстроки");
    }
}
