//! Triage's suggestions in the console: shown as suggestions, taken with one key, the
//! out-of-scope decline left to the operator.

use super::*;
use crate::triage::{Ranked, Suggestion};

fn suggestion(topic: &str, p: f64, department: Option<&str>) -> Suggestion {
    Suggestion {
        topic: topic.into(),
        probability: p,
        department: department.map(str::to_string),
        department_probability: p + 0.05,
        model_version: "abc123".into(),
        top: vec![
            Ranked {
                topic: topic.into(),
                probability: p,
            },
            Ranked {
                topic: "urban".into(),
                probability: 0.08,
            },
            Ranked {
                topic: "waste".into(),
                probability: 0.03,
            },
        ],
    }
}

/// The inbox with suggestions for its first two requests.
fn suggested(lang: Lang) -> App {
    let mut a = loaded(lang);
    a.rows[0].topic = None;
    a.rows[1].topic = None;
    let (first, second) = (a.rows[0].id, a.rows[1].id);
    a.suggested
        .insert(first, suggestion("utilities", 0.87, Some("city_economy")));
    a.suggested
        .insert(second, suggestion("roads", 0.64, Some("social")));
    a
}

#[test]
fn y_takes_the_topic_and_its_department() {
    let mut a = suggested(Lang::Ru);
    let cmds = update(&mut a, key('y'));
    assert_eq!(
        ops(&cmds),
        [Op::SetTopic {
            topic: Some("utilities".into()),
            department_follows: true,
        }]
    );
    // A department the history sends this topic elsewhere than the catalog: set as well.
    update(&mut a, key('j'));
    let cmds = update(&mut a, key('y'));
    assert_eq!(
        ops(&cmds),
        [
            Op::SetTopic {
                topic: Some("roads".into()),
                department_follows: true,
            },
            Op::SetDepartment {
                department: Some("social".into()),
            },
        ]
    );
    // The Russian layout's twin key does the same.
    let mut a = suggested(Lang::Ru);
    assert_eq!(ops(&update(&mut a, key('н'))).len(), 1);
}

#[test]
fn marked_requests_each_take_their_own_suggestion() {
    let mut a = suggested(Lang::Ru);
    update(&mut a, key(' '));
    update(&mut a, key(' '));
    update(&mut a, key(' '));
    let cmds = update(&mut a, key('y'));
    // The third has a topic and no suggestion: left alone.
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert!(a.marks.is_empty());
}

#[test]
fn an_out_of_scope_suggestion_opens_the_decline_and_closes_nothing() {
    let mut a = suggested(Lang::Ru);
    let id = a.rows[0].id;
    a.suggested
        .insert(id, suggestion("out_of_scope", 0.9, None));
    let cmds = update(&mut a, key('y'));
    assert_eq!(
        ops(&cmds),
        [Op::SetTopic {
            topic: Some("out_of_scope".into()),
            department_follows: true,
        }]
    );
    let Mode::Compose(c) = &a.mode else {
        panic!("the reply should be open");
    };
    let text = c.editor.lines().join("\n");
    let decline = crate::templates::replies()
        .into_iter()
        .find(|t| t.shortcut == "out")
        .unwrap()
        .text;
    assert_eq!(text, decline);
}

#[test]
fn the_topic_picker_lists_the_likeliest_first() {
    let mut a = suggested(Lang::Ru);
    update(&mut a, key('t'));
    let Mode::Picker(p) = &a.mode else {
        panic!("the topic picker should be open");
    };
    let ids: Vec<&str> = p.items.iter().take(3).map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["utilities", "urban", "waste"]);
    assert!(p.items[0].1.ends_with("87 %"), "{:?}", p.items[0]);
}

#[test]
fn suggestions_in_the_inbox_and_the_card_at_160x48() {
    let a = suggested(Lang::Ru);
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("≈ЖКХ 87"), "{s}");
    assert!(s.contains("Подсказка: ЖКХ 87 % · Благоустройство"), "{s}");
    insta::assert_snapshot!(s);
}
