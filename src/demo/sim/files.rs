//! Files citizens attached: getFile issues download paths that expire, as Telegram's do, and
//! downloads return real JPEG/PDF bytes of exactly the advertised `file_size`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::api::ApiError;

/// "Bots can download files of up to 20MB in size."
pub(super) const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum FileKind {
    Photo,
    Document,
    /// A photo sent "as a file" to keep its quality: a document whose bytes are a JPEG.
    PictureDocument,
}

impl FileKind {
    /// What its file_id may be sent again as.
    pub fn sent_as(self) -> FileKind {
        match self {
            FileKind::PictureDocument => FileKind::Document,
            k => k,
        }
    }
}

struct FileMeta {
    unique_id: String,
    size: u64,
    kind: FileKind,
}

struct Issued {
    file_id: String,
    at: Instant,
    expired: bool,
}

pub(super) struct Files {
    by_id: HashMap<String, FileMeta>,
    paths: HashMap<String, Issued>,
    seq: u64,
    ttl: Duration,
}

impl Files {
    pub fn new(ttl: Duration) -> Files {
        Files {
            by_id: HashMap::new(),
            paths: HashMap::new(),
            seq: 0,
            ttl,
        }
    }

    pub fn register(&mut self, file_id: &str, unique_id: &str, size: u64, kind: FileKind) {
        self.by_id.insert(
            file_id.to_owned(),
            FileMeta {
                unique_id: unique_id.to_owned(),
                size,
                kind,
            },
        );
    }

    /// Whether the bot was ever given this file (its own file_ids are all it may send).
    pub fn knows(&self, file_id: &str) -> bool {
        self.by_id.contains_key(file_id)
    }

    /// What the bot was given it as: a file_id is sent again only as what it is.
    pub fn kind_of(&self, file_id: &str) -> Option<FileKind> {
        self.by_id.get(file_id).map(|m| m.kind)
    }

    /// A fresh path per call, so a client that refreshes an expired link gets a working one
    /// while the old one stays dead.
    pub fn get_file(&mut self, file_id: &str) -> Result<Value, ApiError> {
        let Some(meta) = self.by_id.get(file_id) else {
            return Err(ApiError::bad_request("invalid file_id"));
        };
        if meta.size > MAX_DOWNLOAD {
            return Err(ApiError::bad_request("file is too big"));
        }
        self.seq += 1;
        let path = match meta.kind {
            FileKind::Photo => format!("photos/file_{}.jpg", self.seq),
            FileKind::Document => format!("documents/file_{}.pdf", self.seq),
            FileKind::PictureDocument => format!("documents/file_{}.jpg", self.seq),
        };
        let reply = json!({
            "file_id": file_id,
            "file_unique_id": meta.unique_id,
            "file_size": meta.size,
            "file_path": path,
        });
        self.paths.insert(
            path,
            Issued {
                file_id: file_id.to_owned(),
                at: Instant::now(),
                expired: false,
            },
        );
        Ok(reply)
    }

    /// The bytes and content type behind a live path; None once it expired or never existed.
    pub fn download(&self, path: &str) -> Option<(Vec<u8>, &'static str)> {
        let issued = self.paths.get(path)?;
        if issued.expired || issued.at.elapsed() >= self.ttl {
            return None;
        }
        let meta = self.by_id.get(&issued.file_id)?;
        let size = usize::try_from(meta.size).ok()?;
        Some(match meta.kind {
            FileKind::Photo | FileKind::PictureDocument => {
                (picture_of_size(&issued.file_id, size), "image/jpeg")
            }
            FileKind::Document => (pdf_of_size(size), "application/pdf"),
        })
    }

    pub fn expire_all(&mut self) {
        for issued in self.paths.values_mut() {
            issued.expired = true;
        }
    }
}

/// An 8×8 grey baseline JPEG: one DC-only block, Huffman tables with a single 1-bit code each.
const TINY_JPEG_HEAD: &[u8] = &[
    0xFF, 0xD8, // SOI
    0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, // APP0 JFIF 1.1, aspect 1:1
];

fn tiny_jpeg_tail() -> Vec<u8> {
    let mut b = vec![0xFF, 0xDB, 0x00, 0x43, 0x00];
    b.extend([1u8; 64]); // DQT: all ones
    b.extend([
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11,
        0x00, // SOF0 8×8 grey
    ]);
    for class in [0x00u8, 0x10] {
        // DHT: DC then AC, one code of length 1 for symbol 0 (DC diff 0, AC end of block)
        b.extend([0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
        b.extend([0u8; 15]);
        b.push(0x00);
    }
    b.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]); // SOS
    b.push(0x3F); // bits 0 (DC) 0 (EOB), padded with ones
    b.extend([0xFF, 0xD9]); // EOI
    b
}

/// The tiny JPEG padded with comment segments up to `size` bytes, so `file_size` is honest.
pub(super) fn jpeg_of_size(size: usize) -> Vec<u8> {
    padded(TINY_JPEG_HEAD, &tiny_jpeg_tail(), size)
}

