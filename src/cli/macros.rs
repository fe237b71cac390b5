//! `mcu macros` and `mcu macro ID NUMBER`: the console's macros from the command line, expanded
//! by the same `macros::expand` and applied as one batch through the same path as every other
//! CLI action (`act`), so a script's macro is the console's, step for step.

use super::{Format, Invocation, Refused};

impl Invocation {
    /// `mcu macros`: id, key, title and steps a line, or everything in JSON.
    pub(super) fn list_macros(&self) -> anyhow::Result<()> {
        use std::io::Write;
        let lang = self.labels.lang();
        let catalog = &self.store.env().catalog;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match self.format {
            Format::Json | Format::Jsonl => {
                let all: Vec<serde_json::Value> = self
                    .macros
                    .iter()
                    .map(|m| {
                        let mut v = serde_json::to_value(m).unwrap_or_default();
                        v["title"] = m.title(lang).into();
                        v["steps"] = m.describe(catalog, lang).into();
                        v
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
            }
            Format::Table | Format::Csv => {
                for m in &self.macros {
                    let key = m.key.as_deref().unwrap_or("");
                    writeln!(
                        out,
                        "{:<10} {:<4} {} — {}",
                        m.id,
                        key,
                        crate::sanitize::line(m.title(lang)),
                        crate::sanitize::line(&m.describe(catalog, lang).join(", "))
                    )?;
                }
            }
        }
        Ok(())
    }

    /// `mcu macro ID NUMBER`: every step tried on the request first, then all applied at once.
    pub(super) async fn run_macro(&self, id: &str, number: &str) -> anyhow::Result<()> {
        let lang = self.labels.lang();
        let m = self.macros.iter().find(|m| m.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.macros.iter().map(|m| m.id.as_str()).collect();
            Refused(format!(
                "{} `{}` ({})",
                lang.pick("нет макроса", "no macro"),
                crate::sanitize::line(id),
                known.join(", ")
            ))
        })?;
        let detail = self.store.detail(number).await?;
        let env = self.store.env();
        let cx = crate::macros::Context {
            catalog: &env.catalog,
            policy: &env.policy,
            templates: &self.templates,
            tz: env.policy.calendar.tz(),
            lang,
            now: self.store.now(),
            actor: &self.operator,
            detail: Some(&detail),
        };
        let plan = crate::macros::expand(m, &detail.request, &cx).map_err(|e| {
            Refused(format!(
                "{} «{}»: {}; {}",
                lang.pick("макрос", "macro"),
                m.title(lang),
                e.describe(lang),
                lang.pick("ничего не изменено", "nothing changed")
            ))
        })?;
        self.act(&detail.request.number.to_string(), plan.ops(None))
            .await
    }
}
