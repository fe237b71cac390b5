//! `mcu incidents`: the open incidents and the candidate groups among open requests, for a
//! shift lead to look at and act on (`mcu incident …`).

use super::Format;
use crate::store::incidents::Group;

impl super::Invocation {
    pub(super) async fn incidents(&self) -> anyhow::Result<()> {
        let groups = self.store.incidents(self.incidents.clone()).await?;
        if groups.is_empty() && self.format == Format::Table {
            println!(
                "{}",
                self.labels.lang().pick(
                    "ни инцидентов, ни возможных массовых обращений нет",
                    "no incidents and no candidate groups"
                )
            );
            return Ok(());
        }
        self.print_groups(&groups)
    }

    pub(super) fn print_groups(&self, groups: &[Group]) -> anyhow::Result<()> {
        if self.format != Format::Table {
            println!("{}", serde_json::to_string_pretty(groups)?);
            return Ok(());
        }
        let lang = self.labels.lang();
        let catalog = &self.store.env().catalog;
        for g in groups {
            let topic = catalog
                .topic(&g.topic)
                .map(|t| {
                    crate::present::names::pick(&t.name, t.name_en.as_deref(), lang).to_string()
                })
                .unwrap_or_else(|| g.topic.clone());
            let head = match (&g.number, &g.title) {
                (Some(n), Some(t)) => format!("{n} {}", crate::sanitize::line(t)),
                _ => format!("{} {}", lang.pick("возможная группа", "candidate"), g.id),
            };
            let suggested = if g.suggested.is_empty() {
                String::new()
            } else {
                format!(
                    " · {} {}",
                    lang.pick("предложены", "suggested"),
                    g.suggested.join(", ")
                )
            };
            println!(
                "{head} · {} · {} · {} {} · {}{suggested}",
                crate::sanitize::line(&topic),
                crate::sanitize::line(&g.place),
                g.citizens,
                lang.pick("заявителей", "citizens"),
                g.members.join(", ")
            );
        }
        Ok(())
    }
}
