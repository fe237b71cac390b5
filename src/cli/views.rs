//! `mcu views`: the views by number as the console has them — built-in `1`…`7`, then the
//! team's shared ones and your own — and saving, deleting, sharing (a shift lead, team mode)
//! and taking back; `mcu list --view NAME` lists one. Your views are kept in this file, the
//! team's on the server (server/views.rs) with a copy here, so a view works offline too.
//! Exit 2: a name or filter refused here; 3: the server refused; 4: it can't be reached.

use clap::Subcommand;

use super::args::{Format, SortArg};
use super::{Exit, Invocation, Refused};
use crate::domain::views::{self, Found, Origin, SavedView, View, ViewSort};
use crate::lang::Lang;
use crate::store::views::Views;
use crate::store::{Filter, Sort};
use crate::sync::client::SyncError;
use crate::sync::team::TeamLink;

#[derive(Debug, Subcommand)]
pub enum ViewsCommand {
    /// Save a view under NAME (replacing yours of that name): a built-in view, a filter line
    /// as the console's `/` takes it (`тема:жкх статус:новое @me #tag !closed`, free text),
    /// and a sort.
    Save {
        name: String,
        /// The console's `/` line; empty: the built-in view as it is.
        #[arg(long, default_value = "")]
        filter: String,
        /// The built-in view the filter narrows: mine, new, at_risk, waiting, closed_today,
        /// all, undelivered (or its number 1…7).
        #[arg(long, default_value = "all")]
        base: String,
        /// Default: time-left (received for closed_today).
        #[arg(long, value_enum)]
        sort: Option<SortArg>,
    },
    /// Delete one of your views.
    Rm { name: String },
    /// Share one of your views with the team (a shift lead, team mode): every console of the
    /// scope shows it; it is the team's from then on.
    Share { name: String },
    /// Take a view back from the team (a shift lead); you keep it as your own.
    Unshare { name: String },
}

fn labels(v: View) -> Vec<&'static str> {
    vec![Lang::Ru.view(v), Lang::En.view(v)]
}

fn all_labels() -> Vec<&'static str> {
    View::ALL.into_iter().flat_map(labels).collect()
}

/// One row of `mcu views -o json`.
#[derive(serde::Serialize)]
struct Row<'a> {
    number: usize,
    name: String,
    /// built_in, shared or own.
    kind: &'static str,
    base: View,
    filter: &'a str,
    sort: ViewSort,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the filter no longer reads with this catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

impl Invocation {
    fn team_link(&self) -> anyhow::Result<Option<TeamLink>> {
        let Some(s) = &self.server else {
            return Ok(None);
        };
        Ok(Some(
            TeamLink::new(&s.url, &s.token, &s.scope).map_err(|e| Refused(e.to_string()))?,
        ))
    }

    /// The views; in team mode with the team's fetched from the server first when `fresh`
    /// (kept here for next time). Offline, the copy kept last, said on stderr when `loud`.
    async fn known_views(&self, fresh: bool, loud: bool) -> anyhow::Result<Views> {
        if fresh && let Some(link) = self.team_link()? {
            match link.status().await {
                Ok(team) => self.store.set_shared_views(team.views).await?,
                Err(e) if loud => eprintln!(
                    "mcu: {}",
                    match self.labels.lang() {
                        Lang::En => format!(
                            "the server can't be reached ({e}); the team's views as last seen"
                        ),
                        _ => format!("сервер недоступен ({e}); виды команды — как в прошлый раз"),
                    }
                ),
                Err(_) => {}
            }
        }
        Ok(self.store.views(&self.operator).await?)
    }

    /// What a view lists, as the console's: its filter on top of its built-in view, parsed
    /// with this catalog.
    fn filter_of(&self, base: View, line: &str) -> Result<Filter, String> {
        let env = self.store.env();
        let now = self.store.now();
        let filter = base.filter(&self.operator, now, env.policy.calendar.tz());
        crate::tui::filter::parse(line, filter, &env.catalog, &self.operator)
    }

