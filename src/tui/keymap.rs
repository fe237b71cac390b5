//! Keys → actions. Defaults below, overridable in `[keys]`; single letters also work on the
//! Russian ЙЦУКЕН layout (the same physical key), so an operator never switches layout to act.

use crokey::KeyCombination;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Back,
    Claim,
    Release,
    Topic,
    Department,
    Priority,
    Tag,
    Forward,
    DepartmentAnswer,
    Reply,
    /// A reply that asks the citizen something and waits for the answer.
    Ask,
    Note,
    Close,
    Reopen,
    LinkDuplicate,
    CopyNumber,
    Filter,
    Palette,
    Mark,
    SortToggle,
    ViewMine,
    ViewNew,
    ViewAtRisk,
    ViewWaiting,
    ViewClosedToday,
    ViewAll,
    Refresh,
    DetailDown,
    DetailUp,
    OpenAttachment,
    Alarms,
    Dashboard,
    Export,
    Alerts,
    Handover,
    ViewUndelivered,
    Resend,
    Phoned,
    Unreachable,
    Assign,
    Shift,
    AcceptSuggestion,
    Incidents,
    LeaveIncident,
    CitizenRequests,
    /// A citizen's follow-up made a request of its own.
    Split,
    /// The list of every view by number (saved ones too).
    Views,
    /// Save what is on screen as a named view.
    SaveView,
    /// The first and second saved views (numbers 8 and 9).
    View8,
    View9,
}

impl Action {
    pub const ALL: [Action; 59] = [
        Action::Quit,
        Action::Help,
        Action::Down,
        Action::Up,
        Action::PageDown,
        Action::PageUp,
        Action::Top,
        Action::Bottom,
        Action::Open,
        Action::Back,
        Action::Claim,
        Action::Release,
        Action::Topic,
        Action::Department,
        Action::Priority,
        Action::Tag,
        Action::Forward,
        Action::DepartmentAnswer,
        Action::Reply,
        Action::Ask,
        Action::Note,
        Action::Close,
        Action::Reopen,
        Action::LinkDuplicate,
        Action::CopyNumber,
        Action::Filter,
        Action::Palette,
        Action::Mark,
        Action::SortToggle,
        Action::ViewMine,
        Action::ViewNew,
        Action::ViewAtRisk,
        Action::ViewWaiting,
        Action::ViewClosedToday,
        Action::ViewAll,
        Action::Refresh,
        Action::DetailDown,
        Action::DetailUp,
        Action::OpenAttachment,
        Action::Alarms,
        Action::Dashboard,
        Action::Export,
        Action::Alerts,
        Action::Handover,
        Action::ViewUndelivered,
        Action::Resend,
        Action::Phoned,
        Action::Unreachable,
        Action::Assign,
        Action::Shift,
        Action::AcceptSuggestion,
        Action::Incidents,
        Action::LeaveIncident,
        Action::CitizenRequests,
        Action::Split,
        Action::Views,
        Action::SaveView,
        Action::View8,
        Action::View9,
    ];
}

