//! The department's word from the command line (#21), through the real binary on a real file:
//! `mcu answer` marks the request for the operator to send on, `mcu return` gives it back as
//! not the department's, with who and why on `mcu show`, and a second return is refused.

mod common;

use common::cli_env::CliEnv;

fn forwarded(env: &CliEnv) -> String {
    let v = env.json(&[
        "new",
        "--text",
        "Стая собак у школы №5",
        "--topic",
        "animals",
    ]);
    let number = v[0]["number"].as_str().unwrap().to_owned();
    env.ok(&[
        "forward",
        &number,
        "--department",
        "city_economy",
        "--note",
        "Проверьте",
    ]);
    number
}

#[test]
fn a_returned_request_says_who_gave_it_back_and_why() {
    let env = CliEnv::new("");
    let number = forwarded(&env);
    let back = env.json(&["return", &number, "--reason", "Это ветслужба, не наше"]);
    assert_eq!(back[0]["status"], "in_work", "{back}");
    assert!(back[0]["department"].is_null(), "{back}");
    let shown = env.ok(&["show", &number]);
    assert!(
        shown.contains(
            "Возвращено: Департамент городского хозяйства и ТЭК (anna): Это ветслужба, не наше"
        ),
        "{shown}"
    );
    let refused = env.refused(&["return", &number, "--reason", "ещё раз"]);
    assert!(refused.contains("вернуть операторам"), "{refused}");
}

#[test]
fn a_department_s_answer_is_marked_until_it_is_sent_on() {
    let env = CliEnv::new("");
    let number = forwarded(&env);
    env.ok(&["answer", &number, "--text", "Отлов назначен на среду"]);
    let shown = env.ok(&["show", &number]);
    assert!(shown.contains("Ответ департамента получен"), "{shown}");
    env.ok(&["reply", &number, "--text", "Отлов назначен на среду"]);
    let shown = env.ok(&["show", &number]);
    assert!(!shown.contains("Ответ департамента получен"), "{shown}");
}

#[test]
fn a_department_s_own_report_counts_what_it_gave_back() {
    let env = CliEnv::new("");
    let number = forwarded(&env);
    env.ok(&["return", &number, "--reason", "не наше"]);
    let kept = forwarded(&env);
    env.ok(&["answer", &kept, "--text", "Сделано"]);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m-%d")
        .to_string();
    let out = env.ok(&["report", "--from", &today, "--department", "city_economy"]);
    let row = out
        .lines()
        .skip_while(|l| !l.contains("ответы в срок департамента"))
        .find(|l| l.contains("Департамент городского хозяйства и ТЭК"))
        .unwrap_or_else(|| panic!("the department's row:\n{out}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // Department, forwarded, in time, late, running, returned, closed unanswered, …
    assert_eq!(&cells[2..8], ["2", "1", "0", "0", "1", "0"], "{row}");
    let refused = env.refused(&["report", "--from", &today, "--department", "nope"]);
    assert!(refused.contains("city_economy"), "{refused}");
}
