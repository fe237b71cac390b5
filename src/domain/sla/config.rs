//! The `[calendar]` section of the config file.

use std::fmt;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer, Serialize};

use super::calendar::{Calendar, CalendarError, Slot, WEEK, check_week};

/// The `[calendar]` section. Every field has a default, so an absent section means
/// a 24/7 clock in Moscow time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// IANA name, e.g. "Europe/Moscow".
    pub timezone: String,
    pub mode: CalendarMode,
    /// Checked in both modes so a typo is reported before someone switches modes.
    pub week: WeekConfig,
    /// Local dates with no working time; ignored in `always` mode. Written as
    /// strings ("2026-01-01") or as TOML dates (2026-01-01).
    #[serde(deserialize_with = "holiday_dates")]
    pub holidays: Vec<NaiveDate>,
    /// A shipped list of a country's non-working days added to `holidays`: "ru" (Russia,
    /// 2026–2027, `assets/holidays-ru.toml`) or "" for none.
    pub holiday_set: String,
}

impl Default for CalendarConfig {
    fn default() -> CalendarConfig {
        CalendarConfig {
            timezone: "Europe/Moscow".to_owned(),
            mode: CalendarMode::default(),
            week: WeekConfig::default(),
            holidays: Vec::new(),
            holiday_set: "ru".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarMode {
    #[default]
    Always,
    WorkingHours,
}

/// Slots per weekday as `"HH:MM-HH:MM"` strings. A day left out keeps its default
/// (Mon–Fri 09:00–13:00 and 14:00–18:00, weekend closed); write `sat = []` to close a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeekConfig {
    pub mon: Vec<String>,
    pub tue: Vec<String>,
    pub wed: Vec<String>,
    pub thu: Vec<String>,
    pub fri: Vec<String>,
    pub sat: Vec<String>,
    pub sun: Vec<String>,
}

impl Default for WeekConfig {
    fn default() -> WeekConfig {
        let office = || vec!["09:00-13:00".to_owned(), "14:00-18:00".to_owned()];
        WeekConfig {
            mon: office(),
            tue: office(),
            wed: office(),
            thu: office(),
            fri: office(),
            sat: Vec::new(),
            sun: Vec::new(),
        }
    }
}

impl WeekConfig {
    /// Parsed and checked slots, Monday first.
    pub fn slots(&self) -> Result<[Vec<Slot>; 7], CalendarError> {
        let texts = [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ];
        let mut week: [Vec<Slot>; 7] = Default::default();
        for ((day, texts), slots) in WEEK.into_iter().zip(texts).zip(week.iter_mut()) {
            for text in texts {
                let slot = text.parse().map_err(|problem| CalendarError::BadSlot {
                    day,
                    slot: text.clone(),
                    problem,
                })?;
                slots.push(slot);
            }
        }
        check_week(week)
    }
}

impl CalendarConfig {
    pub fn build(&self) -> Result<Calendar, CalendarError> {
        let tz = parse_time_zone(&self.timezone)?;
        let week = self.week.slots()?;
        match self.mode {
            CalendarMode::Always => Ok(Calendar::always(tz)),
            CalendarMode::WorkingHours => {
                let shipped = holiday_set(&self.holiday_set)?;
                Calendar::working_hours(
                    tz,
                    week,
                    shipped.into_iter().chain(self.holidays.iter().copied()),
                )
            }
        }
    }
}

const HOLIDAYS_RU: &str = include_str!("../../../assets/holidays-ru.toml");

#[derive(Deserialize)]
struct HolidaySet {
    days: std::collections::BTreeMap<String, Vec<HolidayDate>>,
}

/// The non-working days of a shipped set, every year it has.
pub fn holiday_set(name: &str) -> Result<Vec<NaiveDate>, CalendarError> {
    let text = match name {
        "" => return Ok(vec![]),
        "ru" => HOLIDAYS_RU,
        other => return Err(CalendarError::UnknownHolidaySet(other.to_owned())),
    };
    // Shipped with the binary and checked by a test: a failure here is a build's mistake.
    let set: HolidaySet = toml::from_str(text)
        .map_err(|e| CalendarError::UnknownHolidaySet(format!("{name}: {e}")))?;
    Ok(set
        .days
        .into_values()
        .flatten()
        .map(|HolidayDate(d)| d)
        .collect())
}

/// An IANA time-zone name, exactly as spelled in the tz database.
pub fn parse_time_zone(name: &str) -> Result<Tz, CalendarError> {
    name.parse()
        .map_err(|_| CalendarError::UnknownTimeZone(name.to_owned()))
}

fn holiday_dates<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<NaiveDate>, D::Error> {
    let dates = Vec::<HolidayDate>::deserialize(deserializer)?;
    Ok(dates.into_iter().map(|HolidayDate(date)| date).collect())
}

/// A holiday as a string or, since operators write TOML by hand, a bare TOML date,
/// which the toml crate hands over as a map rather than a string.
struct HolidayDate(NaiveDate);

impl<'de> Deserialize<'de> for HolidayDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HolidayDate, D::Error> {
        deserializer.deserialize_any(HolidayVisitor)
    }
}

struct HolidayVisitor;

impl<'de> Visitor<'de> for HolidayVisitor {
    type Value = HolidayDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date such as \"2026-01-01\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<HolidayDate, E> {
        text.parse()
            .map(HolidayDate)
            .map_err(|e| E::custom(format!("holiday {text:?} is not a YYYY-MM-DD date: {e}")))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HolidayDate, A::Error> {
        let value = toml::value::Datetime::deserialize(MapAccessDeserializer::new(map))?;
        let date = match value {
            toml::value::Datetime {
                date: Some(d),
                time: None,
                offset: None,
            } => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
            _ => None,
        };
        date.map(HolidayDate).ok_or_else(|| {
            de::Error::custom(format!(
                "holiday {value} must be a date without a time, e.g. 2026-01-01"
            ))
        })
    }
}
