//! What the console hands to other programs: a file to the system's viewer (fetched from the
//! server first in team mode) and text to the terminal's clipboard.

use tokio::sync::mpsc;

use super::update::Msg;

/// Team mode's `o`: the file fetched from the server when it is not on this machine, then
/// the viewer, on a task of its own (a photo over a slow link takes seconds).
pub(super) fn open_from_server(
    files: crate::sync::files::FileLink,
    program: Vec<String>,
    file: crate::sync::files::FileRef,
    lang: super::strings::Lang,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let tx = tx.clone();
    tokio::spawn(async move {
        let opened = match files.local(&file).await {
            Ok(path) => open_externally(&program, &path.to_string_lossy()).await,
            Err(e) => Err(super::photo::said(lang, &e)),
        };
        let _ = tx.send(Msg::Opened(opened));
    });
}

/// Starts the viewer without waiting for it and without letting it write over the screen;
/// only a failure to start (or an opener that fails at once) is reported.
pub(super) async fn open_externally(program: &[String], path: &str) -> Result<String, String> {
    let default = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let (cmd, args) = match program.split_first() {
        Some((c, a)) => (c.as_str(), a),
        None => (default, &[][..]),
    };
    if !std::path::Path::new(path).exists() {
        return Err(format!("{path}: файла нет / no such file"));
    }
    let mut child = tokio::process::Command::new(cmd)
        .args(args)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{cmd}: {e}"))?;
    // xdg-open hands the file to a viewer and exits; a quick failure means no viewer here
    // (a console over SSH), which the operator should hear about.
    match tokio::time::timeout(std::time::Duration::from_secs(2), child.wait()).await {
        Ok(Ok(status)) if !status.success() => Err(format!("{cmd} {path}: {status}")),
        Ok(Err(e)) => Err(format!("{cmd}: {e}")),
        _ => Ok(std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()),
    }
}

/// OSC 52: the terminal puts the text on the clipboard (works over SSH too).
pub(super) fn copy_to_clipboard(text: &str) {
    use base64::Engine;
    use std::io::Write;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}
