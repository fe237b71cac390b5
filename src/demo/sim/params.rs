//! Bot API method parameters from a query string, a form body or a JSON body, the three ways real
//! clients send them. Form and query values arrive as strings (nested objects as JSON text), so
//! the accessors accept both spellings, as Telegram does.

use serde_json::{Map, Value};

use super::api::ApiError;

pub(super) struct Params(Map<String, Value>);

impl Params {
    /// Query first, then the body on top of it.
    pub fn parse(query: Option<&str>, content_type: &str, body: &[u8]) -> Result<Params, ApiError> {
        let mut map = Map::new();
        if let Some(q) = query {
            decode_form(q.as_bytes(), &mut map);
        }
        let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if content_type.starts_with("application/json") || (content_type.is_empty() && looks_json) {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Params(map));
            }
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(obj)) => map.extend(obj),
                Ok(_) => return Err(ApiError::bad_request("parameters must be a JSON object")),
                Err(_) => return Err(ApiError::bad_request("can't parse JSON object")),
            }
        } else if content_type.starts_with("multipart/") {
            return Err(ApiError::bad_request(
                "multipart/form-data is not supported by the simulator",
            ));
        } else {
            decode_form(body, &mut map);
        }
        Ok(Params(map))
    }

    /// The parameters as one JSON object.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// An integer given as a number or as decimal text; anything else is a 400.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(&format!("invalid {key}"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(&format!("invalid {key}"))),
            Some(_) => Err(ApiError::bad_request(&format!("invalid {key}"))),
        }
    }

    pub fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// An object given inline (JSON body) or serialized (form, query).
    pub fn object(&self, key: &str) -> Result<Option<Params>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Params(o.clone()))),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(o)) => Ok(Some(Params(o))),
                _ => Err(ApiError::bad_request(&format!(
                    "can't parse {key} JSON object"
                ))),
            },
            Some(_) => Err(ApiError::bad_request(&format!("invalid {key}"))),
        }
    }

    /// Every button of an inline keyboard (`reply_markup`, inline or serialized) as its
    /// (text, callback_data); empty without one.
    pub fn callback_data(&self) -> Result<Vec<(String, String)>, ApiError> {
        let Some(markup) = self.object("reply_markup")? else {
            return Ok(vec![]);
        };
        let rows = markup
            .0
            .get("inline_keyboard")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::bad_request("can't parse inline keyboard"))?;
        Ok(rows
            .iter()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|b| {
                let data = b.get("callback_data").and_then(Value::as_str)?;
                let text = b.get("text").and_then(Value::as_str).unwrap_or(data);
                Some((text.to_string(), data.to_string()))
            })
            .collect())
    }

    /// A list of strings given inline or serialized; `allowed_updates` uses it.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        let bad = || ApiError::bad_request(&format!("can't parse {key}"));
        let list = match self.get(key) {
            None => return Ok(None),
            Some(Value::Array(a)) => a.clone(),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => a,
                _ => return Err(bad()),
            },
            Some(_) => return Err(bad()),
        };
        list.into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// application/x-www-form-urlencoded; malformed escapes are kept literally rather than refused.
fn decode_form(input: &[u8], into: &mut Map<String, Value>) {
    for pair in input.split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        into.insert(percent_decode(k), Value::String(percent_decode(v)));
    }
}

fn percent_decode(s: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                s.get(i + 1).and_then(|b| hex(*b)),
                s.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn form_json_and_query_agree() {
        let q = Params::parse(Some("chat_id=-5&text=%D0%AF+%F0%9F%98%80%zz"), "", b"");
        let q = q.unwrap_or_else(|_| Params(Map::new()));
        assert_eq!(q.int("chat_id").ok().flatten(), Some(-5));
        assert_eq!(q.text("text").as_deref(), Some("Я 😀%zz"));

        let f = Params::parse(
            None,
            "application/x-www-form-urlencoded",
            b"reply_parameters=%7B%22message_id%22%3A3%7D&allowed_updates=%5B%22message%22%5D",
        );
        let f = f.unwrap_or_else(|_| Params(Map::new()));
        let rp = f.object("reply_parameters").ok().flatten();
        assert_eq!(rp.and_then(|r| r.int("message_id").ok().flatten()), Some(3));
        assert_eq!(
            f.strings("allowed_updates").ok().flatten(),
            Some(vec!["message".to_owned()])
        );

        let j = Params::parse(
            Some("limit=1"),
            "application/json",
            br#"{"limit":5,"x":null}"#,
        );
        let j = j.unwrap_or_else(|_| Params(Map::new()));
        assert_eq!(j.int("limit").ok().flatten(), Some(5));
        assert_eq!(j.int("x").ok().flatten(), None);

        assert!(Params::parse(None, "application/json", b"[1]").is_err());
        assert!(Params::parse(None, "application/json", b"{").is_err());
        assert!(j.int("missing").is_ok());
        let bad =
            Params::parse(Some("chat_id=abc"), "", b"").unwrap_or_else(|_| Params(Map::new()));
        assert!(bad.int("chat_id").is_err());
    }
}
