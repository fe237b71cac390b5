//! The selected request's photo in the card. Decoding and the resize/encode for the
//! terminal's graphics protocol run on blocking threads; the UI task only swaps in results,
//! so a 5 MB photo never holds up a keystroke.

use image::DynamicImage;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui_image::StatefulImage;
use ratatui_image::picker::Picker;
use ratatui_image::thread::{ResizeRequest, ResizeResponse, ThreadProtocol};
use std::sync::mpsc;
use tokio::sync::mpsc::UnboundedSender;

use super::app::App;
use super::strings::Lang;
use crate::domain::Request;
use crate::domain::request::AttachmentState;
use crate::sync::files::{FetchError, FileLink, FileRef};

/// Photos larger than this in either side are refused before decoding: citizens' phones make
/// 4000×3000, an attack makes 60000×60000.
const MAX_SIDE: u32 = 12_000;
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// A server's refusal, put for the operator.
pub fn said(lang: Lang, e: &FetchError) -> String {
    let ru = lang != Lang::En;
    match e {
        FetchError::Unreachable(why) if ru => format!("сервер недоступен ({why})"),
        FetchError::Unreachable(why) => format!("the server is unreachable ({why})"),
        FetchError::NotStored if ru => "файл ещё не получен из канала".into(),
        FetchError::NotStored => "the file has not been fetched from its channel yet".into(),
        FetchError::Elsewhere if ru => {
            "файл хранится на другом сервере команды (общий files_dir — docs/operations.md)".into()
        }
        FetchError::Elsewhere => {
            "the file is kept by another of the team's servers (a shared files_dir — docs/operations.md)"
                .into()
        }
        FetchError::Forbidden if ru => "нет доступа к этому обращению".into(),
        FetchError::Forbidden => "no access to this request".into(),
        FetchError::NotFound if ru => "на сервере нет такого файла".into(),
        FetchError::NotFound => "the server has no such file".into(),
        FetchError::TooLarge if ru => "файл слишком большой".into(),
        FetchError::TooLarge => "the file is too large".into(),
        FetchError::Disk(why) if ru => format!("не сохранить на этом компьютере: {why}"),
        FetchError::Disk(why) => format!("cannot keep it on this machine: {why}"),
    }
}

/// A photo the server could not give for a reason that passes is asked for again this often
/// while the card shows it, so the operator need not step off the request and back.
const ASK_AGAIN: std::time::Duration = std::time::Duration::from_secs(10);

pub enum PhotoMsg {
    Decoded {
        path: String,
        image: DynamicImage,
    },
    Failed {
        path: String,
        error: String,
        /// Worth asking again (the server was away).
        passes: bool,
    },
    Resized(ResizeResponse),
}

/// The first downloaded picture of the selected request (a photo, or one sent as a file),
/// if any.
pub fn wanted(app: &App) -> Option<FileRef> {
    let r = app.current()?;
    let n = r
        .attachments
        .iter()
        .position(|a| a.is_picture() && a.state == AttachmentState::Stored)?;
    file_ref(r, n)
}

/// The request's file at place `n`, when the gateway has stored it.
pub fn file_ref(r: &Request, n: usize) -> Option<FileRef> {
    let a = r.attachments.get(n)?;
    if a.state != AttachmentState::Stored {
        return None;
    }
    Some(FileRef {
        number: r.number.to_string(),
        n,
        path: a.local_path.clone()?,
    })
}

pub fn decode(path: &str) -> Result<DynamicImage, String> {
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| e.to_string())?;
    // The card is a few dozen cells wide: a smaller copy makes every later resize cheap.
    Ok(if image.width() > 1600 || image.height() > 1600 {
        image.thumbnail(1600, 1600)
    } else {
        image
    })
}

