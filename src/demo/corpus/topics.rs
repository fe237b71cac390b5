//! The topic table (shares, departments, phrase themes) and the small slot lists.

use super::{tail, texts};

/// Problems of one kind with the details that can follow them.
pub(super) struct Theme {
    pub cores: &'static [&'static str],
    pub details: &'static [&'static str],
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum History {
    None,
    /// Hotline, Госуслуги, earlier requests.
    General,
    /// General plus the management company; such topics also get the occasional long letter.
    Housing,
}

pub(super) struct Topic {
    pub id: &'static str,
    pub department: Option<&'static str>,
    /// Per mille of all requests.
    pub weight: u64,
    /// Probability that the citizen names a street or microdistrict.
    pub loc_p: f64,
    pub photo_p: f64,
    pub angry_p: f64,
    pub themes: &'static [Theme],
    /// Details that fit every theme of the topic.
    pub common: &'static [&'static str],
    pub follow: &'static [&'static str],
    /// Which "we already tried" sentences fit.
    pub history: History,
    /// Whether a place the problem sentence did not name is added as "Адрес: ...".
    pub trailer: bool,
    /// Polite closings.
    pub close: &'static [&'static str],
}

#[rustfmt::skip]
pub(super) static TOPICS: [Topic; 13] = [
    Topic { id: "utilities", department: Some("city_economy"), weight: 220, loc_p: 0.85, photo_p: 0.35, angry_p: 0.30,
            themes: texts::UTILITIES, common: texts::UTILITIES_COMMON, follow: texts::UTILITIES_FOLLOW, history: History::Housing, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "roads", department: Some("transport_roads"), weight: 190, loc_p: 0.9, photo_p: 0.6, angry_p: 0.30,
            themes: texts::ROADS, common: texts::ROADS_COMMON, follow: texts::ROADS_FOLLOW, history: History::Housing, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "urban", department: Some("city_economy"), weight: 120, loc_p: 0.85, photo_p: 0.55, angry_p: 0.15,
            themes: texts::URBAN, common: texts::URBAN_COMMON, follow: texts::URBAN_FOLLOW, history: History::Housing, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "transport", department: Some("transport_roads"), weight: 110, loc_p: 0.0, photo_p: 0.2, angry_p: 0.30,
            themes: texts::TRANSPORT, common: texts::TRANSPORT_COMMON, follow: texts::TRANSPORT_FOLLOW, history: History::General, trailer: false, close: tail::CLOSE_POLITE },
    Topic { id: "waste", department: Some("city_economy"), weight: 100, loc_p: 0.85, photo_p: 0.65, angry_p: 0.30,
            themes: texts::WASTE, common: texts::WASTE_COMMON, follow: texts::WASTE_FOLLOW, history: History::Housing, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "animals", department: Some("veterinary"), weight: 40, loc_p: 0.8, photo_p: 0.5, angry_p: 0.15,
            themes: tail::ANIMALS, common: tail::ANIMALS_COMMON, follow: tail::ANIMALS_FOLLOW, history: History::None, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "construction", department: Some("architecture"), weight: 35, loc_p: 0.85, photo_p: 0.5, angry_p: 0.25,
            themes: tail::CONSTRUCTION, common: &[], follow: tail::CONSTRUCTION_FOLLOW, history: History::Housing, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "social", department: Some("social"), weight: 35, loc_p: 0.6, photo_p: 0.05, angry_p: 0.15,
            themes: tail::SOCIAL, common: tail::SOCIAL_COMMON, follow: tail::SOCIAL_FOLLOW, history: History::General, trailer: false, close: tail::CLOSE_POLITE },
    Topic { id: "trade", department: Some("consumer"), weight: 30, loc_p: 0.85, photo_p: 0.3, angry_p: 0.15,
            themes: tail::TRADE, common: &[], follow: tail::TRADE_FOLLOW, history: History::None, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "public_order", department: Some("police"), weight: 30, loc_p: 0.85, photo_p: 0.3, angry_p: 0.2,
            themes: tail::ORDER, common: &[], follow: tail::ORDER_FOLLOW, history: History::General, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "communications", department: Some("other"), weight: 20, loc_p: 0.8, photo_p: 0.1, angry_p: 0.15,
            themes: tail::COMM, common: &[], follow: tail::COMM_FOLLOW, history: History::General, trailer: true, close: tail::CLOSE_POLITE },
    Topic { id: "other", department: Some("mcu"), weight: 20, loc_p: 0.0, photo_p: 0.05, angry_p: 0.05,
            themes: tail::OTHER, common: &[], follow: tail::OTHER_FOLLOW, history: History::None, trailer: false, close: tail::CLOSE_SOFT },
    Topic { id: "out_of_scope", department: None, weight: 50, loc_p: 0.5, photo_p: 0.25, angry_p: 0.0,
            themes: tail::OOS, common: &[], follow: tail::OOS_FOLLOW, history: History::None, trailer: false, close: tail::CLOSE_SOFT },
];

