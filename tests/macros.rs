//! `mcu macros` and `mcu macro`: the console's macros from the command line, through the real
//! binary on a real SQLite file — listed with the center's own, run as one all-or-nothing
//! batch, refused with the step named and nothing changed.

mod common;

use common::cli_env::CliEnv;

/// The binary on a fresh file (`common::cli_env`), with this file's own helpers.
struct Env(CliEnv);

impl std::ops::Deref for Env {
    type Target = CliEnv;
    fn deref(&self) -> &CliEnv {
        &self.0
    }
}

impl Env {
    fn new(config: &str) -> Env {
        Env(CliEnv::new(config))
    }

    fn new_request(&self, text: &str) -> String {
        let made = self.json(&["new", "--text", text, "--topic", "roads"]);
        made[0]["number"].as_str().unwrap().to_string()
    }
}

const OWN: &str = "[[macros]]\nid = \"snow\"\ntitle = \"Снег: в работу\"\ntitle_en = \"Snow: in work\"\nkey = \"f10\"\ntopic = \"urban\"\nforward = true\nnote = \"Уборка снега\"\nreply = \"plan\"\n\n[[macros]]\nid = \"photo\"\nenabled = false\n";

#[test]
fn macros_lists_the_shipped_set_with_the_centers_own() {
    let env = Env::new(OWN);
    let table = env.ok(&["macros"]);
    for needle in [
        "accept     f5   Принято, в работу — ответ заявителю ::ack",
        "decline    f9   Не наша компетенция: отказ и закрыть — тема «Вне компетенции», ответ заявителю ::out, закрыть: вне компетенции",
        "gas",
        "spam",
        "snow       f10  Снег: в работу — тема «Благоустройство и городская среда», передать в департамент, ответ заявителю ::plan",
    ] {
        assert!(table.contains(needle), "{needle} in\n{table}");
    }
    assert!(!table.contains("photo "), "switched off:\n{table}");
    let all = env.json(&["macros"]);
    let all = all.as_array().unwrap();
    assert!(all.len() >= 10, "{all:?}");
    let uk = all.iter().find(|m| m["id"] == "uk").unwrap();
    assert_eq!(uk["forward"], true);
    assert_eq!(uk["reply"], "uk");
    assert_eq!(uk["steps"][0], "тема «ЖКХ»");
}

#[test]
fn macro_runs_every_step_at_once_through_the_ordinary_path() {
    let env = Env::new(OWN);
    let n = env.new_request("Во дворе не убран снег, не пройти");
    env.ok(&["macro", "snow", &n]);
    let shown = env.json(&["show", &n]);
    let r = &shown;
    assert_eq!(r["topic"], "urban", "{shown}");
    assert_eq!(r["department"], "city_economy");
    assert_eq!(r["status"], "waiting_department");
    assert_eq!(r["assignee"], "anna");
    let body = shown["messages"][0]["body"].as_str().unwrap();
    assert!(
        body.contains(&n) && body.contains("Департамент городского хозяйства"),
        "the reply names the department the macro forwarded to: {body}"
    );
    assert!(
        shown["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["body"] == "Уборка снега"),
        "{shown}"
    );
    // A reply and a close in one go.
    let n2 = env.new_request("Яма у подъезда");
    env.ok(&["macro", "decline", &n2]);
    let shown = env.json(&["show", &n2]);
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["closed_reason"], "out_of_scope");
    assert_eq!(shown["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn a_step_the_request_refuses_changes_nothing_and_is_named() {
    let env = Env::new(OWN);
    let n = env.new_request("Реклама: купите окна");
    env.ok(&["close", &n, "--reason", "spam"]);
    let before = env.ok(&["show", &n, "-o", "json"]);
    let e = env.refused(&["macro", "done", &n]);
    assert!(
        e.contains("«Работы выполнены: ответ и закрыть»")
            && e.contains("шаг «ответ заявителю»")
            && e.contains("ничего не изменено"),
        "{e}"
    );
    assert_eq!(env.ok(&["show", &n, "-o", "json"]), before);
    let e = env.refused(&["macro", "nope", &n]);
    assert!(
        e.contains("нет макроса `nope`") && e.contains("accept"),
        "{e}"
    );
    let e = env.refused(&["macro", "photo", &n]);
    assert!(e.contains("нет макроса `photo`"), "switched off: {e}");
}

#[test]
fn a_bad_macro_in_the_config_is_refused_by_name() {
    let env = Env::new("[[macros]]\nid = \"m1\"\ntitle = \"М\"\nclose = \"duplicate\"\n");
    let e = env.refused(&["macros"]);
    assert!(e.contains("macros `m1`") && e.contains("duplicate"), "{e}");
}
