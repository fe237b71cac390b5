//! A place named in words, as one key: «ул. Красная, 122», «Красная ул 122» and «на красной
//! улице, д. 122» are one address. Citizens write the street's type before or after its name,
//! abbreviated or not, and the name in any grammatical case; the key keeps the type, the name's
//! stems (Snowball folds the cases) and the house, so two reports of one house meet even when no
//! channel gave coordinates.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::words::terms;

/// The kind of street: what «ул.», «улица», «улице» all are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreetKind {
    Street,
    Avenue,
    Lane,
    Boulevard,
    Highway,
    Square,
    Passage,
    Embankment,
    District,
}

impl StreetKind {
    fn short(self) -> &'static str {
        match self {
            StreetKind::Street => "ул",
            StreetKind::Avenue => "пр",
            StreetKind::Lane => "пер",
            StreetKind::Boulevard => "б-р",
            StreetKind::Highway => "ш",
            StreetKind::Square => "пл",
            StreetKind::Passage => "проезд",
            StreetKind::Embankment => "наб",
            StreetKind::District => "мкр",
        }
    }

    /// The kind a word names, in any case, full or abbreviated (lowercased, ё folded).
    fn of(word: &str) -> Option<StreetKind> {
        let w = word.trim_end_matches('.');
        let kind = match w {
            "ул" => StreetKind::Street,
            "пр" | "пр-т" | "просп" | "пр-кт" => StreetKind::Avenue,
            "пер" => StreetKind::Lane,
            "б-р" | "бул" | "бульв" => StreetKind::Boulevard,
            "ш" => StreetKind::Highway,
            "пл" => StreetKind::Square,
            "наб" => StreetKind::Embankment,
            "мкр" | "мкрн" | "мкр-н" => StreetKind::District,
            _ if w.starts_with("улиц") => StreetKind::Street,
            _ if w.starts_with("проспект") => StreetKind::Avenue,
            _ if w.starts_with("переул") => StreetKind::Lane,
            _ if w.starts_with("бульвар") => StreetKind::Boulevard,
            _ if w.starts_with("шоссе") => StreetKind::Highway,
            _ if w.starts_with("площад") => StreetKind::Square,
            _ if w.starts_with("проезд") => StreetKind::Passage,
            _ if w.starts_with("набережн") => StreetKind::Embankment,
            _ if w.starts_with("микрорайон") => StreetKind::District,
            _ => return None,
        };
        Some(kind)
    }
}

/// One address: kind of street, the name's stems, and the house when given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AddressKey {
    pub kind: StreetKind,
    pub street: String,
    pub house: Option<String>,
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.short(), self.street)?;
        if let Some(h) = &self.house {
            write!(f, ":{h}")?;
        }
        Ok(())
    }
}

/// Words that introduce the house rather than name the street.
fn is_house_word(w: &str) -> bool {
    matches!(
        w.trim_end_matches('.'),
        "д" | "дом" | "доме" | "дома" | "домом" | "около" | "возле" | "у" | "напротив"
    )
}

/// Words around an address that are never part of a street's name.
fn is_filler(w: &str) -> bool {
    matches!(
        w.trim_end_matches('.'),
        "на" | "по"
            | "в"
            | "во"
            | "с"
            | "со"
            | "к"
            | "от"
            | "из"
            | "г"
            | "город"
            | "города"
            | "адрес"
            | "адресу"
            | "и"
    )
}

/// A house number: digits, then perhaps a letter, a slash and digits, or a block («к1»).
fn house(w: &str) -> Option<String> {
    let w = w.trim_end_matches(['.', ',']);
    // «д.122», «дом122» written together.
    let w = ["д.", "дом", "д"]
        .iter()
        .find_map(|p| {
            w.strip_prefix(p)
                .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })
        .unwrap_or(w);
    let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    let rest = &w[digits.len()..];
    let ok = rest.is_empty()
        || (rest.chars().count() == 1 && rest.chars().all(char::is_alphabetic))
        || rest
            .strip_prefix('/')
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
        || rest
            .strip_prefix('к')
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()));
    ok.then(|| format!("{digits}{rest}"))
}

/// Where a sentence or a clause ends («Срочно! Кубанская ул 5»): no street name runs across it.
const BREAK: &str = "|";

