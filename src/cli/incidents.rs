//! `mcu incidents`: the candidate groups among open requests, for a shift lead to look at.

use super::Format;

impl super::Invocation {
    pub(super) async fn incidents(&self) -> anyhow::Result<()> {
        let groups = self
            .store
            .incident_candidates(self.incidents.clone())
            .await?;
        match self.format {
            Format::Table => {
                if groups.is_empty() {
                    println!(
                        "{}",
                        if self.labels.en {
                            "no candidate incidents"
                        } else {
                            "возможных массовых обращений нет"
                        }
                    );
                }
                let catalog = &self.store.env().catalog;
                for g in &groups {
                    let topic = catalog
                        .topic(&g.topic)
                        .map(|t| {
                            crate::present::names::pick(
                                &t.name,
                                t.name_en.as_deref(),
                                self.labels.lang(),
                            )
                            .to_string()
                        })
                        .unwrap_or_else(|| g.topic.clone());
                    println!(
                        "{} · {} · {} {} · {}",
                        crate::sanitize::line(&topic),
                        crate::sanitize::line(&g.place),
                        g.citizens,
                        if self.labels.en {
                            "citizens"
                        } else {
                            "заявителей"
                        },
                        g.members.join(", ")
                    );
                }
            }
            _ => println!("{}", serde_json::to_string_pretty(&groups)?),
        }
        Ok(())
    }
}