const DEFAULTS: &[(Action, &[&str])] = &[
    (Action::Quit, &["q", "ctrl-c"]),
    (Action::Help, &["?", "f1"]),
    (Action::Down, &["j", "down"]),
    (Action::Up, &["k", "up"]),
    (Action::PageDown, &["pagedown", "ctrl-d"]),
    (Action::PageUp, &["pageup", "ctrl-u"]),
    (Action::Top, &["g", "home"]),
    (Action::Bottom, &["shift-g", "end"]),
    (Action::Open, &["enter"]),
    (Action::Back, &["esc"]),
    (Action::Claim, &["c"]),
    (Action::Release, &["shift-c"]),
    (Action::Topic, &["t"]),
    (Action::Department, &["d"]),
    (Action::Priority, &["p"]),
    (Action::Tag, &["l"]),
    (Action::Forward, &["f"]),
    (Action::DepartmentAnswer, &["a"]),
    (Action::Reply, &["r"]),
    (Action::Ask, &["shift-w"]),
    (Action::Note, &["n"]),
    (Action::Close, &["x"]),
    (Action::Reopen, &["shift-o"]),
    (Action::LinkDuplicate, &["shift-d"]),
    (Action::CopyNumber, &["."]),
    (Action::Filter, &["/"]),
    (Action::Palette, &[":"]),
    (Action::Mark, &["space"]),
    (Action::SortToggle, &["s"]),
    (Action::ViewMine, &["1"]),
    (Action::ViewNew, &["2"]),
    (Action::ViewAtRisk, &["3"]),
    (Action::ViewWaiting, &["4"]),
    (Action::ViewClosedToday, &["5"]),
    (Action::ViewAll, &["6"]),
    (Action::Refresh, &["ctrl-r"]),
    (Action::DetailDown, &["shift-j", "ctrl-e"]),
    (Action::DetailUp, &["shift-k", "ctrl-y"]),
    (Action::OpenAttachment, &["o"]),
    (Action::Alarms, &["!"]),
    (Action::Dashboard, &["b", "f2"]),
    (Action::Export, &["e"]),
    (Action::Alerts, &["w", "f3"]),
    (Action::Handover, &["h", "f4"]),
    (Action::ViewUndelivered, &["7"]),
    (Action::Resend, &["shift-r"]),
    (Action::Phoned, &["shift-p"]),
    (Action::Unreachable, &["shift-u"]),
    (Action::Assign, &["shift-a"]),
    (Action::Shift, &["shift-s"]),
    (Action::AcceptSuggestion, &["y"]),
    (Action::Incidents, &["m"]),
    (Action::LeaveIncident, &["shift-m"]),
    (Action::CitizenRequests, &["i"]),
    (Action::Split, &["shift-n"]),
    (Action::Views, &["0"]),
    (Action::SaveView, &["shift-v"]),
    (Action::View8, &["8"]),
    (Action::View9, &["9"]),
];

/// The Latin letter on the same physical key as a Russian one (ЙЦУКЕН → QWERTY).
pub fn latin_twin(c: char) -> Option<char> {
    const RU: &str = "йцукенгшщзхъфывапролджэячсмитьбюё";
    const EN: &str = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
    let lower = c.to_lowercase().next()?;
    let i = RU.chars().position(|r| r == lower)?;
    let l = EN.chars().nth(i)?;
    Some(if c.is_uppercase() {
        l.to_ascii_uppercase()
    } else {
        l
    })
}

/// A key pressed on the Russian layout as the same physical key on the Latin one (`ч` → `x`);
/// None for any other key. The macros' keys (src/tui/macros.rs) are looked up the same way.
pub fn latin_event(key: KeyEvent) -> Option<KeyEvent> {
    let KeyCode::Char(c) = key.code else {
        return None;
    };
    let l = latin_twin(c)?;
    let mods = key.modifiers - KeyModifiers::SHIFT;
    Some(if l.is_ascii_uppercase() {
        KeyEvent::new(KeyCode::Char(l), mods | KeyModifiers::SHIFT)
    } else {
        KeyEvent::new(KeyCode::Char(l), mods)
    })
}

/// An action's name as the config's `[keys]` writes it (`link_duplicate`).
pub fn name(a: Action) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{a:?}"))
}

/// The config's check of the macros' keys (src/macros): each one a key, and none already an
/// action's (the Russian twin included; `keymap` None: the actions' keys are broken and
/// reported on their own) or another macro's — either would silently lose one of them.
pub fn check_macro_keys(
    keymap: Option<&Keymap>,
    macros: &[crate::macros::Macro],
) -> Result<(), String> {
    let mut taken: Vec<(KeyCombination, &str)> = vec![];
    for m in macros {
        let Some(key) = m.key.as_deref().filter(|k| !k.trim().is_empty()) else {
            continue;
        };
        let combo: KeyCombination = key.parse().map_err(|_| {
            format!(
                "macros `{}`: key `{key}` is not a key (write it on the Latin layout, like \
                 \"f5\", \"alt-1\", \"shift-z\")",
                m.id
            )
        })?;
        if let Some(action) = keymap.and_then(|k| k.action(combo.into())) {
            return Err(format!(
                "macros `{}`: key `{key}` is already the key of `{}`: give the macro another \
                 key (or `key = \"\"`), or move the action in [keys]",
                m.id,
                name(action)
            ));
        }
        if let Some((_, other)) = taken.iter().find(|(k, _)| *k == combo) {
            return Err(format!(
                "macros `{}`: key `{key}` is already the key of macro `{other}`",
                m.id
            ));
        }
        taken.push((combo, &m.id));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<KeyCombination, Action>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "[keys] {action}: `{key}` is not a key (write it like \"c\", \"shift-g\", \"ctrl-r\", \"f1\", \"enter\")"
    )]
    NotAKey { action: String, key: String },
    /// Two actions on one key: the later would silently take it from the other.
    #[error("[keys] {action}: `{key}` is already the key of {other} (give {other} other keys too)")]
    Taken {
        action: String,
        key: String,
        other: String,
    },
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::with_overrides(&BTreeMap::new()).unwrap_or(Keymap {
            map: HashMap::new(),
        })
    }
}

