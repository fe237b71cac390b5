//! The `/` filter line: field words (`тема:дороги`, `topic:roads`, `dept:`, `status:`,
//! `channel:`, `@me`, `#tag`, `!closed`, a number `№2026-000123`) and free text for full-text search.

use crate::domain::{Catalog, Channel, Status};
use crate::store::{Assignee, Filter};

/// Applies the words of `line` on top of `base` (the current view's filter).
pub fn parse(line: &str, base: Filter, catalog: &Catalog, me: &str) -> Result<Filter, String> {
    let mut f = base;
    let mut text: Vec<&str> = vec![];
    for word in line.split_whitespace() {
        let lower = word.to_lowercase();
        if lower == "@me" || lower == "@я" {
            f.assignee = Some(Assignee::Is(me.to_string()));
        } else if lower == "!closed" || lower == "!закрытые" {
            f.open_only = true;
        } else if let Some(name) = word.strip_prefix('@') {
            f.assignee = Some(Assignee::Is(name.to_string()));
        } else if let Some(n) = word
            .strip_prefix('№')
            .or_else(|| is_number(word).then_some(word))
        {
            f.number = Some(n.to_string());
        } else if let Some(tag) = word.strip_prefix('#') {
            f.tag = Some(tag.to_lowercase());
        } else if let Some((field, value)) = word.split_once(':')
            && !value.is_empty()
        {
            match field.to_lowercase().as_str() {
                "topic" | "тема" => f.topic = Some(topic(catalog, value)?),
                "dept" | "department" | "деп" | "департамент" => {
                    f.department = Some(department(catalog, value)?)
                }
                "status" | "статус" => f.statuses = vec![status(value)?],
                "channel" | "канал" => {
                    f.channel = Some(value.to_lowercase().parse::<Channel>()?);
                }
                _ => text.push(word),
            }
        } else {
            text.push(word);
        }
    }
    if !text.is_empty() {
        f.text = Some(text.join(" "));
    }
    Ok(f)
}

/// A request number as the console shows it: `2026-000123`.
fn is_number(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 11
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
}

/// A topic by id, or by the start of its Russian or English name (`Catalog::find_topic`).
fn topic(catalog: &Catalog, value: &str) -> Result<String, String> {
    catalog
        .find_topic(value)
        .map(|t| t.id.clone())
        .ok_or_else(|| format!("неизвестная тема `{value}`"))
}

fn department(catalog: &Catalog, value: &str) -> Result<String, String> {
    catalog
        .find_department(value)
        .map(|d| d.id.clone())
        .ok_or_else(|| format!("неизвестный департамент `{value}`"))
}

fn status(value: &str) -> Result<Status, String> {
    let v = value.to_lowercase();
    v.parse::<Status>()
        .ok()
        .or_else(|| crate::present::status::from_ru_word(&v))
        .ok_or_else(|| format!("неизвестный статус `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Filter, String> {
        parse(line, Filter::default(), &Catalog::krasnodar(), "anna")
    }

    #[test]
    fn field_words_in_both_languages() {
        let f = p("тема:дороги @me !closed яма у школы").unwrap();
        assert_eq!(f.topic.as_deref(), Some("roads"));
        assert_eq!(f.assignee, Some(Assignee::Is("anna".into())));
        assert!(f.open_only);
        assert_eq!(f.text.as_deref(), Some("яма у школы"));
        let f = p("topic:roads dept:transport_roads status:waiting_department channel:vk #срочно")
            .unwrap();
        assert_eq!(f.department.as_deref(), Some("transport_roads"));
        assert_eq!(f.statuses, vec![Status::WaitingDepartment]);
        assert_eq!(f.channel, Some(Channel::Vk));
        assert_eq!(f.tag.as_deref(), Some("срочно"));
        assert_eq!(f.text, None);
        assert_eq!(p("статус:закрыто").unwrap().statuses, vec![Status::Closed]);
        assert_eq!(
            p("деп:ветеринар").unwrap().department.as_deref(),
            Some("veterinary")
        );
    }

    #[test]
    fn unknown_values_are_explained() {
        assert!(p("тема:космос").unwrap_err().contains("космос"));
        assert!(p("channel:fax").unwrap_err().contains("fax"));
    }

    #[test]
    fn colon_in_free_text_is_text() {
        assert_eq!(
            p("время: 10:30").unwrap().text.as_deref(),
            Some("время: 10:30")
        );
    }
}
