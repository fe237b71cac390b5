//! Audit events as lines of the detail's thread: the shared wording (`present::audit`) with the
//! console's zone, language and the duplicate's number.

use super::app::App;
use crate::domain::request::Event;
use crate::present::audit::{self, AuditContext};

/// `14:05 · anna · статус: новое → в работе`; None for events the thread already shows.
pub fn describe(app: &App, e: &Event, parent_number: Option<&str>) -> Option<String> {
    audit::describe(
        &AuditContext {
            catalog: &app.catalog,
            tz: app.tz,
            lang: app.lang,
            parent_number,
        },
        e,
    )
}
