//! A request's side of a mass incident: joining, leaving, a dismissed group, an incident's
//! title. The incident's members are the requests that point at it, so joining writes only
//! the member, and two operators adding different requests never touch the same document.

use super::apply::{non_empty, record};
use super::{Mutation, Op, Outcome, Rejection};

/// Membership of a mass incident: the request's own side (the incident's members are the
/// requests that point at it, so nothing is written on the incident).
pub(super) fn apply(out: &mut Outcome, m: &Mutation) -> Result<(), Rejection> {
    let r = &mut out.request;
    let (field, old, new) = match &m.op {
        Op::JoinIncident { incident_id } => {
            if *incident_id == r.id {
                return Err(Rejection::SelfLink);
            }
            if r.is_incident {
                return Err(Rejection::Invalid(
                    "an incident cannot be a member of another incident".into(),
                ));
            }
            if r.incident_id == Some(*incident_id) {
                return Ok(());
            }
            let old = r.incident_id.replace(*incident_id);
            (
                "incident",
                old.map(|o| o.to_string()),
                Some(incident_id.to_string()),
            )
        }
        // Taken out by an operator, it was judged not part of it: it is not suggested again.
        Op::LeaveIncident => match r.incident_id.take() {
            Some(old) => {
                if !std::mem::replace(&mut r.ungrouped, true) {
                    record(out, m, "ungrouped", None, Some("true".to_string()));
                }
                ("incident", Some(old.to_string()), None)
            }
            None => return Ok(()),
        },
        Op::Ungroup => {
            if std::mem::replace(&mut r.ungrouped, true) {
                return Ok(());
            }
            ("ungrouped", None, Some("true".to_string()))
        }
        Op::Retitle { title } => {
            if !r.is_incident {
                return Err(Rejection::Invalid("only an incident has a title".into()));
            }
            let title = non_empty(title, "title")?;
            if r.text == title {
                return Ok(());
            }
            let old = std::mem::replace(&mut r.text, title);
            ("title", Some(old), Some(r.text.clone()))
        }
        _ => return Ok(()),
    };
    record(out, m, field, old, new);
    Ok(())
}
