//! Colours by role, so a light terminal gets readable ones and `NO_COLOR` gets none. Views ask
//! for a role (`bad`, `accent`…), never for a colour.

use ratatui::style::{Color, Style};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Breached clocks, errors, alarms.
    pub bad: Option<Color>,
    /// Clocks at risk, notes.
    pub warn: Option<Color>,
    /// Clocks with time to spare, delivered replies.
    pub ok: Option<Color>,
    /// Our messages, the filter line, headings.
    pub accent: Option<Color>,
    /// Hints and things without a clock.
    pub muted: Option<Color>,
    /// The citizen's messages.
    pub text: Option<Color>,
}

impl Theme {
    pub fn new(name: ThemeName, color: bool) -> Theme {
        match (color, name) {
            (false, _) => Theme::plain(),
            (true, ThemeName::Dark) => Theme::dark(),
            (true, ThemeName::Light) => Theme::light(),
        }
    }

    pub fn dark() -> Theme {
        Theme {
            bad: Some(Color::Red),
            warn: Some(Color::Yellow),
            ok: Some(Color::Green),
            accent: Some(Color::Cyan),
            muted: Some(Color::DarkGray),
            text: Some(Color::White),
        }
    }

    /// Yellow, cyan and white vanish on a white background; the 256-colour palette has darker
    /// shades that every terminal of the last twenty years draws the same way.
    pub fn light() -> Theme {
        Theme {
            bad: Some(Color::Indexed(160)),
            warn: Some(Color::Indexed(130)),
            ok: Some(Color::Indexed(28)),
            accent: Some(Color::Indexed(25)),
            muted: Some(Color::Indexed(244)),
            text: Some(Color::Black),
        }
    }

    /// https://no-color.org: emphasis by bold and reverse only.
    pub fn plain() -> Theme {
        Theme {
            bad: None,
            warn: None,
            ok: None,
            accent: None,
            muted: None,
            text: None,
        }
    }

    pub fn fg(c: Option<Color>) -> Style {
        match c {
            Some(c) => Style::default().fg(c),
            None => Style::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_over_the_theme() {
        assert_eq!(Theme::new(ThemeName::Light, false), Theme::plain());
        assert_eq!(Theme::new(ThemeName::Dark, true), Theme::dark());
        assert_ne!(Theme::light(), Theme::dark());
    }

    #[test]
    fn light_avoids_colours_unreadable_on_white() {
        let t = Theme::light();
        for c in [t.bad, t.warn, t.ok, t.accent, t.muted, t.text] {
            assert!(!matches!(
                c,
                Some(Color::Yellow | Color::White | Color::Cyan | Color::LightYellow)
            ));
        }
    }
}