    /// `mcu list --view NAME`: the view's filter and sort. An unknown name is refused with the
    /// names there are; a team view not known here yet is asked of the server.
    pub(super) async fn view_filter(&self, typed: &str) -> anyhow::Result<(Filter, Sort)> {
        let mut known = self.known_views(false, false).await?;
        let missing =
            |k: &Views| views::find(typed, &views::numbered(&k.shared, &k.own), labels).is_none();
        if missing(&known) && self.server.is_some() {
            known = self.known_views(true, false).await?;
        }
        let numbered = views::numbered(&known.shared, &known.own);
        let (base, line, sort, name) =
            match views::find(typed, &numbered, labels) {
                Some(Found::BuiltIn(v)) => (v, String::new(), v.default_sort(), None),
                Some(Found::Saved(s)) => (
                    s.view.base,
                    s.view.filter.clone(),
                    s.view.sort,
                    Some(s.view.name.clone()),
                ),
                None => {
                    let mut names: Vec<String> = View::ALL
                        .iter()
                        .map(|v| format!("{} {}", v.number(), v.id()))
                        .collect();
                    names.extend(numbered.iter().map(|n| {
                        format!("{} «{}»", n.number, crate::sanitize::line(&n.view.name))
                    }));
                    let typed = crate::sanitize::line(typed);
                    return Err(Refused(match self.labels.lang() {
                        Lang::En => format!("no view `{typed}`; there are: {}", names.join(", ")),
                        _ => format!("нет вида `{typed}`; есть: {}", names.join(", ")),
                    })
                    .into());
                }
            };
        let filter = self.filter_of(base, &line).map_err(|e| {
            let name = crate::sanitize::line(name.as_deref().unwrap_or(typed));
            Refused(match self.labels.lang() {
                Lang::En => format!(
                    "view «{name}» no longer reads: {e}; save it again with a filter that does (`mcu views save`)"
                ),
                _ => format!(
                    "вид «{name}» не читается: {e}; сохраните его заново с исправленным фильтром (`mcu views save`)"
                ),
            })
        })?;
        Ok((filter, sort.into()))
    }