pub struct Photos {
    picker: Picker,
    protocol: ThreadProtocol,
    shown: Option<FileRef>,
    /// Team mode: where a photo that is not on this machine comes from.
    files: Option<FileLink>,
    failed: Option<String>,
    /// When a failure that passes may be asked about again.
    ask_again: Option<std::time::Instant>,
    pub(in crate::tui) ask_again_after: std::time::Duration,
    lang: Lang,
    /// Asked for and not decoded yet: over a slow link a team console fetches it for seconds.
    loading: bool,
    tx: UnboundedSender<PhotoMsg>,
    resize_rx: mpsc::Receiver<ResizeRequest>,
    say_failed: &'static str,
    say_loading: &'static str,
}

impl Photos {
    pub fn new(
        picker: Picker,
        tx: UnboundedSender<PhotoMsg>,
        lang: Lang,
        files: Option<FileLink>,
    ) -> Photos {
        let (resize_tx, resize_rx) = mpsc::channel();
        Photos {
            picker,
            protocol: ThreadProtocol::new(resize_tx, None),
            shown: None,
            files,
            failed: None,
            ask_again: None,
            ask_again_after: ASK_AGAIN,
            lang,
            loading: false,
            tx,
            resize_rx,
            say_failed: if lang == Lang::En {
                "the photo cannot be shown"
            } else {
                "фото не показать"
            },
            say_loading: if lang == Lang::En {
                "loading the photo…"
            } else {
                "фото загружается…"
            },
        }
    }

    /// Starts loading the photo the card should show, when it changed.
    pub fn follow(&mut self, want: Option<FileRef>) {
        let again = self
            .ask_again
            .is_some_and(|at| std::time::Instant::now() >= at);
        let same = want == self.shown;
        if same && !again {
            return;
        }
        self.ask_again = None;
        // Asking again for the same photo keeps saying why it is missing until an answer
        // comes, rather than flashing «загружается» every few seconds while the server is away.
        if !same {
            self.protocol.empty_protocol();
            self.failed = None;
            self.loading = want.is_some();
        }
        self.shown = want.clone();
        let Some(file) = want else {
            return;
        };
        let tx = self.tx.clone();
        let files = self.files.clone();
        let lang = self.lang;
        tokio::spawn(async move {
            // The message names the photo by the gateway's path, which is what `shown` holds.
            let path = file.path.clone();
            let local = match &files {
                Some(link) => link.local(&file).await,
                None => Ok(file.path.clone().into()),
            };
            let msg = match local {
                Ok(local) => {
                    match tokio::task::spawn_blocking(move || decode(&local.to_string_lossy()))
                        .await
                    {
                        Ok(Ok(image)) => PhotoMsg::Decoded { path, image },
                        Ok(Err(error)) => PhotoMsg::Failed {
                            path,
                            error,
                            passes: false,
                        },
                        Err(e) => PhotoMsg::Failed {
                            path,
                            error: e.to_string(),
                            passes: false,
                        },
                    }
                }
                Err(e) => PhotoMsg::Failed {
                    path,
                    error: said(lang, &e),
                    passes: e.passes(),
                },
            };
            let _ = tx.send(msg);
        });
    }

    fn shows(&self, path: &str) -> bool {
        self.shown.as_ref().is_some_and(|f| f.path == path)
    }

    pub fn on_msg(&mut self, msg: PhotoMsg) {
        match msg {
            PhotoMsg::Decoded { path, image } if self.shows(&path) => {
                self.loading = false;
                self.failed = None;
                self.protocol
                    .replace_protocol(self.picker.new_resize_protocol(image));
            }
            PhotoMsg::Failed {
                path,
                error,
                passes,
            } if self.shows(&path) => {
                tracing::warn!(%path, %error, "photo not shown");
                self.loading = false;
                self.failed = Some(error);
                self.ask_again = passes.then(|| std::time::Instant::now() + self.ask_again_after);
            }
            PhotoMsg::Resized(done) => {
                self.protocol.update_resized_protocol(done);
            }
            _ => {}
        }
    }

