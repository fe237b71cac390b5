//! The language of texts meant for people: Russian by default, English on request
//! (`[ui] language = "en"`). The console's words live in `tui::strings`, the reports' in
//! `report`; both speak through this one type.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    pub fn from_config(language: &str) -> Lang {
        if language == "en" { Lang::En } else { Lang::Ru }
    }

    pub fn pick<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}