    pub(super) async fn views(&self, command: Option<ViewsCommand>) -> anyhow::Result<()> {
        let Some(command) = command else {
            return self.print_views().await;
        };
        let lang = self.labels.lang();
        let said = |ru: String, en: String| match lang {
            Lang::En => en,
            _ => ru,
        };
        let number = |k: &Views, name: &str| {
            views::numbered(&k.shared, &k.own)
                .iter()
                .find(|n| views::key(&n.view.name) == views::key(name))
                .map_or(0, |n| n.number)
        };
        match command {
            ViewsCommand::Save {
                name,
                filter,
                base,
                sort,
            } => {
                let base = View::from_id(&base)
                    .or_else(|| base.trim().parse::<usize>().ok().and_then(|n| View::ALL.get(n.wrapping_sub(1)).copied()))
                    .ok_or_else(|| {
                        Refused(said(
                            format!("--base `{base}`: встроенного вида с таким именем нет (mine, new, at_risk, waiting, closed_today, all, undelivered)"),
                            format!("--base `{base}`: no such built-in view (mine, new, at_risk, waiting, closed_today, all, undelivered)"),
                        ))
                    })?;
                self.filter_of(base, &filter)
                    .map_err(|e| Refused(format!("--filter: {e}")))?;
                let view = SavedView {
                    name,
                    base,
                    filter,
                    sort: match sort {
                        Some(SortArg::TimeLeft) => ViewSort::TimeLeft,
                        Some(SortArg::Received) => ViewSort::Received,
                        None => base.default_sort(),
                    },
                    shared_by: None,
                    since: self.store.now(),
                };
                let view = views::check(&view, &all_labels())
                    .map_err(|e| Refused(said(e.ru(), e.to_string())))?;
                let saved = self
                    .store
                    .save_view(&self.operator, view)
                    .await?
                    .map_err(|e| Refused(said(e.ru(), e.to_string())))?;
                let k = self.known_views(false, false).await?;
                let (n, shown) = (
                    number(&k, &saved.view.name),
                    crate::sanitize::line(&saved.view.name),
                );
                println!(
                    "{}",
                    match (lang, saved.replaced) {
                        (Lang::En, false) => format!("view «{shown}» saved: {n}"),
                        (Lang::En, true) => format!("view «{shown}» updated: {n}"),
                        (_, false) => format!("вид «{shown}» сохранён: {n}"),
                        (_, true) => format!("вид «{shown}» обновлён: {n}"),
                    }
                );
                Ok(())
            }
            ViewsCommand::Rm { name } => {
                match self.store.delete_view(&self.operator, &name).await? {
                    Ok(v) => {
                        let shown = crate::sanitize::line(&v.name);
                        println!(
                            "{}",
                            said(
                                format!("вид «{shown}» удалён"),
                                format!("view «{shown}» deleted")
                            )
                        );
                        Ok(())
                    }
                    Err(_) => Err(self.not_yours(&name).await?),
                }
            }
            ViewsCommand::Share { name } => {
                let link = self.need_team()?;
                let k = self.known_views(false, false).await?;
                let Some(view) = k
                    .own
                    .iter()
                    .find(|v| views::key(&v.name) == views::key(&name))
                    .cloned()
                else {
                    return Err(self.not_yours(&name).await?);
                };
                self.filter_of(view.base, &view.filter).map_err(|e| {
                    Refused(said(
                        format!(
                            "вид «{}» не читается: {e}; сначала исправьте его",
                            view.name
                        ),
                        format!("view «{}» does not read: {e}; fix it first", view.name),
                    ))
                })?;
                let kept = self.answered(link.share(&view).await)?;
                let k = self.store.view_shared(&self.operator, kept.clone()).await?;
                let (n, shown) = (number(&k, &kept.name), crate::sanitize::line(&kept.name));
                println!(
                    "{}",
                    said(
                        format!("вид «{shown}» теперь у всей команды: {n}"),
                        format!("view «{shown}» is the team's now: {n}")
                    )
                );
                Ok(())
            }
            ViewsCommand::Unshare { name } => {
                let link = self.need_team()?;
                let gone = self.answered(link.unshare(&name).await)?;
                let k = self.store.view_unshared(&self.operator, &gone.name).await?;
                let (n, shown) = (number(&k, &gone.name), crate::sanitize::line(&gone.name));
                println!(
                    "{}",
                    said(
                        format!("вид «{shown}» больше не общий; он остался у вас: {n}"),
                        format!("view «{shown}» is no longer shared; you keep it: {n}")
                    )
                );
                Ok(())
            }
        }
    }

    /// `NAME` is none of this operator's views: why, with the names there are.
    async fn not_yours(&self, name: &str) -> anyhow::Result<anyhow::Error> {
        let k = self.known_views(false, false).await?;
        let shown = crate::sanitize::line(name);
        let en = self.labels.lang() == Lang::En;
        if k.shared
            .iter()
            .any(|v| views::key(&v.name) == views::key(name))
        {
            return Ok(Refused(if en {
                format!("«{shown}» is the team's view: a shift lead takes it back with `mcu views unshare`")
            } else {
                format!("«{shown}» — вид команды: убрать его из общих может старший смены (`mcu views unshare`)")
            })
            .into());
        }
        let mine: Vec<String> = k
            .own
            .iter()
            .map(|v| format!("«{}»", crate::sanitize::line(&v.name)))
            .collect();
        Ok(Refused(match (en, mine.is_empty()) {
            (true, true) => format!("no view «{shown}»: you have none saved (`mcu views save`)"),
            (true, false) => format!("no view «{shown}» of yours; yours: {}", mine.join(", ")),
            (false, true) => {
                format!("нет вида «{shown}»: у вас нет сохранённых видов (`mcu views save`)")
            }
            (false, false) => format!("нет вашего вида «{shown}»; ваши: {}", mine.join(", ")),
        })
        .into())
    }

