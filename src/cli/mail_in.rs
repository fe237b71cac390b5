//! `mcu mail-in`: one mail from standard input into `[smtp] inbox_maildir`, for a mail
//! server's pipe (`/etc/aliases`: `mcu: "|/usr/bin/mcu mail-in"`) or fetchmail's `mda`. The
//! exit codes are sysexits', which mail servers read: 75 says keep the mail and try again.

use std::io::Read;

use super::Exit;
use crate::channels::mail::{MAX_MAIL_BYTES, deliver};
use crate::config::Config;

/// EX_DATAERR: the mail itself is bad (too big); the mail server bounces it.
const DATA_ERROR: u8 = 65;
/// EX_TEMPFAIL: not delivered now; the mail server keeps it and tries again.
const TEMP_FAIL: u8 = 75;

pub fn mail_in(config: &Config) -> anyhow::Result<()> {
    let fail = |code: u8, message: String| Exit { code, message };
    let Some(dir) = config.smtp.maildir() else {
        return Err(fail(
            TEMP_FAIL,
            "mail-in: set [smtp] inbox_maildir (where departments' replies are kept)".into(),
        )
        .into());
    };
    let mut raw = vec![];
    std::io::stdin()
        .lock()
        .take(MAX_MAIL_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| fail(TEMP_FAIL, format!("mail-in: reading the mail: {e}")))?;
    if raw.len() > MAX_MAIL_BYTES {
        return Err(fail(
            DATA_ERROR,
            format!(
                "mail-in: the mail is over {} MB",
                MAX_MAIL_BYTES / 1024 / 1024
            ),
        )
        .into());
    }
    deliver(&dir, &raw).map_err(|e| fail(TEMP_FAIL, format!("mail-in: {}: {e}", dir.display())))?;
    Ok(())
}
