//! Every action, pressed by its first default key on a loaded inbox, does what it says. The
//! match is exhaustive: a new action cannot be added without saying here what it does.

use crossterm::event::KeyEvent;

use super::super::app::{ComposeKind, Mode, PickerKind, View};
use super::super::keymap::Action;
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{loaded, ops};
use crate::domain::mutation::Op;
use crate::store::Sort;

fn first_key(a: &super::App, action: Action) -> KeyEvent {
    let name = a
        .keymap
        .keys_of(action)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{action:?} has a default key"));
    let combo: crokey::KeyCombination = name.parse().expect("a key name");
    let crokey::OneToThree::One(code) = combo.codes else {
        panic!("{name}: one key")
    };
    KeyEvent::new(code, combo.modifiers)
}

fn loads_page(cmds: &[Cmd]) -> bool {
    cmds.iter().any(|c| matches!(c, Cmd::LoadPage { .. }))
}

#[test]
fn every_action_does_what_it_says() {
    for action in Action::ALL {
        let mut a = loaded(Lang::Ru);
        let number = a.rows[0].number.to_string();
        let last = a.rows.len() - 1;
        if action == Action::Up || action == Action::PageUp {
            let k = first_key(&a, Action::Bottom);
            update(&mut a, Msg::Key(k));
        }
        let k = first_key(&a, action);
        let cmds = update(&mut a, Msg::Key(k));
        let picker =
            |a: &super::App, kind: PickerKind| matches!(&a.mode, Mode::Picker(p) if p.kind == kind);
        let compose = |a: &super::App, kind: ComposeKind| matches!(&a.mode, Mode::Compose(c) if c.kind == kind);
        let ok = match action {
            Action::Quit => a.quit,
            Action::Help => matches!(a.mode, Mode::Help),
            Action::Down => a.selected == 1,
            Action::Up | Action::PageUp => a.selected < last,
            Action::PageDown | Action::Bottom => a.selected == last,
            Action::Top => a.selected == 0,
            Action::Open => !a.show_detail,
            Action::Back => a.flash.is_none() && a.marks.is_empty(),
            Action::Claim => ops(&cmds) == [Op::Claim],
            Action::Release => ops(&cmds) == [Op::Release],
            Action::Reopen => ops(&cmds) == [Op::Reopen],
            Action::Topic => picker(&a, PickerKind::Topic),
            Action::Department => picker(&a, PickerKind::Department),
            Action::Priority => picker(&a, PickerKind::Priority),
            Action::Forward => picker(&a, PickerKind::Forward),
            Action::Close => picker(&a, PickerKind::CloseReason),
            Action::Tag => matches!(a.mode, Mode::Tags(_)),
            Action::DepartmentAnswer => compose(&a, ComposeKind::DepartmentAnswer),
            Action::Reply => compose(&a, ComposeKind::Reply),
            Action::Ask => compose(&a, ComposeKind::Ask),
            Action::Note => compose(&a, ComposeKind::Note),
            Action::LinkDuplicate => matches!(a.mode, Mode::LinkInput { .. }),
            Action::CopyNumber => cmds == [Cmd::Copy(number)],
            Action::Filter => matches!(a.mode, Mode::Filter { .. }),
            Action::Palette => matches!(a.mode, Mode::Palette { .. }),
            Action::Mark => a.marks.len() == 1 && a.selected == 1,
            Action::SortToggle => a.sort == Sort::Received && loads_page(&cmds),
            Action::ViewMine => a.view == View::Mine && loads_page(&cmds),
            Action::ViewNew => a.view == View::New && loads_page(&cmds),
            Action::ViewAtRisk => a.view == View::AtRisk && loads_page(&cmds),
            Action::ViewWaiting => a.view == View::Waiting && loads_page(&cmds),
            Action::ViewClosedToday => a.view == View::ClosedToday && loads_page(&cmds),
            Action::ViewAll => a.view == View::All && loads_page(&cmds),
            Action::Refresh => loads_page(&cmds) && cmds.contains(&Cmd::LoadAlarms),
            Action::DetailUp => a.detail_scroll == 3,
            Action::DetailDown => a.detail_scroll == 0,
            // No downloaded file on these requests: said so.
            Action::OpenAttachment => a.flash.as_ref().is_some_and(|f| f.error),
            Action::Alarms => matches!(a.mode, Mode::Alarms) && cmds == [Cmd::LoadAlarms],
            Action::Dashboard => a.dash.shown && cmds == [Cmd::LoadDashboard],
            Action::Export => {
                matches!(&cmds[..], [Cmd::ExportCsv { filter, english: false, .. }]
                if **filter == a.filter)
                    && a.flash.is_some()
            }
            Action::Alerts => matches!(a.mode, Mode::Alerts { selected: 0 }) && cmds.is_empty(),
            Action::Assign => picker(&a, PickerKind::Assign),
            // Nothing suggested for these requests: said so, nothing changed.
            Action::AcceptSuggestion => {
                cmds.is_empty() && a.flash.as_ref().is_some_and(|f| f.error)
            }
            // Shifts are the server's: a console working alone says so.
            Action::Shift => {
                cmds.is_empty()
                    && matches!(a.mode, Mode::Normal)
                    && a.flash.as_ref().is_some_and(|f| f.error)
            }
            Action::ViewUndelivered => {
                a.view == View::Undelivered && a.filter.undelivered && loads_page(&cmds)
            }
            // No undelivered reply on these requests: said so, nothing sent.
            Action::Resend | Action::Phoned | Action::Unreachable => {
                cmds.is_empty()
                    && matches!(a.mode, Mode::Normal)
                    && a.flash.as_ref().is_some_and(|f| f.error)
            }
            Action::Handover => {
                matches!(&a.mode, Mode::Handover(p) if p.data.is_none())
                    && cmds == [Cmd::LoadHandover { hours: 12.0 }]
            }
            Action::Incidents => {
                matches!(a.mode, Mode::Incidents { selected: 0 })
                    && matches!(&cmds[..], [Cmd::LoadIncidents(_)])
            }
            // Not in an incident: said so, nothing changed.
            Action::LeaveIncident => cmds.is_empty() && a.flash.as_ref().is_some_and(|f| f.error),
            // The card is not read yet (or the citizen has no other request): said so.
            Action::CitizenRequests => cmds.is_empty() && a.flash.is_some(),
            // The card is not read yet, or the citizen wrote nothing more: said so.
            Action::Split => cmds.is_empty() && a.flash.is_some(),
            Action::Views => matches!(a.mode, Mode::Views(_)) && cmds.is_empty(),
            Action::SaveView => matches!(a.mode, Mode::SaveView { .. }) && cmds.is_empty(),
            // Nothing saved yet: said so, the list unchanged.
            Action::View8 | Action::View9 => {
                cmds.is_empty() && a.flash.as_ref().is_some_and(|f| f.error)
            }
        };
        assert!(ok, "{action:?}: {cmds:?}");
    }
}

