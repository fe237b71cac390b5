//! Open311's two wire formats. Handlers build one JSON value; this file writes it as JSON or
//! as the spec's XML (arrays become a wrapper with one named element per item), and writes
//! errors the spec's way: `[{"code":…,"description":…}]` or `<errors><error>…`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Json,
    Xml,
}

/// `requests.json` → (`requests`, Json). An unknown or missing extension is `None`: the
/// caller answers 404, since the spec's routes all end in a format.
pub fn split(file: &str) -> Option<(&str, Fmt)> {
    let (stem, ext) = file.rsplit_once('.')?;
    let fmt = match ext {
        "json" => Fmt::Json,
        "xml" => Fmt::Xml,
        _ => return None,
    };
    (!stem.is_empty()).then_some((stem, fmt))
}

/// An answer in the asked format; `root` names the XML document element, `item` the element
/// of each entry when the value is an array.
pub fn reply(fmt: Fmt, status: StatusCode, root: &str, item: &str, value: &Value) -> Response {
    let (ctype, body) = match fmt {
        Fmt::Json => ("application/json; charset=utf-8", value.to_string()),
        Fmt::Xml => ("text/xml; charset=utf-8", xml_document(root, item, value)),
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

/// An Open311 error: the HTTP status doubles as the error's `code`, as most implementations
/// (and the spec's examples) do.
#[derive(Debug, Clone, PartialEq)]
pub struct O311Error {
    pub status: StatusCode,
    pub description: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl O311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> O311Error {
        O311Error {
            status,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn bad(description: impl Into<String>) -> O311Error {
        O311Error::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn not_found(description: impl Into<String>) -> O311Error {
        O311Error::new(StatusCode::NOT_FOUND, description)
    }

    pub fn render(&self, fmt: Fmt) -> Response {
        let value = serde_json::json!([{
            "code": self.status.as_u16(),
            "description": self.description,
        }]);
        let mut resp = reply(fmt, self.status, "errors", "error", &value);
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // The key goes in `api_key` (query or form), as the spec's security scheme says.
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("api_key"),
            );
        }
        resp
    }
}

impl From<super::super::engine::ServerError> for O311Error {
    fn from(e: super::super::engine::ServerError) -> O311Error {
        tracing::error!(error = %e, "open311: store");
        O311Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Хранилище временно недоступно, повторите запрос позже",
        )
    }
}

/// The element name of one entry of an array under `parent`.
fn item_name<'a>(parent: &'a str, top_item: &'a str, top: bool) -> &'a str {
    if top {
        return top_item;
    }
    match parent {
        "endpoints" => "endpoint",
        "formats" => "format",
        "attributes" => "attribute",
        "values" => "value",
        _ => "item",
    }
}

pub fn xml_document(root: &str, item: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    element(&mut out, root, item, value, true);
    out
}

fn element(out: &mut String, name: &str, top_item: &str, value: &Value, top: bool) {
    match value {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Array(items) => {
            open(out, name);
            let child = item_name(name, top_item, top);
            for v in items {
                element(out, child, top_item, v, false);
            }
            close(out, name);
        }
        Value::Object(fields) => {
            open(out, name);
            let order = field_order(name);
            let mut fields: Vec<_> = fields.iter().collect();
            fields.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
            for (k, v) in fields {
                element(out, k, top_item, v, false);
            }
            close(out, name);
        }
        Value::String(s) => leaf(out, name, s),
        Value::Bool(b) => leaf(out, name, if *b { "true" } else { "false" }),
        Value::Number(n) => leaf(out, name, &n.to_string()),
    }
}

/// The spec's field order of each element: XML readers built from its schemas may expect
/// it, and serde_json's map does not keep the order fields were written in.
fn field_order(element: &str) -> &'static [&'static str] {
    match element {
        "request" => &[
            "service_request_id",
            "token",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
            "account_id",
        ],
        "service" => &[
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ],
        "discovery" => &["changeset", "contact", "key_service", "endpoints"],
        "endpoint" => &["specification", "url", "changeset", "type", "formats"],
        "service_definition" => &["service_code", "attributes"],
        "error" => &["code", "description"],
        _ => &[],
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn leaf(out: &mut String, name: &str, text: &str) {
    open(out, name);
    escape_into(out, text);
    close(out, name);
}

/// Escapes markup and drops what XML 1.0 cannot carry at all (most control characters, even
/// escaped), so stored text with stray escape sequences still makes a well-formed document.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_names_split_into_stem_and_format() {
        assert_eq!(split("requests.json"), Some(("requests", Fmt::Json)));
        assert_eq!(split("2026-000001.xml"), Some(("2026-000001", Fmt::Xml)));
        assert_eq!(split("requests.html"), None);
        assert_eq!(split("requests"), None);
        assert_eq!(split(".json"), None);
    }

    #[test]
    fn xml_nests_arrays_escapes_text_and_drops_control_characters() {
        let v = json!([{"service_code": "roads", "group": null,
            "description": "<b>&\"ям\u{1b}[31m'ы\u{0}</b>",
            "formats": ["text/xml", "application/json"], "metadata": false, "lat": 45.5}]);
        let x = xml_document("services", "service", &v);
        // The spec's order first, then the rest (in serde_json's order).
        let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service>\
                    <service_code>roads</service_code>\
                    <description>&lt;b&gt;&amp;&quot;ям[31m&apos;ы&lt;/b&gt;</description>\
                    <metadata>false</metadata><group/>";
        assert!(x.starts_with(head), "{x}");
        for part in [
            "<formats><format>text/xml</format><format>application/json</format></formats>",
            "<lat>45.5</lat>",
            "</service></services>",
        ] {
            assert!(x.contains(part), "{part} in {x}");
        }
    }

    #[test]
    fn errors_carry_the_status_as_code_and_retry_after() {
        let mut e = O311Error::new(StatusCode::TOO_MANY_REQUESTS, "слишком часто");
        e.retry_after = Some(7);
        let resp = e.render(Fmt::Json);
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
        let resp = O311Error::bad("x").render(Fmt::Xml);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "text/xml; charset=utf-8"
        );
    }
}
