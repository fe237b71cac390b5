//! Topics and the departments that own them. Parsed from TOML text the caller read, so the
//! domain stays free of I/O.

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// The catalog shipped with the binary (the Krasnodar one, assets/catalog.toml).
pub const DEFAULT_CATALOG: &str = include_str!("../../assets/catalog.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Outside the administration (police, telecoms): forwarded, but not ours to chase.
    #[serde(default)]
    pub external: bool,
    /// How long the department has to answer, in working hours; the config's default otherwise.
    #[serde(default)]
    pub answer_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// The department a request of this topic goes to unless the operator picks another.
    #[serde(default)]
    pub department: Option<String>,
    /// Words that hint at this topic, for triage's suggestions while a city has too little
    /// history of its own (`[triage] min_history`).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// First-response target for this topic, in working hours; the config's default otherwise.
    #[serde(default)]
    pub response_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(default, rename = "department")]
    pub departments: Vec<Department>,
    #[serde(default, rename = "topic")]
    pub topics: Vec<Topic>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("{0}")]
    Parse(String),
    #[error("duplicate {kind} id `{id}`")]
    Duplicate { kind: &'static str, id: String },
    #[error("topic `{topic}` names unknown department `{department}`")]
    UnknownDepartment { topic: String, department: String },
    #[error("{kind} id `{id}` must be lowercase latin letters, digits and `_`")]
    BadId { kind: &'static str, id: String },
    #[error(
        "{what} must be a positive number of hours up to {MAX_CLOCK_HOURS} (a year), got {value}"
    )]
    BadHours { what: String, value: f64 },
    #[error("the catalog has no topics")]
    Empty,
}

impl Catalog {
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog =
            toml::from_str(text).map_err(|e| CatalogError::Parse(e.to_string()))?;
        catalog.validate()?;
        Ok(catalog)
    }

    pub fn krasnodar() -> Catalog {
        // The shipped asset is validated by a unit test, so this cannot fail at run time.
        Catalog::parse(DEFAULT_CATALOG).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), CatalogError> {
        if self.topics.is_empty() {
            return Err(CatalogError::Empty);
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.departments {
            check_id("department", &d.id)?;
            if !seen.insert(d.id.as_str()) {
                return Err(CatalogError::Duplicate {
                    kind: "department",
                    id: d.id.clone(),
                });
            }
            check_hours(
                &format!("department `{}` answer_hours", d.id),
                d.answer_hours,
            )?;
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.topics {
            check_id("topic", &t.id)?;
            if !seen.insert(t.id.as_str()) {
                return Err(CatalogError::Duplicate {
                    kind: "topic",
                    id: t.id.clone(),
                });
            }
            if let Some(dep) = &t.department
                && self.department(dep).is_none()
            {
                return Err(CatalogError::UnknownDepartment {
                    topic: t.id.clone(),
                    department: dep.clone(),
                });
            }
            check_hours(
                &format!("topic `{}` response_hours", t.id),
                t.response_hours,
            )?;
        }
        Ok(())
    }

    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// A topic as an operator types it, in the console's filter or on the command line: its id,
    /// or the start of its Russian or English name (`дороги`, `roads`, `Дорог`). One lookup, so
    /// the console and the CLI take the same words.
    pub fn find_topic(&self, typed: &str) -> Option<&Topic> {
        let v = typed.trim().to_lowercase();
        if v.is_empty() {
            return None;
        }
        self.topics.iter().find(|t| t.id == v).or_else(|| {
            self.topics.iter().find(|t| {
                t.name.to_lowercase().starts_with(&v)
                    || t.name_en
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().starts_with(&v))
            })
        })
    }

    /// A department as an operator types it: its id, or a part of its Russian or English name
    /// (`транспорт`, `ЖКХ`).
    pub fn find_department(&self, typed: &str) -> Option<&Department> {
        let v = typed.trim().to_lowercase();
        if v.is_empty() {
            return None;
        }
        self.departments.iter().find(|d| d.id == v).or_else(|| {
            self.departments.iter().find(|d| {
                d.name.to_lowercase().contains(&v)
                    || d.name_en
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&v))
            })
        })
    }

    /// The department a topic routes to by default, if the topic has one.
    pub fn default_department(&self, topic: &str) -> Option<&str> {
        self.topic(topic).and_then(|t| t.department.as_deref())
    }

    pub fn response_target(&self, topic: Option<&str>) -> Option<Duration> {
        topic
            .and_then(|t| self.topic(t))
            .and_then(|t| t.response_hours)
            .map(hours)
    }

    pub fn answer_target(&self, department: &str) -> Option<Duration> {
        self.department(department)
            .and_then(|d| d.answer_hours)
            .map(hours)
    }
}

/// The longest clock target, in hours: a year. A target is a promise to a citizen, so a longer
/// one is a typo; and a due time is found by walking a working-hours calendar slot by slot,
/// which for `1e9` hours never ends (`mcu new` hung).
pub const MAX_CLOCK_HOURS: f64 = 8760.0;

