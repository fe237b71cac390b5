//! How requests look on stdout: a table for people, JSON/CSV/JSON Lines for scripts. The JSON
//! field names are a public interface (docs/cli.md, "A request in -o json").

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::Write;

use crate::domain::Catalog;
use crate::domain::sla::ClockState;
use crate::lang::Lang;
use crate::present::status::{self, Form};
use crate::present::{RequestView, names};
use crate::store::Detail;

pub struct Labels {
    pub en: bool,
}

impl Labels {
    fn header(&self) -> [&'static str; 8] {
        if self.en {
            [
                "NUMBER",
                "CHANNEL",
                "LEFT",
                "TOPIC",
                "DEPARTMENT",
                "STATUS",
                "ASSIGNEE",
                "TEXT",
            ]
        } else {
            [
                "НОМЕР",
                "КАНАЛ",
                "ОСТАЛОСЬ",
                "ТЕМА",
                "ДЕПАРТАМЕНТ",
                "СТАТУС",
                "ИСПОЛНИТЕЛЬ",
                "ТЕКСТ",
            ]
        }
    }

    pub fn lang(&self) -> Lang {
        if self.en { Lang::En } else { Lang::Ru }
    }

    pub fn status(&self, s: &str) -> String {
        status::name_of_key(s, Form::Row, self.lang())
    }

    pub fn minutes(&self, m: Option<i64>) -> String {
        let Some(m) = m else { return "—".into() };
        let sign = if m < 0 { "-" } else { "" };
        let a = m.abs();
        let (h, mm) = (a / 60, a % 60);
        if self.en {
            format!("{sign}{h}h{mm:02}m")
        } else {
            format!("{sign}{h}ч{mm:02}м")
        }
    }
}

pub use crate::sanitize::line as sanitize;

