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
}
