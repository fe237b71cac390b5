//! `mcu incident …`: an operator's action on an incident or a candidate group, made into the
//! ordinary mutations by `incidents::plan` and applied all at once, so in a team every part
//! syncs like any other action.

use uuid::Uuid;

use super::args::IncidentCommand;
use super::{Refused, department_id};
use crate::domain::Request;
use crate::domain::mutation::Mutation;
use crate::incidents::plan;
use crate::store::incidents::Group;

impl super::Invocation {
    pub(super) async fn incident(&self, command: IncidentCommand) -> anyhow::Result<()> {
        let now = self.store.now();
        let who = self.operator.as_str();
        let (group, batch) = match command {
            IncidentCommand::Confirm { id, title } => {
                let g = self.group(&id, Some(true)).await?;
                let members = self.store.requests_of(g.member_ids.clone()).await?;
                let refs: Vec<&Request> = members.iter().collect();
                let topic = (!g.topic.is_empty()).then_some(g.topic.as_str());
                let title = title.unwrap_or_else(|| {
                    let name = topic.map(|t| self.topic_name(t));
                    let place = plan::place_of(&refs).unwrap_or_else(|| g.place.clone());
                    plan::default_title(name.as_deref(), Some(&place))
                });
                let topic = topic.filter(|t| self.store.env().catalog.topic(t).is_some());
                let Some((_, batch)) = plan::confirm(&refs, &title, topic, who, now) else {
                    return Err(
                        Refused(self.say("в группе нет обращений", "the group is empty")).into(),
                    );
                };
                (g, batch)
            }
            IncidentCommand::Dismiss { id } => {
                let g = self.group(&id, Some(true)).await?;
                let members = self.store.requests_of(g.member_ids.clone()).await?;
                let refs: Vec<&Request> = members.iter().collect();
                let batch = plan::dismiss(&refs, who, now);
                (g, batch)
            }
            IncidentCommand::Title { id, title } => {
                let g = self.group(&id, Some(false)).await?;
                let op = crate::domain::mutation::Op::Retitle { title };
                let batch = vec![Mutation::new(g.id, who, now, op)];
                (g, batch)
            }
            IncidentCommand::Add { id, number } => {
                let g = self.group(&id, Some(false)).await?;
                let r = self.store.resolve(&number).await?;
                (g.clone(), plan::join(g.id, &[&r], who, now))
            }
            IncidentCommand::Remove { id, number } => {
                let g = self.group(&id, Some(false)).await?;
                let r = self.store.resolve(&number).await?;
                if r.incident_id != Some(g.id) {
                    return Err(Refused(format!(
                        "{} {}",
                        r.number,
                        self.say("не входит в этот инцидент", "is not in this incident")
                    ))
                    .into());
                }
                let op = crate::domain::mutation::Op::LeaveIncident;
                (g, vec![Mutation::new(r.id, who, now, op)])
            }
            IncidentCommand::Reply { id, text, template } => {
                let g = self.group(&id, Some(false)).await?;
                let source = self.reply_source(text, template)?;
                if source.trim().is_empty() {
                    return Err(Refused(
                        self.say("нужен --text или --template", "give --text or --template"),
                    )
                    .into());
                }
                let (incident, members) = self.incident_and_members(&g).await?;
                let bodies = self.bodies(&source, &incident, &members).await?;
                let refs: Vec<&Request> = members.iter().collect();
                let body_for = |r: &Request| bodies.get(&r.id).cloned().unwrap_or_default();
                (g, plan::reply(&incident, &refs, &body_for, who, now))
            }
            IncidentCommand::Forward {
                id,
                department,
                note,
            } => {
                let g = self.group(&id, Some(false)).await?;
                let department = department
                    .map(|d| department_id(&self.store.env().catalog, &d))
                    .transpose()?;
                let (incident, members) = self.incident_and_members(&g).await?;
                let refs: Vec<&Request> = members.iter().collect();
                let batch = plan::forward(
                    &incident,
                    &refs,
                    department.as_deref(),
                    note.as_deref(),
                    who,
                    now,
                );
                (g, batch)
            }
            IncidentCommand::Close { id, reason, text } => {
                let g = self.group(&id, Some(false)).await?;
                let reason = reason.parse().map_err(Refused)?;
                let (incident, members) = self.incident_and_members(&g).await?;
                let bodies = match &text {
                    Some(t) => Some(self.bodies(t, &incident, &members).await?),
                    None => None,
                };
                let refs: Vec<&Request> = members.iter().collect();
                let body_for = |r: &Request| {
                    bodies
                        .as_ref()
                        .and_then(|b| b.get(&r.id).cloned())
                        .unwrap_or_default()
                };
                let answer: Option<&dyn Fn(&Request) -> String> = text
                    .as_ref()
                    .map(|_| &body_for as &dyn Fn(&Request) -> String);
                (g, plan::close(&incident, &refs, reason, answer, who, now))
            }
        };
        let incident_id = match batch.first().map(|m| &m.op) {
            Some(crate::domain::mutation::Op::Create(_)) => batch[0].request_id,
            _ => group.id,
        };
        if !batch.is_empty() {
            self.store.apply_batch(batch).await.map_err(|(_, e)| e)?;
        }
        self.settle().await?;
        let now_groups = self.store.incidents(self.incidents.clone()).await?;
        let shown: Vec<Group> = now_groups
            .into_iter()
            .filter(|g| g.id == incident_id || g.id == group.id)
            .collect();
        if shown.is_empty() {
            // Closed, or a dismissed group: what it was, now gone from the lists.
            let r = self.store.resolve(&incident_id.to_string()).await;
            match r {
                Ok(r) => self.print_requests(&[r]),
                Err(_) => {
                    println!("{}", self.say("группа отклонена", "the group is dismissed"));
                    Ok(())
                }
            }
        } else {
            self.print_groups(&shown)
        }
    }