/// Whether `h` can be a clock target: the one check for every target, from the catalog
/// (topics, departments) and from the config (`[clocks]`).
pub fn valid_target_hours(h: f64) -> bool {
    h.is_finite() && h > 0.0 && h <= MAX_CLOCK_HOURS
}

pub fn hours(h: f64) -> Duration {
    Duration::milliseconds((h * 3_600_000.0).round() as i64)
}

fn check_id(kind: &'static str, id: &str) -> Result<(), CatalogError> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::BadId {
            kind,
            id: id.to_string(),
        })
    }
}

fn check_hours(what: &str, value: Option<f64>) -> Result<(), CatalogError> {
    match value {
        Some(v) if !valid_target_hours(v) => Err(CatalogError::BadHours {
            what: what.to_string(),
            value: v,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalog_is_valid_and_matches_design() {
        let c = Catalog::parse(DEFAULT_CATALOG).expect("shipped catalog parses");
        let expected = [
            ("utilities", Some("city_economy")),
            ("roads", Some("transport_roads")),
            ("urban", Some("city_economy")),
            ("transport", Some("transport_roads")),
            ("waste", Some("city_economy")),
            ("animals", Some("veterinary")),
            ("construction", Some("architecture")),
            ("social", Some("social")),
            ("trade", Some("consumer")),
            ("public_order", Some("police")),
            ("communications", Some("other")),
            ("other", Some("mcu")),
            ("out_of_scope", None),
        ];
        assert_eq!(c.topics.len(), expected.len());
        for (topic, dep) in expected {
            assert_eq!(c.default_department(topic), dep, "topic {topic}");
        }
        assert_eq!(c.topic("utilities").map(|t| t.name.as_str()), Some("ЖКХ"));
    }

    #[test]
    fn unknown_department_in_topic_is_rejected() {
        let err = Catalog::parse(
            "[[topic]]\nid = \"roads\"\nname = \"Дороги\"\ndepartment = \"nowhere\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            CatalogError::UnknownDepartment {
                topic: "roads".into(),
                department: "nowhere".into()
            }
        );
    }

    #[test]
    fn duplicate_ids_and_bad_ids_are_rejected() {
        let dup = "[[topic]]\nid = \"a\"\nname = \"A\"\n[[topic]]\nid = \"a\"\nname = \"B\"\n";
        assert!(matches!(
            Catalog::parse(dup),
            Err(CatalogError::Duplicate { .. })
        ));
        let bad = "[[topic]]\nid = \"Дороги\"\nname = \"A\"\n";
        assert!(matches!(
            Catalog::parse(bad),
            Err(CatalogError::BadId { .. })
        ));
        let hours = "[[topic]]\nid = \"a\"\nname = \"A\"\nresponse_hours = -1.0\n";
        assert!(matches!(
            Catalog::parse(hours),
            Err(CatalogError::BadHours { .. })
        ));
    }

    /// #16 item 10: a target longer than a year is no target (and a working-hours calendar
    /// would walk for ever to its due time).
    #[test]
    fn targets_longer_than_a_year_are_rejected() {
        let topic = "[[topic]]\nid = \"a\"\nname = \"A\"\nresponse_hours = 1e9\n";
        assert!(matches!(
            Catalog::parse(topic),
            Err(CatalogError::BadHours { .. })
        ));
        let department = "[[department]]\nid = \"d\"\nname = \"D\"\nanswer_hours = 8761\n\
                          [[topic]]\nid = \"a\"\nname = \"A\"\n";
        let e = Catalog::parse(department).unwrap_err().to_string();
        assert!(e.contains("8760"), "{e}");
        let year = "[[topic]]\nid = \"a\"\nname = \"A\"\nresponse_hours = 8760\n";
        assert!(Catalog::parse(year).is_ok());
    }

    #[test]
    fn unknown_key_names_the_key() {
        let err = Catalog::parse("[[topic]]\nid = \"a\"\nname = \"A\"\ncolour = 1\n").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn topics_and_departments_are_found_as_operators_type_them() {
        let c = Catalog::krasnodar();
        let id = |t: Option<&Topic>| t.map(|t| t.id.clone());
        assert_eq!(id(c.find_topic("roads")), Some("roads".into()));
        assert_eq!(id(c.find_topic("Дороги")), Some("roads".into()));
        assert_eq!(id(c.find_topic(" дорог ")), Some("roads".into()));
        assert_eq!(id(c.find_topic("Public tr")), Some("transport".into()));
        assert_eq!(id(c.find_topic("космос")), None);
        assert_eq!(id(c.find_topic("")), None);
        let dept = |d: Option<&Department>| d.map(|d| d.id.clone());
        assert_eq!(
            dept(c.find_department("транспорта")),
            Some("transport_roads".into())
        );
        assert_eq!(
            dept(c.find_department("transport_roads")),
            Some("transport_roads".into())
        );
        assert_eq!(dept(c.find_department("луна")), None);
    }
}
