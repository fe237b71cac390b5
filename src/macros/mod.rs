//! Macros: one key that does what an operator otherwise does in several — a ready reply, the
//! topic or department, a forward, a close with its reason. They are data (the shipped set in
//! `assets/macros.toml`, the center's own under `[[macros]]`) and expand (`expand`) into the
//! ordinary mutations every writer applies, so a macro is audited, synced and refused exactly as
//! the same steps taken by hand would be.

use serde::{Deserialize, Serialize};

use crate::domain::{Catalog, CloseReason, Priority};
use crate::lang::Lang;
use crate::templates::ReplyTemplate;

mod expand;
pub use expand::{Context, MacroError, Plan, PlannedReply, expand};

const SHIPPED: &str = include_str!("../../assets/macros.toml");

/// One macro as written. Steps are plain fields rather than a list: they always run in one
/// order (`Step::ORDER`), the only one `apply` accepts all of in, so no file can get it wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Macro {
    /// Stable: `mcu macro ID`, and how the center's own replaces a shipped one.
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    /// The console's direct key (`f5`, `alt-1`); none: the palette only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A catalog topic; the department follows it unless `department` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Checked as written (`low` … `urgent`), so a wrong one names its macro.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Forward to `department`, else to the request's department.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forward: bool,
    /// The forward's note for the department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A ready reply's shortcut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// A close reason, checked as written for the same reason as `priority`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<String>,
    /// False in the config: the shipped macro of this id is not offered.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn is_yes(b: &bool) -> bool {
    *b
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shipped {
    #[serde(rename = "macro", default)]
    macros: Vec<Macro>,
}

/// A macro's step, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Topic,
    Department,
    Priority,
    Forward,
    Reply,
    Close,
}

impl Step {
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Step::Topic => lang.pick("тема", "topic"),
            Step::Department => lang.pick("департамент", "department"),
            Step::Priority => lang.pick("приоритет", "priority"),
            Step::Forward => lang.pick("передать в департамент", "forward"),
            Step::Reply => lang.pick("ответ заявителю", "reply"),
            Step::Close => lang.pick("закрыть", "close"),
        }
    }
}

/// The shipped macros, in file order (the first ones have keys).
pub fn shipped() -> Vec<Macro> {
    // A unit test parses the file, so the fallback never runs in a released build.
    toml::from_str::<Shipped>(SHIPPED)
        .map(|s| s.macros)
        .unwrap_or_default()
}

/// The macros a center works with: the shipped ones that fit its catalog, with its own — an id
/// of a shipped one replaces it in place (or removes it, `enabled = false`), a new id follows.
/// A shipped macro naming a topic or department the center's own catalog lacks is left out
/// rather than refused: replacing the catalog must not make the shipped set an error.
pub fn merged(own: &[Macro], catalog: &Catalog, templates: &[ReplyTemplate]) -> Vec<Macro> {
    let mut all: Vec<Macro> = shipped()
        .into_iter()
        .filter(|m| problem(m, catalog, templates).is_none())
        .collect();
    for m in own {
        match all.iter().position(|s| s.id == m.id) {
            Some(i) => all[i] = m.clone(),
            None => all.push(m.clone()),
        }
    }
    all.retain(|m| m.enabled);
    all
}

impl Macro {
    /// The title in `lang` (the Russian one when there is no English).
    pub fn title(&self, lang: Lang) -> &str {
        match (lang, &self.title_en) {
            (Lang::En, Some(en)) if !en.trim().is_empty() => en,
            _ => &self.title,
        }
    }

    pub fn priority(&self) -> Result<Option<Priority>, String> {
        self.priority.as_deref().map(str::parse).transpose()
    }

    /// The close reason; a duplicate is refused: it needs the original, which a macro can't know.
    pub fn close_reason(&self) -> Result<Option<CloseReason>, String> {
        match self
            .close
            .as_deref()
            .map(str::parse::<CloseReason>)
            .transpose()?
        {
            Some(CloseReason::Duplicate) => Err(
                "close = `duplicate` needs the original request: join duplicates with `D` or \
                 `mcu link`"
                    .into(),
            ),
            other => Ok(other),
        }
    }

