//! A downloaded photo in the card of a tall screen, in halfblocks (what any terminal draws).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui_image::picker::Picker;

use super::super::photo::{PhotoMsg, Photos, wanted};
use super::super::strings::Lang;
use super::super::view;
use super::{loaded, render, screen};
use crate::domain::request::{Attachment, AttachmentState};

#[tokio::test]
async fn a_stored_photo_is_drawn_in_the_card_without_blocking_the_draw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pothole.png");
    image::RgbImage::from_pixel(640, 480, image::Rgb([200, 30, 30]))
        .save(&path)
        .unwrap();
    let mut a = loaded(Lang::Ru);
    a.rows[0].attachments = vec![Attachment {
        kind: "photo".into(),
        name: None,
        size: Some(100),
        source: Some("AgAD".into()),
        local_path: Some(path.display().to_string()),
        state: AttachmentState::Stored,
    }];
    let want = wanted(&a).expect("the stored photo");
    assert_eq!((want.n, want.path.clone()), (0, path.display().to_string()));
    assert_eq!(want.number, a.rows[0].number.to_string());
    // No room at 80×24: the key `o` opens it instead.
    let mut small = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut slot = None;
    small
        .draw(|f| slot = view::draw_with_photo_slot(f, &a))
        .unwrap();
    assert!(slot.is_none());

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut photos = Photos::new(Picker::halfblocks(), tx, Lang::Ru, None);
    photos.follow(wanted(&a));
    // Until it is decoded (fetched, in team mode), the slot says so.
    let mut t = Terminal::new(TestBackend::new(60, 5)).unwrap();
    t.draw(|f| photos.draw(f, f.area())).unwrap();
    let line: String = (0..60)
        .map(|x| t.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    assert!(line.starts_with("фото загружается…"), "{line}");
    let decoded = rx.recv().await.unwrap();
    assert!(matches!(decoded, PhotoMsg::Decoded { .. }));
    photos.on_msg(decoded);
    let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let mut draw = |photos: &mut Photos| {
        t.draw(|f| {
            let slot = view::draw_with_photo_slot(f, &a).expect("room for the photo");
            photos.draw(f, slot);
        })
        .unwrap();
        t.backend().buffer().clone()
    };
    // The first draw only asks for the resize; the result arrives as a message.
    draw(&mut photos);
    let resized = rx.recv().await.unwrap();
    assert!(matches!(resized, PhotoMsg::Resized(_)));
    photos.on_msg(resized);
    let buf = draw(&mut photos);
    let red = buf
        .content()
        .iter()
        .filter(|c| c.fg == Color::Rgb(200, 30, 30) || c.bg == Color::Rgb(200, 30, 30))
        .count();
    assert!(red > 200, "{red} red cells");
    // The text around the photo is still there.
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("Прорвало трубу"), "{s}");
    assert!(s.contains("[фото 1 КБ] — o открыть"), "{s}");
}

#[test]
fn a_photo_sent_as_a_file_is_the_cards_picture_and_a_pdf_is_not() {
    let mut a = loaded(Lang::Ru);
    let file = |name: &str, path: &str| Attachment {
        kind: "document".into(),
        name: Some(name.into()),
        size: Some(2_000_000),
        source: Some("BQAC".into()),
        local_path: Some(path.into()),
        state: AttachmentState::Stored,
    };
    a.rows[0].attachments = vec![
        file("заявление.pdf", "/f/BQAC-1.pdf"),
        file("IMG_0042.JPG", "/f/BQAC-2.jpg"),
    ];
    let want = wanted(&a).expect("the picture");
    assert_eq!((want.n, want.path.as_str()), (1, "/f/BQAC-2.jpg"));
    a.rows[0].attachments.truncate(1);
    assert!(wanted(&a).is_none());
}

#[tokio::test]
async fn a_broken_photo_says_so_in_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.jpg");
    std::fs::write(&path, b"not an image").unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut photos = Photos::new(Picker::halfblocks(), tx, Lang::Ru, None);
    photos.follow(Some(crate::sync::files::FileRef {
        number: "2026-000001".into(),
        n: 0,
        path: path.display().to_string(),
    }));
    photos.on_msg(rx.recv().await.unwrap());
    let mut t = Terminal::new(TestBackend::new(60, 5)).unwrap();
    t.draw(|f| photos.draw(f, f.area())).unwrap();
    let line: String = (0..60)
        .map(|x| t.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    assert!(line.starts_with("фото не показать"), "{line}");
    // A broken file stays broken: it is not asked for again while the card shows it.
    photos.ask_again_after = std::time::Duration::ZERO;
    photos.follow(Some(crate::sync::files::FileRef {
        number: "2026-000001".into(),
        n: 0,
        path: path.display().to_string(),
    }));
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn a_photo_the_server_could_not_give_is_asked_for_again_while_the_card_shows_it() {
    // A port nobody listens on: the server is away.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cache = tempfile::tempdir().unwrap();
    let link = crate::sync::files::FileLink::new(
        &format!("http://127.0.0.1:{port}"),
        "token",
        "city",
        cache.path().into(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pothole.png");
    let want = crate::sync::files::FileRef {
        number: "2026-000001".into(),
        n: 0,
        path: path.display().to_string(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut photos = Photos::new(Picker::halfblocks(), tx, Lang::Ru, Some(link));
    photos.follow(Some(want.clone()));
    let failed = rx.recv().await.unwrap();
    assert!(matches!(failed, PhotoMsg::Failed { passes: true, .. }));
    photos.on_msg(failed);
    let mut t = Terminal::new(TestBackend::new(90, 5)).unwrap();
    t.draw(|f| photos.draw(f, f.area())).unwrap();
    let line: String = (0..90)
        .map(|x| t.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    assert!(
        line.starts_with("фото не показать: сервер недоступен"),
        "{line}"
    );
    // Not at once: the one-second tick must not hammer a server that is down.
    photos.follow(Some(want.clone()));
    assert!(rx.try_recv().is_err());
    // The file comes within reach (here: on this machine); the next ask shows it.
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 30, 30]))
        .save(&path)
        .unwrap();
    photos.ask_again_after = std::time::Duration::ZERO;
    photos.on_msg(PhotoMsg::Failed {
        path: want.path.clone(),
        error: "away".into(),
        passes: true,
    });
    photos.follow(Some(want));
    let first_line = |photos: &mut Photos| {
        let mut t = Terminal::new(TestBackend::new(90, 5)).unwrap();
        t.draw(|f| photos.draw(f, f.area())).unwrap();
        (0..90)
            .map(|x| t.backend().buffer()[(x, 0)].symbol().to_string())
            .collect::<String>()
    };
    // While it is asked again, the card still says why it is missing.
    let line = first_line(&mut photos);
    assert!(line.starts_with("фото не показать"), "{line}");
    let decoded = rx.recv().await.unwrap();
    assert!(matches!(decoded, PhotoMsg::Decoded { .. }));
    photos.on_msg(decoded);
    let line = first_line(&mut photos);
    assert!(!line.contains("фото не показать"), "{line}");
}
