//! The variables of a reply to a citizen (`{number}`, `{citizen}`, `{department}`, `{due}`,
//! `{by_due}`, `{answer}`), filled the same way by the console's composer and `mcu reply`, so a
//! template reads the same whichever sent it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::request::NoteKind;
use crate::domain::{Catalog, Request};
use crate::lang::Lang;
use crate::store::Detail;

/// What a reply's variables are made of.
pub struct ReplyContext<'a> {
    pub catalog: &'a Catalog,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub lang: Lang,
}

/// The variables for one request; `department` overrides the request's own (a forward being
/// written), `detail` (when loaded) brings the department's recorded answer.
pub fn vars(
    cx: &ReplyContext,
    r: &Request,
    department: Option<&str>,
    detail: Option<&Detail>,
) -> Vec<(String, String)> {
    let dep = department
        .map(str::to_string)
        .or(r.department.clone())
        .unwrap_or_default();
    let dep_name = cx
        .catalog
        .department(&dep)
        .map(|d| d.name.clone())
        .unwrap_or(dep);
    let due_at = r.first_response.due;
    let due = due_at
        .with_timezone(&cx.tz)
        .format("%d.%m.%Y %H:%M")
        .to_string();
    // A promise in the past is no promise: an overdue request is answered "as soon as we can".
    let by_due = if due_at > cx.now {
        format!("{} {due}", cx.lang.pick("до", "by"))
    } else {
        cx.lang
            .pick("в ближайшее время", "as soon as we can")
            .to_string()
    };
    let answer = detail
        .filter(|d| d.request.id == r.id)
        .and_then(|d| {
            d.notes
                .iter()
                .rev()
                .find(|n| n.kind == NoteKind::DepartmentAnswer)
        })
        .map(|n| n.body.trim().to_string())
        .unwrap_or_default();
    vec![
        ("number".into(), r.number.to_string()),
        ("citizen".into(), r.citizen_name().unwrap_or_default()),
        ("department".into(), dep_name),
        ("due".into(), due),
        ("by_due".into(), by_due),
        ("answer".into(), answer),
    ]
}

/// The text with its variables filled in, tidied where a variable had nothing to say
/// («Здравствуйте, {citizen}!» without a name reads «Здравствуйте!»).
pub fn render(text: &str, vars: &[(String, String)]) -> String {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = crate::templates::render(text, &pairs);
    for (gap, tight) in [(", !", "!"), (", .", "."), (", ,", ","), ("  ", " ")] {
        while out.contains(gap) {
            out = out.replace(gap, tight);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
    use crate::domain::{Channel, ClockPolicy, RequestNumber, apply};
    use chrono::{Duration, TimeZone};
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
    }

    fn request(citizen: &str) -> Request {
        let new = NewRequest {
            citizen: Some(citizen.into()),
            department: Some("city_economy".into()),
            ..NewRequest::new(Channel::Telegram, "Нет воды", t0())
        };
        let m = Mutation::new(Uuid::now_v7(), "telegram", t0(), Op::Create(Box::new(new)));
        let (catalog, policy) = (Catalog::krasnodar(), ClockPolicy::default());
        let ctx = Ctx {
            catalog: &catalog,
            policy: &policy,
            now: t0(),
            new_number: Some(RequestNumber::new(2026, 26)),
        };
        apply(None, &m, &ctx).unwrap().request
    }

    fn cx(catalog: &Catalog, now: DateTime<Utc>) -> ReplyContext<'_> {
        ReplyContext {
            catalog,
            tz: chrono_tz::Europe::Moscow,
            now,
            lang: Lang::Ru,
        }
    }

    const ACK: &str =
        "Здравствуйте, {citizen}! Ваше обращение {number} принято в работу. Ответим {by_due}.";

    #[test]
    fn a_greeting_uses_a_name_never_a_handle_and_a_promise_never_lies() {
        let catalog = Catalog::krasnodar();
        let named = request("Ольга Петрова (@olga_p)");
        let v = vars(&cx(&catalog, t0()), &named, None, None);
        assert_eq!(
            render(ACK, &v),
            "Здравствуйте, Ольга Петрова! Ваше обращение 2026-000026 принято в работу. Ответим до 02.11.2026 14:00."
        );
        for handle in [
            "zhenya_kuban (@zhenya_kuban)",
            "vk.com/id1234567",
            "@zhenya",
        ] {
            let r = request(handle);
            let v = vars(&cx(&catalog, t0()), &r, None, None);
            assert!(
                render(ACK, &v).starts_with("Здравствуйте! Ваше обращение 2026-000026"),
                "{handle}: {}",
                render(ACK, &v)
            );
        }
        // Breached: no date in the past.
        let late = vars(&cx(&catalog, t0() + Duration::hours(5)), &named, None, None);
        assert!(
            render(ACK, &late).ends_with("Ответим в ближайшее время."),
            "{}",
            render(ACK, &late)
        );
    }
}