impl Keymap {
    /// Defaults, with `overrides` (action → keys) replacing an action's keys entirely.
    pub fn with_overrides(overrides: &BTreeMap<Action, Vec<String>>) -> Result<Keymap, KeyError> {
        let mut map = HashMap::new();
        for (action, keys) in DEFAULTS {
            let keys: Vec<String> = match overrides.get(action) {
                Some(k) => k.clone(),
                None => keys.iter().map(|k| k.to_string()).collect(),
            };
            for key in keys {
                let combo: KeyCombination = key.parse().map_err(|_| KeyError::NotAKey {
                    action: name(*action),
                    key: key.clone(),
                })?;
                if let Some(other) = map.insert(combo, *action)
                    && other != *action
                {
                    // Either one was overridden onto a key the other keeps by default.
                    let (mine, theirs) = if overrides.contains_key(action) {
                        (action, &other)
                    } else {
                        (&other, action)
                    };
                    return Err(KeyError::Taken {
                        action: name(*mine),
                        key,
                        other: name(*theirs),
                    });
                }
            }
        }
        Ok(Keymap { map })
    }

    pub fn action(&self, key: KeyEvent) -> Option<Action> {
        if let Some(a) = self.map.get(&KeyCombination::from(key)) {
            return Some(*a);
        }
        // The same physical key on the Russian layout.
        latin_event(key).and_then(|twin| self.map.get(&KeyCombination::from(twin)).copied())
    }

