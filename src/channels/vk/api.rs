//! One VK API method call: a form POST to `{api_url}/{method}` with the token and `v`, and the
//! `{"response": ...}` / `{"error": {...}}` envelope (both with HTTP 200) told apart.

use serde_json::Value;
use std::time::Duration;

use super::{API_VERSION, Vk};

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Nothing usable came back: connect error, timeout, reset, HTTP 5xx.
    Transport(String),
    /// HTTP 200 with a body that is neither a response nor an error.
    Garbled(String),
    /// `{"error":{"error_code":N,"error_msg":"..."}}`.
    Api { code: i64, message: String },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(r) | Failure::Garbled(r) => f.write_str(r),
            Failure::Api { code, message } => write!(f, "VK error {code}: {message}"),
        }
    }
}

/// Splits an API answer into its `response` or its error.
pub fn envelope(body: &str) -> Result<Value, Failure> {
    let mut v: Value = serde_json::from_str(body)
        .map_err(|e| Failure::Garbled(format!("the answer is not JSON: {e}")))?;
    if let Some(err) = v.get("error") {
        return Err(Failure::Api {
            code: err.get("error_code").and_then(Value::as_i64).unwrap_or(0),
            message: err
                .get("error_msg")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_string(),
        });
    }
    match v.get_mut("response") {
        Some(r) => Ok(r.take()),
        None => Err(Failure::Garbled(
            "the answer has neither `response` nor `error`".into(),
        )),
    }
}

impl Vk {
    pub(super) async fn call(
        &self,
        method: &str,
        params: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Value, Failure> {
        let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("access_token", &self.token));
        form.push(("v", API_VERSION));
        let resp = self
            .http
            .post(format!("{}/{method}", self.api_url))
            .form(&form)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| Failure::Transport(self.scrub(&e.without_url().to_string())))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| Failure::Transport(self.scrub(&e.without_url().to_string())))?;
        if status != 200 {
            return Err(Failure::Transport(format!(
                "{method} answered HTTP {status}"
            )));
        }
        envelope(&text).map_err(|f| match f {
            Failure::Api { code, message } => Failure::Api {
                code,
                message: self.scrub(&message),
            },
            other => other,
        })
    }
}