    /// The group `key` names. `candidate`: Some(true) only candidates, Some(false) only
    /// incidents, None either.
    async fn group(&self, key: &str, candidate: Option<bool>) -> anyhow::Result<Group> {
        let groups = self.store.incidents(self.incidents.clone()).await?;
        let id = self.store.resolve(key).await.ok();
        let found = groups.into_iter().find(|g| {
            candidate.is_none_or(|c| g.candidate == c)
                && match &id {
                    Some(r) => g.id == r.id || (g.candidate && g.member_ids.contains(&r.id)),
                    None => g.id.to_string() == key,
                }
        });
        found.ok_or_else(|| {
            let what = match candidate {
                Some(true) => self.say("возможной группы", "candidate group"),
                Some(false) => self.say("открытого инцидента", "open incident"),
                None => self.say("инцидента или группы", "incident or group"),
            };
            Refused(format!(
                "{} {what} `{key}` ({})",
                self.say("нет", "no"),
                self.say("см. `mcu incidents`", "see `mcu incidents`")
            ))
            .into()
        })
    }

    async fn incident_and_members(&self, g: &Group) -> anyhow::Result<(Request, Vec<Request>)> {
        let incident = self.store.resolve(&g.id.to_string()).await?;
        let members = self.store.incident_members(g.id).await?;
        Ok((incident, members))
    }

    /// `source` with each request's own variables filled, by request id.
    async fn bodies(
        &self,
        source: &str,
        incident: &Request,
        members: &[Request],
    ) -> anyhow::Result<std::collections::HashMap<Uuid, String>> {
        let mut out = std::collections::HashMap::new();
        for r in std::iter::once(incident).chain(members) {
            if !r.status.is_open() {
                continue;
            }
            let detail = self.store.detail(&r.id.to_string()).await?;
            out.insert(r.id, self.render_reply(source, &detail));
        }
        Ok(out)
    }

    fn topic_name(&self, id: &str) -> String {
        self.store
            .env()
            .catalog
            .topic(id)
            .map(|t| {
                crate::present::names::pick(&t.name, t.name_en.as_deref(), self.labels.lang())
                    .to_string()
            })
            .unwrap_or_else(|| id.to_string())
    }

    fn say(&self, ru: &'static str, en: &'static str) -> String {
        self.labels.lang().pick(ru, en).to_string()
    }
}
