//! The department's side of a request on the operator's card: its answer is in and waits to
//! be sent on, or it gave the request back as not theirs — who, and why — so the operator
//! re-routes it instead of wondering why it is back in the queue.

use ratatui::text::{Line, Span};

use super::app::App;
use super::view::style;
use crate::domain::Request;
use crate::present::names;
use crate::sanitize;

pub(super) fn lines(app: &App, r: &Request) -> Vec<Line<'static>> {
    let lang = app.lang;
    if r.department_answer_waiting() {
        return vec![Line::from(Span::styled(
            lang.pick(
                "✉ Ответ департамента получен — r ответить, ::ans вставит его",
                "✉ The department's answer is in — r to reply, ::ans puts it in",
            )
            .to_string(),
            style(app, app.theme.ok),
        ))];
    }
    let Some(d) = app.detail.as_ref().filter(|d| d.request.id == r.id) else {
        return vec![];
    };
    let Some((from, note)) = d.returned() else {
        return vec![];
    };
    let from = from
        .map(|dep| names::department(&app.catalog, dep, lang))
        .unwrap_or_else(|| "—".into());
    vec![Line::from(vec![
        Span::styled(
            format!(
                "↩ {} {} ({}): ",
                lang.pick("Возвращено:", "Returned by"),
                sanitize::line(&from),
                sanitize::line(&note.author)
            ),
            style(app, app.theme.warn),
        ),
        Span::raw(sanitize::line(&note.body)),
    ])]
}
