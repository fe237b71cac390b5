//! The composer's text in the operator's own editor (`$VISUAL`, else `$EDITOR`, else `vi`).
//! The console gives up the terminal while the editor runs: the caller stops reading keys
//! first, or crossterm's reader and the editor would both take the keystrokes.

use std::ffi::OsString;

/// The editor's command line: program and arguments (`code --wait` has two words).
pub fn command(visual: Option<OsString>, editor: Option<OsString>) -> Vec<String> {
    let chosen = [visual, editor]
        .into_iter()
        .flatten()
        .map(|v| v.to_string_lossy().trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "vi".to_string());
    chosen.split_whitespace().map(str::to_string).collect()
}

/// Runs the editor on `text` in a temporary file and returns what was saved. Errors are
/// sentences for the status line; the text in the composer stays as it was.
pub async fn edit(argv: &[String], text: &str, ru: bool) -> Result<String, String> {
    let say = |ru_text: String, en_text: String| if ru { ru_text } else { en_text };
    let Some((program, args)) = argv.split_first() else {
        return Err(say("не задан редактор".into(), "no editor set".into()));
    };
    let file = tempfile::Builder::new()
        .prefix("mcu-reply-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| {
            say(
                format!("временный файл: {e}"),
                format!("temporary file: {e}"),
            )
        })?;
    std::fs::write(file.path(), text).map_err(|e| {
        say(
            format!("временный файл: {e}"),
            format!("temporary file: {e}"),
        )
    })?;
    let status = tokio::process::Command::new(program)
        .args(args)
        .arg(file.path())
        .status()
        .await
        .map_err(|e| {
            say(
                format!("редактор {program} не запустился: {e}"),
                format!("editor {program} did not start: {e}"),
            )
        })?;
    if !status.success() {
        return Err(say(
            format!("редактор {program} завершился с ошибкой ({status}); текст не изменён"),
            format!("editor {program} failed ({status}); the text is unchanged"),
        ));
    }
    let bytes = std::fs::read(file.path()).map_err(|e| {
        say(
            format!("временный файл: {e}"),
            format!("temporary file: {e}"),
        )
    })?;
    // An editor may save in another encoding; lossy keeps the rest of the text readable.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_then_editor_then_vi() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(command(os("code --wait"), os("nano")), ["code", "--wait"]);
        assert_eq!(command(os("  "), os("nano")), ["nano"]);
        assert_eq!(command(None, None), ["vi"]);
    }

    #[tokio::test]
    async fn the_saved_file_comes_back_and_a_failure_keeps_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("ed.sh");
        std::fs::write(&script, "#!/bin/sh\nprintf ' и ещё' >> \"$1\"\n").unwrap();
        let argv = vec!["sh".to_string(), script.display().to_string()];
        assert_eq!(
            edit(&argv, "Здравствуйте", true).await.unwrap(),
            "Здравствуйте и ещё"
        );
        let e = edit(&["false".to_string()], "x", true).await.unwrap_err();
        assert!(e.contains("не изменён"), "{e}");
        let e = edit(&["/nonexistent/editor".to_string()], "x", false)
            .await
            .unwrap_err();
        assert!(e.contains("did not start"), "{e}");
    }
}
