//! `[departments.<id>]`: how the city's departments without mcu-desk are reached (#21). A
//! department with a Telegram chat gets each request forwarded to it there, through the
//! city's bot, and its reply to that message is recorded as its answer.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One department's contact: its id is the catalog's (`city_economy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DepartmentContact {
    /// The department's Telegram group (negative id, e.g. -1001234567890); the bot must be a
    /// member. 0: none.
    pub telegram_chat_id: i64,
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

/// Every configured id must be a department of the catalog: a typo would otherwise forward
/// nothing, silently.
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
    Ok(())
}