    /// The steps this macro has, in the order they run.
    pub fn steps(&self) -> Vec<Step> {
        [
            (self.topic.is_some(), Step::Topic),
            (self.department.is_some() && !self.forward, Step::Department),
            (self.priority.is_some(), Step::Priority),
            (self.forward, Step::Forward),
            (self.reply.is_some(), Step::Reply),
            (self.close.is_some(), Step::Close),
        ]
        .into_iter()
        .filter_map(|(on, s)| on.then_some(s))
        .collect()
    }

    /// What the macro does, a phrase a step, for lists and the console's status line
    /// (`тема «ЖКХ»`, `ответ ::ack`, `закрыть: решено`).
    pub fn describe(&self, catalog: &Catalog, lang: Lang) -> Vec<String> {
        self.describe_on(catalog, lang, self.department.as_deref())
    }

    /// As `describe`, naming the department a forward goes to on one request (`Plan::forward_to`)
    /// when the macro itself does not say.
    pub fn describe_on(
        &self,
        catalog: &Catalog,
        lang: Lang,
        forward_to: Option<&str>,
    ) -> Vec<String> {
        use crate::present::names;
        let topic = |id: &str| names::topic(catalog, id, lang);
        let department = |id: &str| names::department(catalog, id, lang);
        self.steps()
            .into_iter()
            .map(|s| {
                let name = s.name(lang);
                match s {
                    Step::Topic => {
                        format!("{name} «{}»", topic(self.topic.as_deref().unwrap_or("")))
                    }
                    Step::Department => format!(
                        "{name} «{}»",
                        department(self.department.as_deref().unwrap_or(""))
                    ),
                    Step::Priority => match self.priority() {
                        Ok(Some(p)) => {
                            format!("{name}: {}", names::priority(p, lang))
                        }
                        _ => name.to_string(),
                    },
                    Step::Forward => match forward_to {
                        Some(d) => format!("{name} «{}»", department(d)),
                        None => name.to_string(),
                    },
                    Step::Reply => format!("{name} ::{}", self.reply.as_deref().unwrap_or("")),
                    Step::Close => match self.close_reason() {
                        Ok(Some(r)) => {
                            format!("{name}: {}", names::close_reason(r, lang))
                        }
                        _ => name.to_string(),
                    },
                }
            })
            .collect()
    }
}

/// Why `m` can't run with this catalog and these ready replies, naming the field; None: it can.
pub fn problem(m: &Macro, catalog: &Catalog, templates: &[ReplyTemplate]) -> Option<String> {
    if m.id.is_empty() || m.id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("id must be one word (`mcu macro ID`)".into());
    }
    if !m.enabled {
        return None;
    }
    if m.title.trim().is_empty() {
        return Some("has no title".into());
    }
    if m.steps().is_empty() {
        return Some(
            "does nothing: give it a topic, department, priority, forward, reply or close".into(),
        );
    }
    if let Some(t) = &m.topic
        && catalog.topic(t).is_none()
    {
        return Some(format!("topic `{t}` is no topic of the catalog"));
    }
    if let Some(d) = &m.department
        && catalog.department(d).is_none()
    {
        return Some(format!("department `{d}` is no department of the catalog"));
    }
    if let Err(e) = m.priority() {
        return Some(e);
    }
    if let Err(e) = m.close_reason() {
        return Some(e);
    }
    if m.note.is_some() && !m.forward {
        return Some("`note` is the forward's note: add `forward = true`".into());
    }
    if let Some(s) = &m.reply
        && !templates.iter().any(|t| t.shortcut == *s)
    {
        return Some(format!(
            "reply `{s}` is no ready reply's shortcut (`mcu templates` lists them)"
        ));
    }
    None
}

/// The config's check of the center's own macros: each sound, one id each. Their keys are the
/// keymap's to check (`tui::keymap::check_macro_keys`), against the actions' keys.
pub fn check_own(
    own: &[Macro],
    catalog: &Catalog,
    templates: &[ReplyTemplate],
) -> Result<(), String> {
    let mut ids = std::collections::BTreeSet::new();
    for m in own {
        if let Some(p) = problem(m, catalog, templates) {
            return Err(format!("macros `{}`: {p}", m.id));
        }
        if !ids.insert(m.id.as_str()) {
            return Err(format!("macros `{}`: the id is given twice", m.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
