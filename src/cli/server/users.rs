//! `mcu user`: the team server's accounts — added, listed, disabled and enabled, their
//! tokens renewed, roles changed, scopes and departments granted — said in one line each.

use std::io::Write;
use std::path::Path;

use super::super::Refused;
use super::super::args::{Format, UserCommand};
use super::{english, open_store, say};
use crate::server::accounts;
use crate::server::engine::{AccountUpdate, Role};
use crate::server::url::ServerStore;

pub async fn user(
    db: Option<&Path>,
    command: UserCommand,
    format: Format,
    tz: chrono_tz::Tz,
    default_scope: &str,
) -> anyhow::Result<()> {
    let (_, store) = open_store(db).await?;
    // The stores' rules are synchronous (PostgreSQL's are driven from the calling thread).
    tokio::task::block_in_place(|| user_with(&store, command, format, tz, default_scope))
}

/// `mcu user disable|enable|token|role|grant`: one account changed, said in one line.
fn change_user(store: &ServerStore, command: UserCommand) -> anyhow::Result<()> {
    let missing = |name: &str| -> anyhow::Error {
        Refused(say(
            format!("no user `{name}`"),
            format!("пользователя `{name}` нет"),
        ))
        .into()
    };
    let set = |name: &str, u: AccountUpdate| -> anyhow::Result<()> {
        if accounts::update(store, name, &u)? {
            Ok(())
        } else {
            Err(missing(name))
        }
    };
    match command {
        UserCommand::Disable { name } => {
            set(
                &name,
                AccountUpdate {
                    disabled: Some(true),
                    ..Default::default()
                },
            )?;
            eprintln!(
                "{}",
                say(
                    format!("user {name} disabled"),
                    format!("пользователь {name} отключён")
                )
            );
        }
        UserCommand::Enable { name } => {
            set(
                &name,
                AccountUpdate {
                    disabled: Some(false),
                    ..Default::default()
                },
            )?;
            eprintln!(
                "{}",
                say(
                    format!("user {name} enabled"),
                    format!("пользователь {name} снова допущен")
                )
            );
        }
        UserCommand::Role { name, role } => {
            let role = Role::from(role);
            set(
                &name,
                AccountUpdate {
                    role: Some(role),
                    ..Default::default()
                },
            )?;
            eprintln!(
                "{}",
                say(
                    format!("user {name}: role {}", role.as_str()),
                    format!("пользователь {name}: роль {}", role.as_str())
                )
            );
        }
        UserCommand::Token { name } => {
            let Some(token) = accounts::rotate(store, &name)? else {
                return Err(missing(&name));
            };
            println!("{token}");
            eprintln!(
                "{}",
                say(
                    format!("a new token for {name}, shown this once; the old one no longer works"),
                    format!("новый токен для {name} показан один раз; старый больше не действует"),
                )
            );
        }
        UserCommand::Grant {
            name,
            scopes,
            departments,
        } => {
            if !departments.is_empty() {
                let role = accounts::list(store)?
                    .into_iter()
                    .find(|a| a.name == name)
                    .map(|a| a.role)
                    .ok_or_else(|| missing(&name))?;
                if role != Role::Department {
                    return Err(Refused(say(
                        format!("{name} is not a department account ({})", role.as_str()),
                        format!(
                            "{name} — не учётная запись департамента ({})",
                            role.as_str()
                        ),
                    ))
                    .into());
                }
            }
            for s in &scopes {
                accounts::check_scope(s).map_err(Refused)?;
                if !accounts::grant(store, &name, s)? {
                    return Err(missing(&name));
                }
            }
            for d in &departments {
                if !accounts::grant_department(store, &name, d)? {
                    return Err(missing(&name));
                }
            }
            let all: Vec<String> = scopes.into_iter().chain(departments).collect();
            eprintln!(
                "{}",
                say(
                    format!("user {name} reaches {} too", all.join(", ")),
                    format!("пользователю {name} открыто также: {}", all.join(", ")),
                )
            );
        }
        UserCommand::Add { .. } | UserCommand::List => {}
    }
    Ok(())
}