/// A street with a pothole, different for every file, so the demo's cards show something
/// worth looking at; the tiny grey JPEG when the advertised size is too small for it.
pub(super) fn picture_of_size(file_id: &str, size: usize) -> Vec<u8> {
    let seed = file_id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    let (w, h) = (480u32, 360u32);
    let horizon = 120 + (seed % 60) as u32;
    let (cx, cy) = (
        120 + (seed >> 8) % 240,
        horizon as u64 + 80 + (seed >> 16) % 120,
    );
    let (rx, ry) = (50 + (seed >> 24) % 60, 18 + (seed >> 32) % 20);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (x64, y64) = (x as u64, y as u64);
        let dx = x64.abs_diff(cx) as f64 / rx as f64;
        let dy = y64.abs_diff(cy) as f64 / ry as f64;
        if y < horizon {
            // Sky, lighter towards the horizon.
            let t = (y * 90 / horizon) as u8;
            image::Rgb([110 + t, 150 + t, 200 + t / 2])
        } else if dx * dx + dy * dy < 1.0 {
            image::Rgb([40, 38, 36])
        } else {
            // Asphalt with some grain.
            let grain = ((x64 * 7919 + y64 * 104729 + seed) % 23) as u8;
            image::Rgb([95 + grain, 95 + grain, 98 + grain])
        }
    });
    let mut encoded = vec![];
    let ok = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 75)
        .encode_image(&img)
        .is_ok();
    // SOI, then APP0 (its length in bytes 4..6): the padding goes after them.
    let head_len = encoded
        .get(4..6)
        .map(|l| 4 + u16::from_be_bytes([l[0], l[1]]) as usize)
        .unwrap_or(0);
    if !ok || head_len == 0 || encoded.len() > size || encoded.get(2..4) != Some(&[0xFF, 0xE0]) {
        return jpeg_of_size(size);
    }
    padded(&encoded[..head_len], &encoded[head_len..], size)
}

fn padded(head: &[u8], tail: &[u8], size: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(size.max(head.len() + tail.len()));
    b.extend_from_slice(head);
    let mut pad = size.saturating_sub(head.len() + tail.len());
    while pad >= 4 {
        let mut seg = pad.min(4 + 65533);
        // A segment is at least 4 bytes; never leave a remainder no segment can fill.
        if (1..4).contains(&(pad - seg)) {
            seg -= 4;
        }
        let len = u16::try_from(seg - 2).unwrap_or(u16::MAX);
        b.extend([0xFF, 0xFE]);
        b.extend(len.to_be_bytes());
        b.resize(b.len() + seg - 4, b' ');
        pad -= seg;
    }
    b.extend_from_slice(tail);
    b.resize(b.len() + pad, 0);
    b
}

/// A one-page blank PDF padded with a comment line up to `size` bytes.
pub(super) fn pdf_of_size(size: usize) -> Vec<u8> {
    const HEAD: &str = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
        2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
        3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n";
    const TAIL: &str = "trailer<</Root 1 0 R>>\n%%EOF\n";
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(HEAD.as_bytes());
    let pad = size.saturating_sub(HEAD.len() + TAIL.len());
    if pad >= 2 {
        b.push(b'%');
        b.resize(b.len() + pad - 2, b' ');
        b.push(b'\n');
    }
    b.extend_from_slice(TAIL.as_bytes());
    b
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn demo_pictures_decode_differ_and_keep_the_advertised_size() {
        let a = picture_of_size("AgAD-one", 120_000);
        let b = picture_of_size("AgAD-two", 120_000);
        assert_eq!((a.len(), b.len()), (120_000, 120_000));
        assert_ne!(a, b);
        let img = image::load_from_memory(&a).expect("a real JPEG");
        assert_eq!((img.width(), img.height()), (480, 360));
        // Too small for a picture: still an honest, decodable file of that size.
        let thumb = picture_of_size("AgAD-thumb", 1_500);
        assert_eq!(thumb.len(), 1_500);
        assert!(image::load_from_memory(&thumb).is_ok());
    }

    #[test]
    fn padded_files_have_the_advertised_size_and_valid_framing() {
        for size in [0, 150, 200, 201, 202, 65_600, 65_541, 300_000] {
            let j = jpeg_of_size(size);
            if size >= 200 {
                assert_eq!(j.len(), size, "jpeg {size}");
            }
            assert_eq!(&j[..2], &[0xFF, 0xD8]);
            assert!(j.windows(2).any(|w| w == [0xFF, 0xD9]));
            let p = pdf_of_size(size);
            if size >= 300 {
                assert_eq!(p.len(), size, "pdf {size}");
            }
            assert!(p.starts_with(b"%PDF-1.4"));
        }
    }

    #[test]
    fn paths_expire_and_refresh_gives_a_new_one() {
        let mut f = Files::new(Duration::from_secs(60));
        f.register("a", "ua", 1000, FileKind::Photo);
        f.register("big", "ub", MAX_DOWNLOAD + 1, FileKind::Document);
        let p1 = f
            .get_file("a")
            .ok()
            .and_then(|v| v["file_path"].as_str().map(str::to_owned));
        let p1 = p1.unwrap_or_default();
        assert!(f.download(&p1).is_some());
        f.expire_all();
        assert!(f.download(&p1).is_none());
        let p2 = f
            .get_file("a")
            .ok()
            .and_then(|v| v["file_path"].as_str().map(str::to_owned));
        let p2 = p2.unwrap_or_default();
        assert_ne!(p1, p2);
        assert_eq!(f.download(&p2).map(|(b, _)| b.len()), Some(1000));
        assert!(f.get_file("big").is_err());
        assert!(f.get_file("nope").is_err());
    }
}
