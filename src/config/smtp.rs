//! `[smtp]`: how the center sends mail to departments reached by e-mail (`[departments.<id>]
//! email`) and where their replies arrive (a Maildir the city's mail server fills). The
//! password is never required in the file: it comes from an environment variable or a file
//! only root and the service can read, as the channels' tokens may.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use crate::wire::mail::Security;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// The mail server forwards go through; empty: no mail is sent.
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login; empty: the server takes mail without one (a local relay).
    pub username: String,
    /// The environment variable holding the password.
    pub password_env: String,
    /// Or a file holding it (its first line), e.g. /etc/mcu/smtp-password, mode 0600.
    pub password_file: String,
    /// The center's address: mail goes from it, departments reply to it, and our Message-IDs
    /// carry its domain.
    pub from: String,
    /// Where departments' replies arrive: a Maildir (`new/`, `cur/`, `tmp/`) the city's mail
    /// server, fetchmail or getmail deliver into; empty: replies are not read.
    pub inbox_maildir: String,
    /// How long one send may take before it is tried again.
    pub timeout_secs: u64,
    /// How often the Maildir is looked at.
    pub poll_secs: f64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            security: Security::Starttls,
            username: String::new(),
            password_env: "MCU_SMTP_PASSWORD".into(),
            password_file: String::new(),
            from: String::new(),
            inbox_maildir: String::new(),
            timeout_secs: 30,
            poll_secs: 2.0,
        }
    }
}

impl SmtpConfig {
    /// The password from the variable `password_env` names, else from `password_file`; None
    /// when neither gives one. A file that cannot be read is an error worth saying.
    pub fn password(&self) -> Result<Option<String>, String> {
        let var = self.password_env.trim();
        if !var.is_empty()
            && let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return Ok(Some(v.trim().to_string()));
        }
        let file = self.password_file.trim();
        if file.is_empty() {
            return Ok(None);
        }
        let text =
            std::fs::read_to_string(file).map_err(|e| format!("smtp.password_file {file}: {e}"))?;
        Ok(text
            .lines()
            .next()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty()))
    }

    pub fn maildir(&self) -> Option<PathBuf> {
        let d = self.inbox_maildir.trim();
        (!d.is_empty()).then(|| PathBuf::from(d))
    }

    /// Mail is on when a department has an address: then the server and our own address must
    /// be given, or the first forward would fail long after the config was loaded.
    pub fn check(&self, any_department: bool) -> Result<(), String> {
        if !any_department {
            return Ok(());
        }
        if self.host.trim().is_empty() {
            return Err(
                "a department has an e-mail address: set smtp.host (the mail server to send through)"
                    .into(),
            );
        }
        if self.port == 0 {
            return Err("smtp.port must be 1 to 65535 (587 for STARTTLS, 465 for TLS)".into());
        }
        crate::domain::email::address(&self.from).map_err(|why| {
            format!(
                "smtp.from: `{}` is not an e-mail address ({why})",
                self.from.trim()
            )
        })?;
        if !(self.poll_secs.is_finite() && (0.05..=3600.0).contains(&self.poll_secs)) {
            return Err(format!(
                "smtp.poll_secs must be 0.05 to 3600, got {}",
                self.poll_secs
            ));
        }
        if self.timeout_secs == 0 {
            return Err("smtp.timeout_secs must be at least 1".into());
        }
        Ok(())
    }
}