    /// Keys of each action, for the help screen (generated, so it never disagrees with the map).
    pub fn keys_of(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = self
            .map
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| k.to_string())
            .collect();
        keys.sort_by_key(|k| (k.len(), k.clone()));
        keys
    }

    /// Keys of each action as an operator reads them on a narrow screen: `Shift-r` is the
    /// letter they press, `R`; `PageDown` is `PgDn`.
    pub fn shown(&self, action: Action) -> Vec<String> {
        self.keys_of(action)
            .into_iter()
            .map(|k| match k.strip_prefix("Shift-") {
                Some(l) if l.chars().count() == 1 => l.to_uppercase(),
                _ => k.replace("PageDown", "PgDn").replace("PageUp", "PgUp"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        let mods = if c.is_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        KeyEvent::new(KeyCode::Char(c), mods)
    }

    #[test]
    fn defaults_and_russian_layout_agree() {
        let k = Keymap::default();
        assert_eq!(k.action(key('c')), Some(Action::Claim));
        assert_eq!(
            k.action(key('с')),
            Some(Action::Claim),
            "Cyrillic с sits on the C key"
        );
        assert_eq!(k.action(key('к')), Some(Action::Reply), "к sits on R");
        assert_eq!(k.action(key('ч')), Some(Action::Close), "ч sits on X");
        assert_eq!(k.action(key('G')), Some(Action::Bottom));
        assert_eq!(
            k.action(key('П')),
            Some(Action::Bottom),
            "shifted П is shifted G"
        );
        assert_eq!(k.action(key('/')), Some(Action::Filter));
        // The undelivered reply's actions: shifted К, З, Г are shifted R, P, U.
        assert_eq!(k.action(key('К')), Some(Action::Resend));
        assert_eq!(k.action(key('З')), Some(Action::Phoned));
        assert_eq!(k.action(key('Г')), Some(Action::Unreachable));
        assert_eq!(k.action(key('7')), Some(Action::ViewUndelivered));
        assert_eq!(
            k.action(key('Ф')),
            Some(Action::Assign),
            "shifted Ф is shifted A"
        );
        assert_eq!(
            k.action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            k.action(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)),
            Some(Action::Refresh)
        );
        assert_eq!(
            k.action(KeyEvent::new(KeyCode::Char('к'), KeyModifiers::CONTROL)),
            Some(Action::Refresh)
        );
    }

    #[test]
    fn every_action_has_a_key() {
        let k = Keymap::default();
        for a in Action::ALL {
            assert!(!k.keys_of(a).is_empty(), "{a:?}");
        }
    }

    #[test]
    fn overrides_replace_and_bad_keys_are_named() {
        let mut o = BTreeMap::new();
        o.insert(Action::Claim, vec!["v".to_string()]);
        let k = Keymap::with_overrides(&o).unwrap();
        assert_eq!(k.action(key('v')), Some(Action::Claim));
        assert_eq!(k.action(key('c')), None);
        o.insert(Action::Close, vec!["ctrl-nonsense".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err().to_string();
        assert!(e.contains("close") && e.contains("ctrl-nonsense"), "{e}");
    }

    #[test]
    fn a_key_taken_from_another_action_is_refused_with_both_named() {
        // `w` opens the alerts by default: claiming on it would silently lose them.
        let mut o = BTreeMap::new();
        o.insert(Action::Claim, vec!["w".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err().to_string();
        assert!(
            e.contains("claim") && e.contains("`w`") && e.contains("alerts"),
            "{e}"
        );
        // Moving the alerts elsewhere too makes it fine.
        o.insert(Action::Alerts, vec!["shift-z".to_string()]);
        let k = Keymap::with_overrides(&o).unwrap();
        assert_eq!(k.action(key('w')), Some(Action::Claim));
        // Two overrides onto one key.
        o.insert(Action::Close, vec!["w".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err().to_string();
        assert!(e.contains("`w`"), "{e}");
    }

    #[test]
    fn keys_are_shown_as_pressed() {
        let k = Keymap::default();
        assert_eq!(k.shown(Action::Resend), ["R"]);
        assert_eq!(k.shown(Action::PageDown), ["Ctrl-d", "PgDn"]);
    }

    #[test]
    fn the_defaults_give_every_key_one_action() {
        assert!(Keymap::with_overrides(&BTreeMap::new()).is_ok());
    }

    #[test]
    fn macro_keys_are_keys_of_their_own() {
        let shipped = crate::macros::shipped();
        let k = Keymap::default();
        assert_eq!(check_macro_keys(Some(&k), &shipped), Ok(()));
        let with = |key: &str| {
            let mut all = shipped.clone();
            let mut m = all[all.len() - 1].clone();
            m.id = "own".into();
            m.key = Some(key.into());
            all.push(m);
            check_macro_keys(Some(&k), &all).err().unwrap_or_default()
        };
        for (key, needles) in [
            ("r", &["`own`", "`r`", "`reply`"][..]),
            ("f5", &["`own`", "f5", "macro `accept`"]),
            ("ctrl-nonsense", &["`own`", "not a key"]),
            // Written on the Latin layout; the Russian one works by the same physical key.
            ("ч", &["`own`", "not a key"]),
        ] {
            let e = with(key);
            for n in needles {
                assert!(e.contains(n), "{key}: `{n}` in {e}");
            }
        }
        assert_eq!(with("f10"), "");
        // An action moved in [keys] onto a shipped macro's key: the macro is named.
        let mut o = BTreeMap::new();
        o.insert(Action::Refresh, vec!["f5".to_string()]);
        let moved = Keymap::with_overrides(&o).unwrap();
        let e = check_macro_keys(Some(&moved), &shipped).unwrap_err();
        assert!(e.contains("`accept`") && e.contains("`refresh`"), "{e}");
        // Giving that macro no key settles it.
        let mut unkeyed = shipped.clone();
        unkeyed[0].key = Some(String::new());
        assert_eq!(check_macro_keys(Some(&moved), &unkeyed), Ok(()));
    }
}
