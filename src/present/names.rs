//! The catalog's names in the reader's language: a topic or department has a Russian name and
//! maybe an English one, and every screen and sheet falls back the same way.

use crate::domain::Catalog;
use crate::lang::Lang;

/// `name_en` in English when there is one, else the Russian `name`.
pub fn pick<'a>(name: &'a str, name_en: Option<&'a str>, lang: Lang) -> &'a str {
    match (lang, name_en) {
        (Lang::En, Some(en)) => en,
        _ => name,
    }
}

/// A topic's name; an id the catalog does not know is shown as it is.
pub fn topic(catalog: &Catalog, id: &str, lang: Lang) -> String {
    catalog.topic(id).map_or_else(
        || id.to_string(),
        |t| pick(&t.name, t.name_en.as_deref(), lang).to_string(),
    )
}

/// A department's name; an id the catalog does not know is shown as it is.
pub fn department(catalog: &Catalog, id: &str, lang: Lang) -> String {
    catalog.department(id).map_or_else(
        || id.to_string(),
        |d| pick(&d.name, d.name_en.as_deref(), lang).to_string(),
    )
}
