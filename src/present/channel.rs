//! The names of the channels requests come through, each spelled here once: in full for reports,
//! as a badge in the console's status bar, as a three-letter column in its inbox.

use crate::domain::Channel;
use crate::lang::Lang;

/// How much room the name has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// «ВКонтакте»: report tables and the request sheet.
    Full,
    /// «TG ✓»: a channel's health in the console's status bar.
    Badge,
    /// The console inbox's channel column, three letters at most; not translated.
    Column,
}

pub fn name(channel: Channel, width: Width, lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => ru(channel, width),
        Lang::En => en(channel, width),
    }
}

/// The full name of a channel given by its key (`vk`); a key that names no channel is shown as
/// it is.
pub fn name_of_key(key: &str, lang: Lang) -> String {
    match key.parse::<Channel>() {
        Ok(c) => name(c, Width::Full, lang).to_string(),
        Err(_) => key.to_string(),
    }
}

fn ru(channel: Channel, width: Width) -> &'static str {
    use Channel::*;
    use Width::*;
    match (channel, width) {
        (Telegram, Full) => "Telegram",
        (Telegram, Badge | Column) => "TG",
        (Vk, Full) => "ВКонтакте",
        (Vk, Badge | Column) => "VK",
        (Pos, _) => "ПОС",
        (Open311, Full) => "Open311",
        (Open311, Badge | Column) => "311",
        (Phone, Full) => "телефон",
        (Phone, Badge) => "тел",
        (Phone, Column) => "ТЕЛ",
        (Email, Full) => "эл. почта",
        (Email, Badge | Column) => "@",
        (Manual, Full) => "вручную",
        (Manual, Badge) => "—",
        (Manual, Column) => "РУЧ",
    }
}

fn en(channel: Channel, width: Width) -> &'static str {
    use Channel::*;
    use Width::*;
    match (channel, width) {
        (Vk, Full) => "VK",
        (Pos, Full) => "Feedback platform (POS)",
        (Pos, Badge) => "POS",
        (Phone, Full) => "phone",
        (Phone, Badge) => "tel",
        (Email, Full) => "email",
        (Manual, Full) => "manual",
        // The rest reads the same in both languages.
        _ => ru(channel, width),
    }
}
