//! `[departments.<id>]`: how the city's departments without mcu-desk are reached (#21). A
//! department with a Telegram chat gets each request forwarded to it there, through the
//! city's bot, and one with an e-mail address gets it by mail (`[smtp]`); its reply to that
//! message or mail is recorded as its answer. A department may have both.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One department's contact: its id is the catalog's (`city_economy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DepartmentContact {
    /// The department's Telegram group (negative id, e.g. -1001234567890); the bot must be a
    /// member. 0: none.
    pub telegram_chat_id: i64,
    /// The department's address (`dispatch@city.example`): forwards and reminders go there by
    /// `[smtp]`, and only mail from it is taken as the department's answer. Empty: none.
    pub email: String,
}

/// `[departments]`: whether department accounts see the citizen, and each department's
/// contact (`[departments.<id>]`), side by side in one table as a city's admin writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Departments {
    /// Department accounts (`mcu user add --role department`) see the citizen's name, phone,
    /// channel and the messages with them. Off: the department works the problem, the
    /// operators talk to the citizen.
    pub show_citizen: bool,
    #[serde(flatten)]
    pub each: BTreeMap<String, DepartmentContact>,
}

/// The departments reached in Telegram: department id → chat.
pub fn telegram_chats(all: &BTreeMap<String, DepartmentContact>) -> BTreeMap<String, String> {
    all.iter()
        .filter(|(_, c)| c.telegram_chat_id != 0)
        .map(|(id, c)| (id.clone(), c.telegram_chat_id.to_string()))
        .collect()
}

/// The departments reached by e-mail: department id → address, lower-cased as the senders of
/// the inbox's mail are (`domain::email`).
pub fn email_addresses(all: &BTreeMap<String, DepartmentContact>) -> BTreeMap<String, String> {
    all.iter()
        .filter_map(|(id, c)| {
            crate::domain::email::address(&c.email)
                .ok()
                .map(|a| (id.clone(), a))
        })
        .collect()
}

/// Every configured id must be a department of the catalog: a typo would otherwise forward
/// nothing, silently; so must every address be one.
pub fn check(
    all: &BTreeMap<String, DepartmentContact>,
    catalog: &crate::domain::Catalog,
) -> Result<(), String> {
    for id in all.keys() {
        if catalog.department(id).is_none() {
            let known: Vec<&str> = catalog.departments.iter().map(|d| d.id.as_str()).collect();
            return Err(format!(
                "departments.{id}: no such department in the catalog; there are: {}",
                known.join(", ")
            ));
        }
    }
    for (id, c) in all {
        if !c.email.trim().is_empty()
            && let Err(why) = crate::domain::email::address(&c.email)
        {
            return Err(format!(
                "departments.{id}.email: `{}` is not an e-mail address ({why})",
                c.email.trim()
            ));
        }
    }
    Ok(())
}
