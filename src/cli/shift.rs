//! `mcu shift`: who is on shift in this scope and how the server's channels are, as every team
//! console shows them; `mcu shift on|off [USER]` marks someone (a lead anyone, an operator
//! themself). The server's `/v1/team` (server/team.rs) holds both.

use super::args::{Format, ShiftCommand};
use super::{Exit, Refused};
use crate::config::Config;
use crate::lang::Lang;
use crate::sync::client::SyncError;
use crate::sync::team::TeamLink;

pub async fn shift(
    config: &Config,
    command: Option<ShiftCommand>,
    format: Format,
) -> anyhow::Result<()> {
    let lang = if config.ui.language == "en" {
        Lang::En
    } else {
        Lang::Ru
    };
    let s = &config.server;
    if !s.team() {
        return Err(Refused(
            lang.pick(
                "смены ведёт сервер: укажите [server] url (и token) в настройках или MCU_SERVER_URL",
                "shifts are kept by the server: set [server] url (and token) in the config, or MCU_SERVER_URL",
            )
            .into(),
        )
        .into());
    }
    let link = TeamLink::new(&s.url, &s.token, &s.scope).map_err(|e| Refused(e.to_string()))?;
    let unreachable = |e: SyncError| -> anyhow::Error {
        match e {
            SyncError::Unavailable(e) => Exit {
                code: 4,
                message: match lang {
                    Lang::Ru => format!("сервер недоступен ({e})"),
                    Lang::En => format!("the server can't be reached ({e})"),
                },
            }
            .into(),
            other => super::team::sync_failed(other),
        }
    };
    if let Some(cmd) = command {
        let (on, user) = match cmd {
            ShiftCommand::On { user } => (true, user),
            ShiftCommand::Off { user } => (false, user),
        };
        let user = user.unwrap_or_else(|| config.operator());
        return match link.mark(&user, on).await.map_err(unreachable)? {
            Ok(m) => {
                match format {
                    Format::Json | Format::Jsonl => println!("{}", serde_json::to_string(&m)?),
                    _ => println!(
                        "{}: {}",
                        crate::sanitize::line(&m.user),
                        crate::present::names::shift(m.on_shift, lang)
                    ),
                }
                Ok(())
            }
            // The server's answer, worded for the operator; exit 3 as for any refused action.
            Err((code, message)) => Err(Exit {
                code: 3,
                message: match (code.as_str(), lang) {
                    ("forbidden", Lang::Ru) => "отмечать других может только старший смены".into(),
                    ("read_only", Lang::Ru) => {
                        "учётная запись только для просмотра: отметки не принимаются".into()
                    }
                    (_, Lang::Ru) => format!("сервер отказал: {}", crate::sanitize::line(&message)),
                    (_, Lang::En) => crate::sanitize::line(&message),
                },
            }
            .into()),
        };
    }
    let team = link.status().await.map_err(unreachable)?;
    match format {
        Format::Json | Format::Jsonl => println!("{}", serde_json::to_string(&team)?),
        _ => {
            let tz = config
                .policy()
                .map_err(|e| Refused(e.to_string()))?
                .calendar
                .tz();
            for m in &team.staff {
                let mut line = format!(
                    "{} {:<16} {:<12}",
                    if m.on_shift { "●" } else { "○" },
                    crate::sanitize::line(&m.user),
                    crate::present::names::shift(m.on_shift, lang)
                );
                if m.lead {
                    line.push_str(lang.pick(" старший", " lead"));
                }
                if let (Some(by), Some(at)) = (&m.marked_by, m.marked_at) {
                    line.push_str(&format!(
                        " · {} {} {}",
                        lang.pick("отметил(а)", "marked by"),
                        crate::sanitize::line(by),
                        at.with_timezone(&tz).format("%d.%m %H:%M")
                    ));
                }
                println!("{}", line.trim_end());
            }
            println!();
            if team.channels.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "Сервер не работает ни с одним каналом.",
                        "The server works no channel."
                    )
                );
            }
            for h in &team.channels {
                for l in crate::present::health::describe(h, lang, tz) {
                    println!("{l}");
                }
            }
        }
    }
    Ok(())
}