    /// Draws into the slot the view left; a resize the widget asks for goes to a thread.
    pub fn draw(&mut self, f: &mut Frame, slot: Rect) {
        if let Some(e) = &self.failed {
            let text = format!("{}: {}", self.say_failed, crate::sanitize::line(e));
            f.render_widget(ratatui::widgets::Paragraph::new(text), slot);
            return;
        }
        if self.loading {
            f.render_widget(ratatui::widgets::Paragraph::new(self.say_loading), slot);
            return;
        }
        f.render_stateful_widget(StatefulImage::default(), slot, &mut self.protocol);
        while let Ok(req) = self.resize_rx.try_recv() {
            let tx = self.tx.clone();
            tokio::task::spawn_blocking(move || match req.resize_encode() {
                Ok(done) => {
                    let _ = tx.send(PhotoMsg::Resized(done));
                }
                Err(e) => tracing::warn!(error = %e, "photo resize failed"),
            });
        }
    }
}

/// The terminal's graphics protocol. Asking means writing a query and reading the answer from
/// stdin on a thread; a terminal that never answers (tmux without passthrough, many
/// others) leaves that thread reading, and it would swallow the operator's first keystroke.
/// So only terminals known to answer are asked; everything else gets halfblocks at once.
pub fn picker(timeout: std::time::Duration) -> Picker {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    if !known_graphics_terminal(&env("TERM"), &env("TERM_PROGRAM"), &env("TMUX"), |k| {
        std::env::var_os(k).is_some_and(|v| !v.is_empty())
    }) {
        return Picker::halfblocks();
    }
    let options = ratatui_image::picker::cap_parser::QueryStdioOptions {
        timeout,
        ..Default::default()
    };
    Picker::from_query_stdio_with_options(options).unwrap_or_else(|_| Picker::halfblocks())
}

pub fn known_graphics_terminal(
    term: &str,
    term_program: &str,
    tmux: &str,
    set: impl Fn(&str) -> bool,
) -> bool {
    if !tmux.is_empty() || term.starts_with("screen") || term.starts_with("tmux") {
        return false;
    }
    term == "xterm-kitty"
        || term.starts_with("foot")
        || term == "xterm-ghostty"
        || matches!(
            term_program,
            "iTerm.app" | "WezTerm" | "ghostty" | "WarpTerminal"
        )
        || set("KITTY_WINDOW_ID")
        || set("WEZTERM_EXECUTABLE")
        || set("KONSOLE_VERSION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_and_oversized_files_are_refused_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.jpg");
        std::fs::write(&junk, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
        assert!(decode(&junk.display().to_string()).is_err());
        assert!(decode("/nonexistent/photo.jpg").is_err());
        // A PNG header claiming 100000×100000 pixels.
        let big = dir.path().join("big.png");
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(&big, png).unwrap();
        assert!(decode(&big.display().to_string()).is_err());
    }

    #[test]
    fn only_terminals_that_answer_are_asked() {
        let none = |_: &str| false;
        assert!(known_graphics_terminal("xterm-kitty", "", "", none));
        assert!(known_graphics_terminal(
            "xterm-256color",
            "WezTerm",
            "",
            none
        ));
        assert!(known_graphics_terminal("xterm-256color", "", "", |k| k == "KITTY_WINDOW_ID"));
        // Inside tmux the query may never be answered, and a plain xterm-256color is unknown.
        assert!(!known_graphics_terminal(
            "xterm-kitty",
            "",
            "/tmp/tmux-0/default,1,0",
            none
        ));
        assert!(!known_graphics_terminal(
            "screen-256color",
            "iTerm.app",
            "",
            none
        ));
        assert!(!known_graphics_terminal("xterm-256color", "", "", none));
        assert!(!known_graphics_terminal("linux", "", "", none));
    }

    #[test]
    fn a_large_photo_is_scaled_down_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wide.png");
        image::RgbImage::new(3200, 800).save(&p).unwrap();
        let img = decode(&p.display().to_string()).unwrap();
        assert_eq!((img.width(), img.height()), (1600, 400));
    }
}