    fn need_team(&self) -> anyhow::Result<TeamLink> {
        match self.team_link()? {
            Some(l) => Ok(l),
            None => Err(Refused(
                self.labels.lang()
                    .pick(
                        "общие виды хранит сервер: укажите [server] url (и token) в настройках или MCU_SERVER_URL",
                        "the team's views are kept by the server: set [server] url (and token) in the config, or MCU_SERVER_URL",
                    )
                    .into(),
            )
            .into()),
        }
    }

    /// The server's answer, or its refusal worded for the operator (exit 3), or exit 4 when it
    /// can't be reached.
    fn answered<T>(&self, answer: crate::sync::team::Answer<T>) -> anyhow::Result<T> {
        let lang = self.labels.lang();
        match answer {
            Ok(Ok(v)) => Ok(v),
            Ok(Err((code, message))) => Err(Exit {
                code: 3,
                message: match (code.as_str(), lang) {
                    ("forbidden", Lang::Ru) => {
                        "делиться видами с командой может только старший смены".into()
                    }
                    ("read_only", Lang::Ru) => {
                        "учётная запись только для просмотра: делиться нельзя".into()
                    }
                    ("not_found", Lang::Ru) => "у команды нет такого вида".into(),
                    (_, Lang::Ru) => format!("сервер отказал: {}", crate::sanitize::line(&message)),
                    (_, _) => crate::sanitize::line(&message),
                },
            }
            .into()),
            Err(SyncError::Unavailable(e)) => Err(Exit {
                code: 4,
                message: match lang {
                    Lang::En => format!("the server can't be reached ({e})"),
                    _ => format!("сервер недоступен ({e})"),
                },
            }
            .into()),
            Err(other) => Err(super::team::sync_failed(other)),
        }
    }

    async fn print_views(&self) -> anyhow::Result<()> {
        let k = self.known_views(true, true).await?;
        let mut rows: Vec<Row> = View::ALL
            .into_iter()
            .map(|v| Row {
                number: v.number(),
                name: self.labels.lang().view(v).to_string(),
                kind: "built_in",
                base: v,
                filter: "",
                sort: v.default_sort(),
                shared_by: None,
                since: None,
                problem: None,
            })
            .collect();
        for n in views::numbered(&k.shared, &k.own) {
            rows.push(Row {
                number: n.number,
                name: n.view.name.clone(),
                kind: match n.origin {
                    Origin::Shared => "shared",
                    Origin::Own => "own",
                },
                base: n.view.base,
                filter: &n.view.filter,
                sort: n.view.sort,
                shared_by: n.view.shared_by.as_deref(),
                since: Some(n.view.since),
                problem: self.filter_of(n.view.base, &n.view.filter).err(),
            });
        }
        if matches!(self.format, Format::Json | Format::Jsonl) {
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        let lang = self.labels.lang();
        for r in &rows {
            let mark = match (r.kind, &r.problem) {
                (_, Some(_)) => "⚠",
                ("shared", _) => "◆",
                _ => " ",
            };
            let mut more = vec![];
            if r.kind == "built_in" {
                more.push(lang.pick("встроенный", "built in").to_string());
            } else if let Some(p) = &r.problem {
                more.push(p.clone());
            } else {
                if r.base != View::All {
                    more.push(lang.view(r.base).to_string());
                }
                if !r.filter.is_empty() {
                    more.push(crate::sanitize::line(r.filter));
                }
                more.push(match r.sort {
                    ViewSort::TimeLeft => lang.pick("по сроку", "by time left").to_string(),
                    ViewSort::Received => lang.pick("по поступлению", "by receipt").to_string(),
                });
            }
            if let Some(by) = r.shared_by {
                more.push(format!(
                    "{} {}",
                    lang.pick("команда,", "team,"),
                    crate::sanitize::line(by)
                ));
            }
            println!(
                "{:>3} {mark} {:<24} {}",
                r.number,
                crate::sanitize::line(&r.name),
                more.join(" · ")
            );
        }
        Ok(())
    }
}
