//! What a request's file is good for beyond keeping: a picture the card can draw (a photo, or
//! a photo the citizen sent "as a file" to keep its quality, which Telegram delivers as a
//! document), and a handle a chat can be sent again by. Telegram refuses a document's id in
//! `sendPhoto` ("type of file mismatch"), so the outbox keeps which of the two it is.

use super::request::Attachment;

/// What `image` decodes and a citizen's phone makes; HEIC is not among them.
const PICTURE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "gif", "bmp"];

impl Attachment {
    /// A photo, or a document whose name says it is a picture.
    pub fn is_picture(&self) -> bool {
        match self.kind.as_str() {
            "photo" => true,
            "document" => [self.name.as_deref(), self.local_path.as_deref()]
                .into_iter()
                .flatten()
                .any(has_picture_extension),
            _ => false,
        }
    }
}

fn has_picture_extension(name: &str) -> bool {
    std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PICTURE_EXTENSIONS.iter().any(|p| e.eq_ignore_ascii_case(p)))
}

/// A file a chat sends again by its handle (a Telegram file_id or a web address), as one line
/// of an outbox part's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resend {
    Photo(String),
    Document(String),
}

const DOCUMENT: &str = "document:";

impl Resend {
    pub fn line(&self) -> String {
        match self {
            Resend::Photo(h) => h.clone(),
            Resend::Document(h) => format!("{DOCUMENT}{h}"),
        }
    }

    /// A bare handle is a photo: what the outbox held before documents were sent.
    pub fn read(line: &str) -> Resend {
        match line.strip_prefix(DOCUMENT) {
            Some(h) => Resend::Document(h.to_string()),
            None => Resend::Photo(line.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::AttachmentState;

    fn file(kind: &str, name: Option<&str>, path: Option<&str>) -> Attachment {
        Attachment {
            kind: kind.into(),
            name: name.map(Into::into),
            size: None,
            source: Some("BQAC".into()),
            local_path: path.map(Into::into),
            state: AttachmentState::Stored,
        }
    }

    #[test]
    fn a_photo_sent_as_a_file_is_a_picture_and_a_scan_in_pdf_is_not() {
        assert!(file("photo", None, None).is_picture());
        assert!(file("document", Some("IMG_0042.JPG"), None).is_picture());
        assert!(file("document", None, Some("/f/BQAC-photo.png")).is_picture());
        assert!(!file("document", Some("заявление.pdf"), Some("/f/x.pdf")).is_picture());
        assert!(!file("document", Some("IMG_0042.HEIC"), None).is_picture());
        assert!(!file("document", Some("jpg"), None).is_picture());
        assert!(!file("video", Some("clip.gif"), None).is_picture());
    }

    #[test]
    fn a_resend_line_reads_back_and_a_bare_handle_is_a_photo() {
        for r in [
            Resend::Photo("AgACAgIAAxkBAAI".into()),
            Resend::Photo("https://vk.example/p.jpg".into()),
            Resend::Document("BQACAgIAAxkBAAI".into()),
        ] {
            assert_eq!(Resend::read(&r.line()), r);
        }
        assert_eq!(Resend::read("AgAC"), Resend::Photo("AgAC".into()));
    }
}
