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

/// A message's delivery state in words, for the card's thread and `mcu show`.
pub fn delivery(d: crate::domain::request::DeliveryState, lang: Lang) -> &'static str {
    use crate::domain::request::DeliveryState as D;
    match d {
        D::Queued => lang.pick("в очереди", "queued"),
        D::Sending => lang.pick("отправляется", "sending"),
        D::Sent => lang.pick("доставлено", "sent"),
        D::Unknown => lang.pick("не известно, дошло ли", "delivery unknown"),
        D::Failed => lang.pick("не доставлено", "failed"),
        D::Recorded => lang.pick("записано", "recorded"),
    }
}

pub fn priority(p: crate::domain::Priority, lang: Lang) -> &'static str {
    use crate::domain::Priority as P;
    match p {
        P::Low => lang.pick("низкий", "low"),
        P::Normal => lang.pick("обычный", "normal"),
        P::High => lang.pick("высокий", "high"),
        P::Urgent => lang.pick("срочный", "urgent"),
    }
}

pub fn close_reason(r: crate::domain::CloseReason, lang: Lang) -> &'static str {
    use crate::domain::CloseReason as C;
    match r {
        C::Resolved => lang.pick("решено", "resolved"),
        C::Duplicate => lang.pick("дубликат", "duplicate"),
        C::OutOfScope => lang.pick("вне компетенции", "out of scope"),
        C::Spam => lang.pick("спам", "spam"),
        C::NoReplyNeeded => lang.pick("ответ не нужен", "no reply needed"),
        C::NoAnswer => lang.pick("заявитель не ответил", "no answer from the citizen"),
        C::Merged => lang.pick("объединено", "merged"),
    }
}

/// What a file a citizen sent is, in words (`photo` → «фото»).
pub fn attachment_kind(kind: &str, lang: Lang) -> String {
    let (ru, en) = match kind {
        "photo" => ("фото", "photo"),
        "document" => ("документ", "document"),
        "video" => ("видео", "video"),
        "voice" => ("голосовое", "voice message"),
        "audio" => ("аудио", "audio"),
        other => return other.to_string(),
    };
    lang.pick(ru, en).to_string()
}

/// Whether an operator is on shift, as the team list and `mcu shift` say it.
pub fn shift(on: bool, lang: Lang) -> &'static str {
    match (on, lang) {
        (true, Lang::Ru) => "на смене",
        (false, Lang::Ru) => "не на смене",
        (true, Lang::En) => "on shift",
        (false, Lang::En) => "off shift",
    }
}