fn user_with(
    store: &ServerStore,
    command: UserCommand,
    format: Format,
    tz: chrono_tz::Tz,
    default_scope: &str,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            scopes,
            departments,
        } => {
            accounts::check_name(&name).map_err(Refused)?;
            let role = Role::from(role);
            match (role, departments.is_empty()) {
                (Role::Department, true) => {
                    return Err(Refused(say(
                        "a department account needs --department (the catalog's id or name)".into(),
                        "учётной записи департамента нужен --department (id или название из каталога)".into(),
                    ))
                    .into());
                }
                (Role::Department, false) | (_, true) => {}
                (_, false) => {
                    return Err(Refused(say(
                        "--department is for --role department only".into(),
                        "--department — только для --role department".into(),
                    ))
                    .into());
                }
            }
            let scopes = if scopes.is_empty() {
                vec![default_scope.to_string()]
            } else {
                scopes
            };
            for s in &scopes {
                accounts::check_scope(s).map_err(Refused)?;
            }
            let Some(token) = accounts::add(
                store,
                &name,
                role,
                &scopes,
                &departments,
                chrono::Utc::now(),
            )?
            else {
                return Err(Refused(say(
                    format!("user `{name}` already exists; no token issued"),
                    format!("пользователь `{name}` уже есть; токен не выдан"),
                ))
                .into());
            };
            // The token alone on stdout, so `TOKEN=$(mcu user add …)` captures exactly it.
            println!("{token}");
            eprintln!(
                "{}",
                say(
                    format!(
                        "user {name} ({}) created; the token is shown this once: keep it",
                        role.as_str()
                    ),
                    format!(
                        "пользователь {name} ({}) создан; токен показан один раз — сохраните его",
                        role.as_str()
                    ),
                )
            );
            Ok(())
        }
        UserCommand::Disable { .. }
        | UserCommand::Enable { .. }
        | UserCommand::Token { .. }
        | UserCommand::Role { .. }
        | UserCommand::Grant { .. } => change_user(store, command),
        UserCommand::List => {
            let all = accounts::list(store)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match format {
                Format::Table => {
                    let (n, r, c, seen, sc) = if english() {
                        ("name", "role", "created", "last seen", "scopes")
                    } else {
                        ("имя", "роль", "создан", "был(а)", "города")
                    };
                    let width = all
                        .iter()
                        .map(|a| a.name.chars().count())
                        .chain([n.chars().count()])
                        .max()
                        .unwrap_or(0);
                    let pad = |s: &str, w: usize| {
                        format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())))
                    };
                    // The longest role name, `integration`.
                    writeln!(
                        out,
                        "{}  {}  {}  {}  {sc}",
                        pad(n, width),
                        pad(r, 11),
                        pad(c, 16),
                        pad(seen, 16)
                    )?;
                    for a in &all {
                        let at = a.created_at.with_timezone(&tz).format("%d.%m.%Y %H:%M");
                        let seen = a.last_seen.map_or_else(
                            || "—".to_string(),
                            |t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string(),
                        );
                        let role = if a.disabled {
                            format!("{} ✗", a.role.as_str())
                        } else {
                            a.role.as_str().to_string()
                        };
                        let mut scopes = if a.role == Role::Admin {
                            "*".to_string()
                        } else {
                            a.scopes.join(",")
                        };
                        if !a.departments.is_empty() {
                            scopes = format!("{scopes} · {}", a.departments.join(","));
                        }
                        writeln!(
                            out,
                            "{}  {}  {}  {}  {scopes}",
                            pad(&a.name, width),
                            pad(&role, 11),
                            pad(&at.to_string(), 16),
                            pad(&seen, 16)
                        )?;
                    }
                }
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &all)?;
                    writeln!(out)?;
                }
                Format::Jsonl => {
                    for a in &all {
                        serde_json::to_writer(&mut out, a)?;
                        writeln!(out)?;
                    }
                }
                Format::Csv => {
                    let mut w = csv::Writer::from_writer(out);
                    w.write_record(["name", "role", "created_at"])?;
                    for a in &all {
                        w.write_record(
                            [a.name.as_str(), a.role.as_str(), &a.created_at.to_rfc3339()]
                                .map(crate::sanitize::cell),
                        )?;
                    }
                    w.flush()?;
                }
            }
            Ok(())
        }
    }
}
