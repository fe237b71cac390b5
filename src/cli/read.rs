//! The read commands (`list`, `show`, `handover`, `alarms`): what an operator asks of the file
//! without changing it, printed as tables, JSON or CSV. Apart from `mod.rs`, which dispatches
//! and writes.

use std::io::Write;

use super::args::{ListArgs, SortArg};
use super::{Format, Invocation, Refused, handover, output};
use crate::domain::Status;
use crate::domain::sla::ClockState;
use crate::present::RequestView;
use crate::store::{Assignee, Cursor, Filter, Sort};

impl Invocation {
    pub(super) fn view(&self, r: &crate::domain::Request) -> RequestView {
        RequestView::new(r, &self.store.env().policy, self.store.now())
    }

    pub(super) fn print_requests(&self, requests: &[crate::domain::Request]) -> anyhow::Result<()> {
        let views: Vec<RequestView> = requests.iter().map(|r| self.view(r)).collect();
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match self.format {
            Format::Table => {
                output::table(&mut out, &views, &self.store.env().catalog, &self.labels)?
            }
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, &views)?;
                writeln!(out)?;
            }
            Format::Jsonl => {
                for v in &views {
                    serde_json::to_writer(&mut out, v)?;
                    writeln!(out)?;
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(output::CSV_HEADER)?;
                for v in &views {
                    w.write_record(output::csv_record(v))?;
                }
                w.flush()?;
            }
        }
        Ok(())
    }

    pub(super) async fn handover(&self, hours: f64) -> anyhow::Result<()> {
        if !(hours.is_finite() && (0.5..=72.0).contains(&hours)) {
            return Err(Refused(if self.labels.en {
                format!("--hours {hours}: a shift is 0.5 to 72 hours")
            } else {
                format!("--hours {hours}: смена — от 0,5 до 72 часов")
            })
            .into());
        }
        let shift = chrono::Duration::minutes((hours * 60.0).round() as i64);
        let now = self.store.now();
        let (open, notes) = self.store.handover(now - shift, now).await?;
        let env = self.store.env();
        let h = crate::present::handover::build(&open, notes, &env.policy, now, shift);
        handover::print(
            &h,
            self.format,
            env.policy.calendar.tz(),
            &env.catalog,
            &self.labels,
        )
    }

    pub(super) async fn list(&self, a: ListArgs) -> anyhow::Result<()> {
        // A view's filter first (`--view`), each option given narrowing it as on its own.
        let (mut filter, view_sort) = match a.view.as_deref() {
            Some(name) => {
                let (f, s) = self.view_filter(name).await?;
                (f, Some(s))
            }
            None => (Filter::default(), None),
        };
        let catalog = &self.store.env().catalog;
        if let Some(t) = a.topic.as_deref() {
            filter.topic = Some(super::topic_id(catalog, t)?);
        }
        if let Some(d) = a.department.as_deref() {
            filter.department = Some(super::department_id(catalog, d)?);
        }
        if !a.status.is_empty() {
            filter.statuses = a
                .status
                .iter()
                .map(|s| s.parse::<Status>())
                .collect::<Result<_, _>>()
                .map_err(Refused)?;
        }
        filter.open_only |= a.open;
        if let Some(c) = a.channel.as_deref() {
            filter.channel = Some(c.parse().map_err(Refused)?);
        }
        if a.tag.is_some() {
            filter.tag = a.tag.clone();
        }
        if a.search.is_some() {
            filter.text = a.search.clone();
        }
        filter.undelivered |= a.undelivered;
        if let Some(t) = a.suggested.as_deref() {
            filter.suggested = Some(super::topic_id(catalog, t)?);
        }
        if a.mine {
            filter.assignee = Some(Assignee::Is(self.operator.clone()));
        } else if a.unassigned {
            filter.assignee = Some(Assignee::Unassigned);
        } else if let Some(who) = &a.assignee {
            filter.assignee = Some(Assignee::Is(who.clone()));
        }
        if a.breached {
            filter.clock = Some(ClockState::Breached);
        } else if a.at_risk {
            filter.clock = Some(ClockState::AtRisk);
        }
        let sort = match a.sort {
            Some(SortArg::TimeLeft) => Sort::TimeLeft,
            Some(SortArg::Received) => Sort::Received,
            None => view_sort.unwrap_or(Sort::TimeLeft),
        };
        if a.csv {
            return self.list_csv(filter, sort).await;
        }
        let after = a.after.as_deref().map(parse_cursor).transpose()?;
        let page = self.store.inbox(filter, sort, after, a.limit).await?;
        self.print_requests(&page.rows)?;
        if let Some(next) = page.next
            && self.format == Format::Table
        {
            eprintln!(
                "{}: --after {}.{}",
                if self.labels.en {
                    "more"
                } else {
                    "дальше"
                },
                next.key,
                next.rid
            );
        }
        Ok(())
    }

    pub(super) async fn show(&self, number: &str) -> anyhow::Result<()> {
        let d = self.store.detail(number).await?;
        let view = self.view(&d.request);
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match self.format {
            Format::Table => output::detail_text(
                &mut out,
                &view,
                &d,
                &self.store.env().catalog,
                self.store.env().policy.calendar.tz(),
                &self.labels,
            )?,
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(output::CSV_HEADER)?;
                w.write_record(output::csv_record(&view))?;
                w.flush()?;
            }
            Format::Json | Format::Jsonl => {
                let dv = crate::present::DetailView {
                    request: view,
                    thread: &d,
                    feedback: crate::present::feedback::FeedbackView::of(&d.request, &d.messages),
                };
                if self.format == Format::Json {
                    serde_json::to_writer_pretty(&mut out, &dv)?;
                } else {
                    serde_json::to_writer(&mut out, &dv)?;
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }

    pub(super) async fn alarms(&self, clear: bool) -> anyhow::Result<()> {
        let alarms = if clear {
            self.store.take_alarms().await?
        } else {
            self.store.open_alarms().await?
        };
        match self.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&alarms)?),
            _ => {
                if alarms.is_empty() {
                    println!(
                        "{}",
                        if self.labels.en {
                            "no alarms"
                        } else {
                            "тревог нет"
                        }
                    );
                }
                let tz = self.store.env().policy.calendar.tz();
                for a in &alarms {
                    println!(
                        "{} {} {}",
                        a.at.with_timezone(&tz).format("%d.%m.%Y %H:%M"),
                        a.source,
                        a.text
                    );
                }
            }
        }
        Ok(())
    }
}

fn parse_cursor(s: &str) -> anyhow::Result<Cursor> {
    let bad = || {
        Refused(format!(
            "`{s}` is not a cursor (copy it from the previous page)"
        ))
    };
    let (k, r) = s.split_once('.').ok_or_else(bad)?;
    Ok(Cursor {
        key: k.parse().map_err(|_| bad())?,
        rid: r.parse().map_err(|_| bad())?,
    })
}