#[test]
fn esc_drops_the_marks_and_the_message() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, super::key(' '));
    update(&mut a, super::key(' '));
    assert_eq!(a.marks.len(), 2);
    update(&mut a, super::code(crossterm::event::KeyCode::Esc));
    assert!(a.marks.is_empty());
}

#[tokio::test]
async fn the_list_exports_to_a_csv_file_one_row_per_request() {
    use super::now;
    use crate::domain::Channel;
    use crate::domain::mutation::{Mutation, NewRequest, Op};
    use crate::store::Filter;
    use uuid::Uuid;
    let (dir, store) = super::temp_store().await;
    for text in ["Яма, \"глубокая\", у школы", "Нет воды"] {
        let new = NewRequest::new(Channel::Vk, text, now());
        let m = Mutation::new(Uuid::now_v7(), "anna", now(), Op::Create(Box::new(new)));
        store.apply(m).await.unwrap();
    }
    let (n, path) =
        super::super::export_csv(&store, Filter::default(), Sort::Received, false, dir.path())
            .await
            .unwrap();
    assert_eq!(n, 2);
    assert!(path.ends_with(".csv"), "{path}");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&r.headers().unwrap()[0], "Номер");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .any(|x| x.iter().any(|f| f == "Яма, \"глубокая\", у школы")),
        "{text}"
    );
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// #16 item 7: the console's export goes through the same cleaning as every other CSV, so an
/// address that starts with spaces before its formula is defused too.
#[tokio::test]
async fn the_console_export_cleans_escapes_and_defuses_formulas() {
    use super::now;
    use crate::domain::Channel;
    use crate::domain::mutation::{Mutation, NewRequest, Op};
    use crate::domain::request::Location;
    use crate::store::Filter;
    use uuid::Uuid;
    let (dir, store) = super::temp_store().await;
    let hostile = "=HYPERLINK(\"http://x\") \x1b]52;c;aGk=\x07 \x1b[2J \u{202e}evil \u{9b}31m";
    let mut new = NewRequest::new(Channel::Vk, hostile, now());
    new.location = Some(Location {
        lat: None,
        lon: None,
        address: Some(format!("  {hostile}")),
    });
    let m = Mutation::new(Uuid::now_v7(), "anna", now(), Op::Create(Box::new(new)));
    store.apply(m).await.unwrap();
    let (_, path) =
        super::super::export_csv(&store, Filter::default(), Sort::Received, true, dir.path())
            .await
            .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let row = r.records().next().unwrap().unwrap();
    for cell in row.iter() {
        assert!(!cell.chars().any(char::is_control), "{cell:?}");
        assert!(!cell.contains('\u{202e}'), "{cell:?}");
        assert!(
            !cell.trim_start().starts_with(['=', '+', '-', '@']),
            "{cell:?}"
        );
    }
    assert!(row[10].starts_with("'=HYPERLINK"), "text: {:?}", &row[10]);
    assert!(row[9].starts_with("'"), "address: {:?}", &row[9]);
}
