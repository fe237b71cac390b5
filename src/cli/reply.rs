//! `mcu reply`'s text: a ready reply and the operator's words, with the variables filled as the
//! console's composer fills them (`present::reply_vars`), so a citizen on VK never reads
//! `{citizen}` or `{number}`.

use super::{Format, Invocation};

impl Invocation {
    /// `mcu templates`: shortcut and title a line, or everything in JSON.
    pub(super) fn list_templates(&self) -> anyhow::Result<()> {
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match self.format {
            Format::Json | Format::Jsonl => {
                let all: Vec<serde_json::Value> = self
                    .templates
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "shortcut": t.shortcut,
                            "title": if self.labels.en {
                                t.title_en.clone().unwrap_or_else(|| t.title.clone())
                            } else {
                                t.title.clone()
                            },
                            "text": t.text,
                        })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
            }
            Format::Table | Format::Csv => {
                for t in &self.templates {
                    let title = match (&t.title_en, self.labels.en) {
                        (Some(en), true) => en.as_str(),
                        _ => t.title.as_str(),
                    };
                    writeln!(out, "{:<10} {}", t.shortcut, crate::sanitize::line(title))?;
                }
            }
        }
        Ok(())
    }

    /// A reply as the citizen will read it: the ready reply (if any) and the operator's text,
    /// with the variables filled as the console fills them.
    pub(super) async fn reply_text(
        &self,
        number: &str,
        text: Option<String>,
        template: Option<String>,
    ) -> anyhow::Result<String> {
        let source = self.reply_source(text, template)?;
        let detail = self.store.detail(number).await?;
        Ok(self.render_reply(&source, &detail))
    }

    /// The ready reply (if any) and the operator's text, its variables not filled yet.
    pub(super) fn reply_source(
        &self,
        text: Option<String>,
        template: Option<String>,
    ) -> anyhow::Result<String> {
        let start = match &template {
            None => String::new(),
            Some(s) => {
                let s = s.trim_start_matches(':');
                let t = self
                    .templates
                    .iter()
                    .find(|t| t.shortcut == s)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            self.templates.iter().map(|t| t.shortcut.as_str()).collect();
                        super::Refused(format!(
                            "{} `{s}` ({})",
                            self.labels
                                .lang()
                                .pick("нет готового ответа", "no ready reply"),
                            known.join(", ")
                        ))
                    })?;
                t.text.clone()
            }
        };
        Ok([start, text.unwrap_or_default()]
            .into_iter()
            .filter(|t| !t.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// `source` with one request's variables filled.
    pub(super) fn render_reply(&self, source: &str, detail: &crate::store::Detail) -> String {
        let env = self.store.env();
        let cx = crate::present::reply_vars::ReplyContext {
            catalog: &env.catalog,
            tz: env.policy.calendar.tz(),
            now: self.store.now(),
            lang: self.labels.lang(),
        };
        let vars = crate::present::reply_vars::vars(&cx, &detail.request, None, Some(detail));
        crate::present::reply_vars::render(source, &vars)
            .trim()
            .to_string()
    }
}