/// Splits text into lowercased words, keeping «пр-т», «д.», «122а» and «12/3» whole, each with
/// whether it was capitalised; `BREAK` after a word ending in `!`, `?` or `:`.
fn words_cased(text: &str) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    for raw in
        text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
    {
        let w = raw
            .to_lowercase()
            .replace('ё', "е")
            .trim_matches(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-' || c == '/'))
            .to_string();
        if !w.is_empty() {
            let as_written = raw
                .trim_matches(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-' || c == '/'))
                .to_string();
            out.push((w, raw.starts_with(char::is_uppercase), as_written));
        }
        if raw.ends_with(['!', '?', ':']) || raw == "—" || raw == "-" {
            out.push((BREAK.to_string(), false, String::new()));
        }
    }
    out
}

/// The first address `text` names, if any.
pub fn key(text: &str) -> Option<AddressKey> {
    find(text).map(|(k, _)| k)
}

/// The first address `text` names as the citizen wrote it («Тургеневская ул 211»), for people
/// to read where a key would do for the program.
pub fn written(text: &str) -> Option<String> {
    find(text).map(|(_, w)| w)
}

fn find(text: &str) -> Option<(AddressKey, String)> {
    let cased = words_cased(text);
    let ws: Vec<String> = cased.iter().map(|(w, _, _)| w.clone()).collect();
    for (i, w) in ws.iter().enumerate() {
        // «ул.Красная» written together.
        let (kind, glued) = match w.split_once('.') {
            Some((head, tail)) if !tail.is_empty() && StreetKind::of(head).is_some() => {
                (StreetKind::of(head), Some(tail.to_string()))
            }
            _ => (StreetKind::of(w), None),
        };
        let Some(kind) = kind else {
            continue;
        };
        // The name after the kind («ул. Красная»), else before it («Красная улица»).
        let after: Vec<&String> = glued
            .iter()
            .chain(ws[i + 1..].iter())
            .take_while(|w| {
                house(w).is_none()
                    && !is_house_word(w)
                    && StreetKind::of(w).is_none()
                    && w.as_str() != BREAK
            })
            .take(3)
            .collect();
        let mut before: Vec<&String> = ws[..i]
            .iter()
            .rev()
            .take_while(|w| {
                house(w).is_none()
                    && !is_house_word(w)
                    && !is_filler(w)
                    && StreetKind::of(w).is_none()
                    && w.as_str() != BREAK
            })
            .take(2)
            .collect();
        // «прорыв трубы Кубанская ул 5»: a lowercase word before a capitalised name is the
        // sentence, not the street.
        if before.len() == 2 && cased[i - 1].1 && !cased[i - 2].1 {
            before.truncate(1);
        }
        before.reverse();
        let from = i - before.len();
        let (name, next) = if !after.is_empty()
            && (before.is_empty()
                || glued.is_some()
                || ws
                    .get(i + 1 + after.len())
                    .is_some_and(|w| house(w).is_some() || is_house_word(w)))
        {
            (
                after.clone(),
                i + 1 + after.len() - usize::from(glued.is_some()),
            )
        } else if !before.is_empty() {
            (before, i + 1)
        } else {
            continue;
        };
        let from = if next > i + 1 || glued.is_some() {
            i
        } else {
            from
        };
        let street: Vec<String> = name
            .iter()
            .filter(|w| !is_filler(w))
            .flat_map(|w| terms(w).collect::<Vec<_>>())
            .collect();
        if street.is_empty() {
            continue;
        }
        let found = ws[next.min(ws.len())..]
            .iter()
            .enumerate()
            .take(3)
            .skip_while(|(_, w)| is_house_word(w))
            .find_map(|(j, w)| house(w).map(|h| (next + j, h)));
        let to = found.as_ref().map_or(next, |(at, _)| at + 1);
        let written: Vec<&str> = cased[from..to.min(cased.len())]
            .iter()
            .map(|(_, _, raw)| raw.as_str())
            .filter(|raw| !raw.is_empty())
            .collect();
        return Some((
            AddressKey {
                kind,
                street: street.join(" "),
                house: found.map(|(_, h)| h),
            },
            written.join(" "),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(text: &str) -> String {
        key(text)
            .map(|k| k.to_string())
            .unwrap_or_else(|| "-".into())
    }

    #[test]
    fn one_house_written_every_way_is_one_key() {
        let forms = [
            "ул. Красная, 122",
            "Красная ул 122",
            "на красной улице, д. 122",
            "улица Красная, дом 122",
            "ул.Красная 122",
            "Прорвало трубу по адресу: г. Краснодар, ул. Красная, д.122, вода течёт",
            // The sentence before the name is not the name.
            "Срочно! Красная ул 122: прорвало трубу",
            "Прорыв водопровода Красная ул 122, вода течёт",
        ];
        let keys: Vec<String> = forms.iter().map(|f| k(f)).collect();
        assert!(keys.iter().all(|x| x == &keys[0]), "{keys:?}");
        assert_eq!(keys[0], "ул:красн:122");
    }

    #[test]
    fn the_address_as_written_for_people_to_read() {
        let w = |t: &str| written(t).unwrap_or_default();
        assert_eq!(
            w("Прорыв водопровода Тургеневская ул 211, вода"),
            "Тургеневская ул 211"
        );
        assert_eq!(
            w("Во дворе дома на тургеневской улице, д. 211 прорыв"),
            "тургеневской улице д. 211"
        );
        assert_eq!(w("ул.Тургеневская 211 — порыв"), "ул.Тургеневская 211");
        assert_eq!(w("Яма: ул. Красная, 122!"), "ул. Красная 122");
        assert_eq!(w("мкр. Юбилейный, у школы"), "мкр. Юбилейный");
        assert_eq!(written("просто текст"), None);
    }

    #[test]
    fn kinds_houses_and_names_tell_addresses_apart() {
        assert_eq!(k("пр-т Чекистов 5"), k("проспекте Чекистов, 5"));
        assert_ne!(k("ул. Красная, 122"), k("ул. Красная, 124"));
        assert_ne!(k("ул. Красная, 122"), k("пер. Красный, 122"));
        assert_ne!(k("ул. Красная, 122"), k("ул. Северная, 122"));
        assert_eq!(k("ул. Северная, 12а"), "ул:северн:12а");
        assert_eq!(k("улица Ставропольская 12/3"), "ул:ставропольск:12/3");
        assert_eq!(k("мкр. Юбилейный"), "мкр:юбилейн");
        assert_eq!(k("улица Карла Маркса, 7"), "ул:карл маркс:7");
        assert_eq!(k("Карла Маркса ул 7"), "ул:карл маркс:7");
        assert_eq!(k("на красных партизан улице, 7"), "ул:красн партиза:7");
    }

    #[test]
    fn text_without_an_address_has_no_key() {
        assert_eq!(k("Нет горячей воды третий день"), "-");
        assert_eq!(k("Автобус 7 не пришёл"), "-");
        assert_eq!(k(""), "-");
    }
}