pub(super) static SINCE: &[&str] = &[
    "с утра",
    "с самого утра",
    "со вчерашнего дня",
    "со вчерашнего вечера",
    "с ночи",
    "с понедельника",
    "со вторника",
    "с прошлой пятницы",
    "с выходных",
    "уже третий день",
    "второй день",
    "пятый день",
    "вторую неделю",
    "уже неделю",
    "почти месяц",
    "уже двое суток",
    "с шести утра",
    "с обеда",
    "с начала месяца",
    "уже несколько дней",
];
/// Short spans, for things that cannot last a month (a cat up a tree).
pub(super) static RECENT: &[&str] = &[
    "с утра",
    "со вчерашнего вечера",
    "с ночи",
    "уже несколько часов",
    "с обеда",
    "уже часа три",
];
pub(super) static PART: &[&str] = &[
    "утром",
    "вечером",
    "ночью",
    "днём",
    "по вечерам",
    "по ночам",
    "рано утром",
    "в выходные",
    "в час пик",
];
pub(super) static WAIT: &[&str] = &[
    "сорок минут",
    "полчаса",
    "час",
    "полтора часа",
    "минут пятьдесят",
    "25 минут",
    "45 минут",
    "больше сорока минут",
];
pub(super) static DAYS: &[&str] = &[
    "Прошло два дня",
    "Прошло три дня",
    "Прошла неделя",
    "Прошло уже пять дней",
    "Прошёл месяц",
    "Прошло две недели",
    "Прошли сутки",
    "Прошло уже десять дней",
];
/// Extra sentences for the occasional long, detailed letter.
pub(super) static LONG_EXTRA: &[&str] = &[
    "Живу здесь с 2009 года, раньше такого не было.",
    "Мы пенсионеры, сами ничего сделать не можем.",
    "Каждый раз, когда звонишь, отвечают одно и то же.",
    "Хочется жить в нормальном городе, а не на окраине, о которой все забыли.",
    "Я понимаю, что проблем в городе много, но эта тянется слишком долго.",
    "Надеюсь, в этот раз обращение не потеряется.",
    "Весь дом подписался под этим обращением.",
    "Летом ситуация только ухудшается.",
    "Мы платим за всё вовремя и хотим нормального отношения.",
    "Если нужно, готовы встретиться на месте и всё показать.",
    "Раньше за этим следили, а последние два года всё заброшено.",
    "Прошу не пересылать обращение по кругу, а дать конкретный ответ со сроками.",
    "В нашем квартале живёт больше двух тысяч человек, и все сталкиваются с этим каждый день.",
    "Мы уже и сами пытались что-то сделать, скидывались всем подъездом, но так нельзя бесконечно.",
    "Когда здесь строили новые дома, нам обещали, что вся инфраструктура будет в порядке.",
    "Многие соседи просто махнули рукой и никуда не пишут, а я считаю, что молчать нельзя.",
    "Ответ в духе «информация принята к сведению» нас не устроит, нужны конкретные сроки.",
    "Прилагаю всё, что удалось собрать: даты, номера прошлых обращений, фотографии.",
    "Если эта проблема не в вашей компетенции, подскажите, пожалуйста, куда обращаться дальше.",
    "Очень надеемся на понимание и на то, что город наконец обратит на нас внимание.",
];
pub(super) static HOUSE_SUFFIX: &[&str] = &["а", "б", "/1", "/2", "/3", " к1", " к2", "в"];
pub(super) static MISSPELL: &[(&str, &str)] = &[
    ("невозможно", "не возможно"),
    ("Здравствуйте", "Здраствуйте"),
    ("пожалуйста", "пожалуста"),
    ("чтобы", "что бы"),
    ("вообще", "вобще"),
    ("агрессивные", "агресивные"),
    ("ничего", "ни чего"),
    ("сейчас", "щас"),
    ("несколько", "нескольо"),
    ("раньше", "раньще"),
    ("ответа", "отвта"),
    ("течёт", "течот"),
    ("кондиционер", "кондеционер"),
    ("расписанию", "росписанию"),
];