fn clip(s: &str, n: usize) -> String {
    let s = sanitize(s);
    if s.chars().count() <= n {
        s
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

pub fn table(
    out: &mut dyn Write,
    views: &[RequestView],
    catalog: &Catalog,
    labels: &Labels,
) -> std::io::Result<()> {
    let rows: Vec<[String; 8]> = views
        .iter()
        .map(|v| {
            let topic = v
                .topic
                .as_deref()
                .map(|t| names::topic(catalog, t, labels.lang()));
            let mut left = match v.clock_state {
                Some(ClockState::Breached) => format!("!{}", labels.minutes(v.minutes_left)),
                _ => labels.minutes(v.minutes_left),
            };
            // The reply did not reach the citizen: the row says so where the clock is read.
            if v.undelivered {
                left.push_str(labels.lang().pick(" ✗недост.", " ✗undeliv."));
            }
            [
                v.shown_number(labels.lang()),
                v.channel.clone(),
                left,
                clip(&topic.unwrap_or_default(), 18),
                v.department.clone().unwrap_or_default(),
                labels.status(&v.status),
                clip(v.assignee.as_deref().unwrap_or(""), 14),
                clip(&v.text, 60),
            ]
        })
        .collect();
    let header = labels.header();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header.map(str::to_string)))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

pub const CSV_HEADER: [&str; 19] = [
    "number",
    "status",
    "channel",
    "topic",
    "department",
    "assignee",
    "priority",
    "tags",
    "citizen",
    "text",
    "address",
    "lat",
    "lon",
    "received_at",
    "first_response_due",
    "first_response_at",
    "closed_at",
    "closed_reason",
    "clock_state",
];

/// One request as a CSV row, every cell through `sanitize::cell`: `export`, `list` and `show`
/// with `-o csv` carry the citizen's own words, which must neither drive a terminal the CSV is
/// printed on nor run as a formula in a spreadsheet.
pub fn csv_record(v: &RequestView) -> [String; 19] {
    raw_record(v).map(|c| crate::sanitize::cell(&c))
}

fn raw_record(v: &RequestView) -> [String; 19] {
    let t = |d: Option<DateTime<Utc>>| d.map(|d| d.to_rfc3339()).unwrap_or_default();
    [
        // A provisional number is no number to file a request under: empty until the server's.
        if v.number_pending {
            String::new()
        } else {
            v.number.clone()
        },
        v.status.clone(),
        v.channel.clone(),
        v.topic.clone().unwrap_or_default(),
        v.department.clone().unwrap_or_default(),
        v.assignee.clone().unwrap_or_default(),
        v.priority.clone(),
        v.tags.join(","),
        v.citizen.clone().unwrap_or_default(),
        v.text.clone(),
        v.address.clone().unwrap_or_default(),
        v.lat.map(|x| x.to_string()).unwrap_or_default(),
        v.lon.map(|x| x.to_string()).unwrap_or_default(),
        v.received_at.to_rfc3339(),
        v.first_response_due.to_rfc3339(),
        t(v.first_response_at),
        t(v.closed_at),
        v.closed_reason.clone().unwrap_or_default(),
        v.clock_state
            .map(|s| {
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .unwrap_or_default(),
    ]
}

/// Human-readable detail for `mcu show` in table mode.
pub fn detail_text(
    out: &mut dyn Write,
    v: &RequestView,
    d: &Detail,
    catalog: &Catalog,
    tz: Tz,
    labels: &Labels,
) -> std::io::Result<()> {
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string();
    let lang = labels.lang();
    let (l_topic, l_dep, l_who, l_text, l_due, l_thread) = if labels.en {
        ("Topic", "Department", "Assignee", "Text", "Due", "Thread")
    } else {
        (
            "Тема",
            "Департамент",
            "Исполнитель",
            "Текст",
            "Срок",
            "Переписка",
        )
    };
    writeln!(
        out,
        "{} · {} · {}",
        v.shown_number(lang),
        crate::present::channel::name_of_key(&v.channel, lang),
        labels.status(&v.status)
    )?;
    writeln!(
        out,
        "{l_topic}: {} · {l_dep}: {} · {l_who}: {}",
        v.topic
            .as_deref()
            .map_or("—".into(), |t| names::topic(catalog, t, lang)),
        v.department
            .as_deref()
            .map_or("—".into(), |d| names::department(catalog, d, lang)),
        v.assignee.as_deref().map_or("—".into(), sanitize)
    )?;
    if let Some(c) = &v.citizen {
        writeln!(
            out,
            "{}: {}",
            if labels.en {
                "Citizen"
            } else {
                "Заявитель"
            },
            sanitize(c)
        )?;
    }
    if let Some(p) = &v.phone {
        writeln!(out, "{}: {p}", if labels.en { "Phone" } else { "Телефон" })?;
    }
    if let Some(a) = &v.address {
        writeln!(
            out,
            "{}: {}",
            if labels.en { "Address" } else { "Адрес" },
            sanitize(a)
        )?;
    }
    if let Some(due) = v.due {
        writeln!(
            out,
            "{l_due}: {} ({})",
            local(due),
            labels.minutes(v.minutes_left)
        )?;
    }
    writeln!(out, "{l_text}: {}", sanitize(&v.text))?;
    for a in &v.attachments {
        use crate::domain::request::AttachmentState as S;
        let state = match (a.state, labels.en) {
            (S::Stored, _) => a
                .local_path
                .clone()
                .map(|p| sanitize(&p))
                .unwrap_or_default(),
            (S::Pending, false) => "загружается".into(),
            (S::TooLarge, false) => {
                "слишком большой (больше 20 МБ), не загружен — попросите прислать иначе".into()
            }
            (S::Failed, false) => "не удалось загрузить".into(),
            (S::Pending, true) => "downloading".into(),
            (S::TooLarge, true) => {
                "too large (over 20 MB), not downloaded — ask for another way".into()
            }
            (S::Failed, true) => "could not be downloaded".into(),
        };
        let name = a.name.as_deref().map(sanitize).unwrap_or_default();
        writeln!(out, "  [{}] {name} {state}", a.kind)?;
    }
    if let Some(w) = d.request.waiting {
        let mut line = if labels.en {
            format!("Waiting for the citizen's answer since {}", local(w.since))
        } else {
            format!("Ждём ответа заявителя с {}", local(w.since))
        };
        if let Some(t) = w.reminded_at {
            line.push_str(&if labels.en {
                format!(", reminded {}", local(t))
            } else {
                format!(", напомнили {}", local(t))
            });
        }
        writeln!(out, "{line}")?;
    }
    if let Some(f) = crate::present::feedback::FeedbackView::of(&d.request, &d.messages) {
        writeln!(out, "{}", f.line(labels.lang(), local))?;
    }
    if !d.duplicates.is_empty() {
        writeln!(
            out,
            "{}: {}",
            if labels.en {
                "Duplicates"
            } else {
                "Дубликаты"
            },
            d.duplicates.join(", ")
        )?;
    }
    if d.request.department_answer_waiting() {
        writeln!(
            out,
            "{}",
            if labels.en {
                "The department's answer is in: send it on to the citizen (::ans in a reply)"
            } else {
                "Ответ департамента получен: отправьте его заявителю (::ans в ответе)"
            }
        )?;
    }
    if let Some((from, note)) = d.returned() {
        let from = from.map_or_else(|| "—".into(), |dep| names::department(catalog, dep, lang));
        writeln!(
            out,
            "{} {} ({}): {}",
            if labels.en {
                "Returned by"
            } else {
                "Возвращено:"
            },
            sanitize(&from),
            sanitize(&note.author),
            sanitize(&note.body)
        )?;
    }
    if !d.merged.is_empty() {
        let numbers: Vec<String> = d
            .merged
            .iter()
            .map(|r| match &r.citizen {
                Some(c) => format!("{} ({}, {})", r.number, r.channel, sanitize(c)),
                None => format!("{} ({})", r.number, r.channel),
            })
            .collect();
        writeln!(
            out,
            "{}: {}",
            if labels.en {
                "Merged into this thread"
            } else {
                "Объединены в эту переписку"
            },
            numbers.join(", ")
        )?;
    }
    if !d.citizen_requests.is_empty() {
        writeln!(
            out,
            "{}:",
            if labels.en {
                "The citizen's other requests"
            } else {
                "Другие обращения заявителя"
            }
        )?;
        for c in &d.citizen_requests {
            writeln!(
                out,
                "  {} {} {} {}",
                c.number,
                local(c.received_at),
                labels.status(&c.status),
                c.topic
                    .as_deref()
                    .map_or("—".into(), |t| names::topic(catalog, t, lang))
            )?;
        }
    }
    writeln!(out, "{l_thread}:")?;
    for m in &d.messages {
        let arrow = if m.direction == crate::domain::request::Direction::In {
            "←"
        } else {
            "→"
        };
        let mut state = m
            .delivery
            .map(|s| format!(" [{}]", names::delivery(s, lang)))
            .unwrap_or_default();
        if m.edit_of.is_some() {
            state.push_str(if labels.en {
                " (edited)"
            } else {
                " (изменено)"
            });
        }
        writeln!(
            out,
            "  {} {arrow} {}{state}: {}",
            local(m.at),
            sanitize(&d.author_of(m)),
            sanitize(&m.body)
        )?;
    }
    for n in &d.notes {
        writeln!(
            out,
            "  {} # {}: {}",
            local(n.at),
            sanitize(&n.author),
            sanitize(&n.body)
        )?;
    }
    let cx = crate::present::audit::AuditContext {
        catalog,
        tz,
        lang,
        parent_number: d.parent_number.as_deref(),
    };
    for e in &d.events {
        if let Some(line) = crate::present::audit::describe(&cx, e) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_human() {
        let ru = Labels { en: false };
        assert_eq!(ru.minutes(Some(85)), "1ч25м");
        assert_eq!(ru.minutes(Some(-10)), "-0ч10м");
        assert_eq!(Labels { en: true }.minutes(None), "—");
    }
}
