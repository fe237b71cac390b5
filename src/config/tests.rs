//! The config loader's tests: defaults, broken files named by line and key, environment overrides.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn empty_file_gives_defaults() {
    let c = Config::parse("x.toml", "", &[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.clocks.first_response_hours, 4.0);
    assert_eq!(c.calendar.timezone, "Europe/Moscow");
}

#[test]
fn the_platform_channel_is_off_until_it_has_a_url_and_a_bad_one_is_refused() {
    let c = Config::parse("c.toml", "", &[]).unwrap();
    assert!(c.channels.platform.client().is_none());
    let c = Config::parse(
        "c.toml",
        "[channels.platform]\nurl = \"https://pos.example/open311/v2\"\npublish = \"updates\"\n",
        &env(&[("MCU_CHANNELS_PLATFORM_API_KEY", "k")]),
    )
    .unwrap();
    assert_eq!(c.channels.platform.api_key, "k");
    assert!(matches!(c.channels.platform.client(), Some(Ok(_))));
    let e = Config::parse(
        "c.toml",
        "[channels.platform]\nurl = \"pos.example\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("channels.platform.url"), "{e}");
    let e = Config::parse("c.toml", "[channels.platform]\npublish = \"email\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("publish"), "{e}");
    // The platform's categories map to catalog topics; one that is no topic is named.
    let c = Config::parse(
        "c.toml",
        "[channels.platform.topics]\n\"Дороги и тротуары\" = \"roads\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.channels.platform.topics["Дороги и тротуары"], "roads");
    let e = Config::parse(
        "c.toml",
        "[channels.platform.topics]\n\"Дороги\" = \"potholes\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("channels.platform.topics") && e.contains("potholes"),
        "{e}"
    );
}

#[test]
fn departments_are_reached_by_their_catalog_ids() {
    let c = Config::parse(
        "c.toml",
        "[departments.city_economy]\ntelegram_chat_id = -1001000000002\n",
        &[],
    )
    .unwrap();
    let chats = crate::config::departments::telegram_chats(&c.departments.each);
    assert_eq!(chats["city_economy"], "-1001000000002");
    let e = Config::parse(
        "c.toml",
        "[departments.water]\ntelegram_chat_id = -100\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("departments.water") && e.contains("city_economy"),
        "names the typo and what there is: {e}"
    );
}

#[test]
fn a_department_mailed_needs_a_plausible_address_and_the_smtp_server() {
    let ok = "[departments.city_economy]\nemail = \"Dispatch@Economy.City.Example\"\n\
              [smtp]\nhost = \"mail.city.example\"\nfrom = \"mcu@city.example\"\n";
    let c = Config::parse("c.toml", ok, &[]).unwrap();
    let mailed = crate::config::departments::email_addresses(&c.departments.each);
    assert_eq!(mailed["city_economy"], "dispatch@economy.city.example");
    assert_eq!(c.smtp.port, 587);
    let e = Config::parse(
        "c.toml",
        &ok.replace("Dispatch@Economy.City.Example", "dispatch economy"),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("departments.city_economy.email"), "{e}");
    let e = Config::parse("c.toml", &ok.replace("mail.city.example", ""), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("smtp.host"), "{e}");
    let e = Config::parse("c.toml", &ok.replace("mcu@city.example", "mcu"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("smtp.from"), "{e}");
    let e = Config::parse("c.toml", &format!("{ok}security = \"ssl\"\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("security"), "{e}");
}

#[test]
fn the_smtp_password_comes_from_a_file_when_no_variable_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smtp-password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let smtp = crate::config::smtp::SmtpConfig {
        password_env: "MCU_TEST_SMTP_PASSWORD_UNSET".into(),
        password_file: file.display().to_string(),
        ..Default::default()
    };
    assert_eq!(smtp.password().unwrap().as_deref(), Some("s3cret"));
    let missing = crate::config::smtp::SmtpConfig {
        password_file: dir.path().join("none").display().to_string(),
        ..smtp
    };
    assert!(
        missing
            .password()
            .unwrap_err()
            .contains("smtp.password_file")
    );
}

#[test]
fn example_config_parses_to_the_defaults() {
    let text = include_str!("../../config.example.toml");
    let c = Config::parse("config.example.toml", text, &[]).expect("example config is valid");
    assert_eq!(c.clocks, ClocksConfig::default());
    assert_eq!(c.ui, UiConfig::default());
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let text = "[clocks]\nfirst_response_hours = 4\nfirst_responce_hours = 5\n";
    let e = Config::parse("/etc/mcu.toml", text, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("/etc/mcu.toml"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("first_responce_hours"), "{e}");
}

#[test]
fn wrong_type_and_syntax_errors_name_the_line() {
    let e = Config::parse("c.toml", "[clocks]\nat_risk_ratio = \"high\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("at_risk_ratio"), "{e}");
    let e = Config::parse("c.toml", "[operator\nname = 1\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn out_of_range_values_are_refused() {
    let e = Config::parse("c.toml", "[clocks]\nat_risk_ratio = 1.5\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("at_risk_ratio"), "{e}");
    let e = Config::parse("c.toml", "[calendar]\ntimezone = \"Mars/Olympus\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("Mars/Olympus"), "{e}");
}

#[test]
fn own_templates_and_theme_are_read_and_checked() {
    let text = "[ui]\ntheme = \"light\"\n[[templates]]\nshortcut = \"gas\"\ntitle = \"Газ\"\ntext = \"Звоните 04\"\n";
    let c = Config::parse("c.toml", text, &[]).unwrap();
    assert_eq!(c.ui.theme, crate::tui::theme::ThemeName::Light);
    assert_eq!(c.templates[0].shortcut, "gas");
    let e = Config::parse(
        "c.toml",
        "[[templates]]\nshortcut = \"a b\"\ntext = \"x\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("one word"), "{e}");
    let twice = "[[templates]]\nshortcut = \"a\"\ntext = \"x\"\n".repeat(2);
    let e = Config::parse("c.toml", &twice, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice"), "{e}");
    let e = Config::parse("c.toml", "[ui]\ntheme = \"pink\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") || e.contains("theme"), "{e}");
}

#[test]
fn own_macros_are_read_and_checked_by_name() {
    // A center's own macro using its own ready reply, and a shipped one given another key.
    let text = "[[templates]]\nshortcut = \"snow\"\ntext = \"Заявка {number}: снег уберут\"\n\
                [[macros]]\nid = \"snow\"\ntitle = \"Снег: в работу\"\nkey = \"f10\"\n\
                topic = \"urban\"\nforward = true\nreply = \"snow\"\n\
                [[macros]]\nid = \"accept\"\ntitle = \"Принято\"\nkey = \"f12\"\nreply = \"ack\"\n";
    let c = Config::parse("c.toml", text, &[]).unwrap();
    assert_eq!(c.macros.len(), 2);
    assert!(c.macros[0].forward);
    let bad = |body: &str| {
        Config::parse(
            "/etc/mcu.toml",
            &format!("[[macros]]\nid = \"m1\"\ntitle = \"М\"\n{body}"),
            &[],
        )
        .unwrap_err()
        .to_string()
    };
    for (body, needles) in [
        ("reply = \"nope\"\n", &["macros `m1`", "nope"][..]),
        ("topic = \"potholes\"\n", &["macros `m1`", "potholes"]),
        (
            "department = \"zoo\"\nforward = true\n",
            &["macros `m1`", "zoo"],
        ),
        ("close = \"fixed\"\n", &["macros `m1`", "fixed"]),
        (
            "close = \"spam\"\nkey = \"f5\"\n",
            &["macros `m1`", "f5", "accept"],
        ),
        (
            "close = \"spam\"\nkey = \"x\"\n",
            &["macros `m1`", "`close`"],
        ),
    ] {
        let e = bad(body);
        assert!(e.contains("/etc/mcu.toml"), "{e}");
        for n in needles {
            assert!(e.contains(n), "`{n}` in {e}");
        }
    }
    // Misspelt step names are named with their line.
    let e = bad("closes = \"spam\"\n");
    assert!(e.contains("line 4") && e.contains("closes"), "{e}");
    // [keys] moving an action onto a shipped macro's key names the macro.
    let e = Config::parse("c.toml", "[keys]\nrefresh = [\"f6\"]\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("macros `forward`") && e.contains("f6"), "{e}");
}

#[test]
fn environment_overrides_the_file() {
    let text = "[operator]\nname = \"anna\"\n[clocks]\nfirst_response_hours = 4\n";
    let c = Config::parse(
        "c.toml",
        text,
        &env(&[
            ("MCU_OPERATOR_NAME", "boris"),
            ("MCU_CLOCKS_FIRST_RESPONSE_HOURS", "2.5"),
            ("MCU_UI_LANGUAGE", "en"),
        ]),
    )
    .unwrap();
    assert_eq!(c.operator(), "boris");
    assert_eq!(c.clocks.first_response_hours, 2.5);
    assert_eq!(c.ui.language, "en");
    let c = Config::parse(
        "c.toml",
        "",
        &env(&[("MCU_CHANNELS_TELEGRAM_TOKEN", "1:x")]),
    )
    .unwrap();
    assert_eq!(c.channels.telegram.token, "1:x");
    let e = Config::parse("c.toml", "", &env(&[("MCU_CLOCKS_AT_RISK_RATIO", "lots")])).unwrap_err();
    assert!(e.to_string().contains("MCU_CLOCKS_AT_RISK_RATIO"), "{e}");
}

#[test]
fn vk_section_token_from_the_environment_and_group_checked() {
    let c = Config::parse(
        "c.toml",
        "[channels.vk]\ngroup_id = 5\n",
        &env(&[("MCU_CHANNELS_VK_TOKEN", "vk1.a.x")]),
    )
    .unwrap();
    assert_eq!(c.channels.vk.token().as_deref(), Some("vk1.a.x"));
    assert_eq!(c.channels.vk.api_url, "https://api.vk.com/method");
    let c = Config::parse(
        "c.toml",
        "[channels.vk]\ntoken_env = \"MCU_TEST_SURELY_UNSET_VK\"\ngroup_id = 5\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.channels.vk.token(), None);
    let e = Config::parse("c.toml", "[channels.vk]\ntoken = \"t\"\n", &[]).unwrap_err();
    assert!(e.to_string().contains("group_id"), "{e}");
}

#[test]
fn channel_targets_are_checked_and_reach_the_policy() {
    let text = "[clocks.channels]\nvk = 2\ntelegram = 1.5\n";
    let c = Config::parse("c.toml", text, &[]).expect("valid");
    let p = c.policy().unwrap();
    assert_eq!(
        p.channel_first_response.get(&crate::domain::Channel::Vk),
        Some(&chrono::Duration::hours(2))
    );
    let e = Config::parse("c.toml", "[clocks.channels]\nfax = 2\n", &[]).unwrap_err();
    assert!(e.to_string().contains("fax"), "{e}");
    let e = Config::parse("c.toml", "[clocks.channels]\nvk = -1\n", &[]).unwrap_err();
    assert!(e.to_string().contains("clocks.channels.vk"), "{e}");
}

/// #16 item 10: a server address that is no address is the config's fault, named by its key
/// and line, not "server unreachable" at the first sync.
#[test]
fn a_server_url_that_is_no_url_is_a_config_error_on_its_line() {
    for bad in ["not a url", "ftp://10.0.0.5/", "http://", "10.0.0.5:8080"] {
        let text = format!("[operator]\nname = \"anna\"\n[server]\nurl = \"{bad}\"\n");
        let e = Config::parse("c.toml", &text, &[]).unwrap_err().to_string();
        assert!(e.contains("server.url"), "{bad}: {e}");
        assert!(e.contains("line 4"), "{bad}: {e}");
    }
    let e = Config::parse("c.toml", "", &env(&[("MCU_SERVER_URL", "not a url")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.url"), "{e}");
    for good in [
        "",
        "  ",
        "http://10.0.0.5:8080",
        "https://mcu.example/",
        " http://h:1 ",
    ] {
        let text = format!("[server]\nurl = \"{good}\"\n");
        let c = Config::parse("c.toml", &text, &[]).unwrap();
        assert_eq!(c.server.url, good);
    }
}

/// #16 item 10: a clock longer than a year (`1e9` hours) made `mcu new` hang walking a
/// working-hours calendar; every clock target is bounded where it is read.
#[test]
fn clock_targets_longer_than_a_year_are_refused() {
    for key in [
        "first_response_hours",
        "department_answer_hours",
        "resolution_hours",
    ] {
        let text = format!("[calendar]\nmode = \"working_hours\"\n[clocks]\n{key} = 1e9\n");
        let e = Config::parse("c.toml", &text, &[]).unwrap_err().to_string();
        assert!(
            e.contains(&format!("clocks.{key}")) && e.contains("8760"),
            "{e}"
        );
        let year = format!("[clocks]\n{key} = 8760\n");
        Config::parse("c.toml", &year, &[]).expect("a year is a target");
    }
    let e = Config::parse("c.toml", "[clocks.channels]\nvk = 8761\n", &[]).unwrap_err();
    assert!(e.to_string().contains("clocks.channels.vk"), "{e}");
    let e = Config::parse(
        "c.toml",
        "",
        &env(&[("MCU_CLOCKS_RESOLUTION_HOURS", "1e9")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("clocks.resolution_hours"), "{e}");
}

#[test]
fn triage_and_incident_settings_are_checked_by_name() {
    for (text, key) in [
        (
            "[triage]\nauto_apply_above = 2.0\n",
            "triage.auto_apply_above",
        ),
        ("[triage]\nretrain_every = 0\n", "triage.retrain_every"),
        ("[incidents]\nradius_m = -1.0\n", "incidents.radius_m"),
        ("[incidents]\nmin_citizens = 1\n", "incidents.min_citizens"),
        (
            "[incidents]\nmin_similarity = 1.5\n",
            "incidents.min_similarity",
        ),
    ] {
        let e = Config::parse("c.toml", text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
    let c = Config::parse(
        "c.toml",
        "[triage]\nauto_apply_above = 0.9\n[incidents]\nradius_m = 150.0\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.triage.auto_apply_above, Some(0.9));
    assert_eq!(c.incidents.radius_m, 150.0);
}

#[test]
fn waiting_for_the_citizen_is_configured_under_clocks_or_sla_and_checked() {
    let c = Config::parse(
        "c.toml",
        "[sla]\nwaiting_reminder_hours = 12.0\nwaiting_close_days = 2.0\n",
        &[],
    )
    .unwrap();
    let p = c.policy().unwrap();
    assert_eq!(p.waiting_reminder, chrono::Duration::hours(12));
    assert_eq!(p.waiting_close, chrono::Duration::days(2));
    // A reminder after the close would never go.
    let e = Config::parse(
        "c.toml",
        "[clocks]\nwaiting_reminder_hours = 72.0\nwaiting_close_days = 3.0\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("waiting_reminder_hours"), "{e}");
    let e = Config::parse("c.toml", "[clocks]\nwaiting_close_days = -1\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("waiting_close_days"), "{e}");
}

#[test]
fn the_feedback_question_waits_after_minutes_and_is_checked() {
    let c = Config::parse("c.toml", "", &[]).unwrap();
    assert_eq!(c.feedback.after(), Some(std::time::Duration::from_secs(60)));
    let c = Config::parse("c.toml", "[feedback]\nafter_minutes = 0.5\n", &[]).unwrap();
    assert_eq!(c.feedback.after(), Some(std::time::Duration::from_secs(30)));
    let off = Config::parse("c.toml", "[feedback]\nask = false\n", &[]).unwrap();
    assert_eq!(off.feedback.after(), None);
    for bad in ["-1", "721", "nan"] {
        let e = Config::parse(
            "c.toml",
            &format!("[feedback]\nafter_minutes = {bad}\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("feedback.after_minutes"), "{bad}: {e}");
    }
}

#[test]
fn departments_take_show_citizen_beside_their_contacts() {
    let c = Config::parse(
        "c.toml",
        "[departments]\nshow_citizen = true\n[departments.city_economy]\ntelegram_chat_id = -100\n",
        &[],
    )
    .unwrap();
    assert!(c.departments.show_citizen);
    assert_eq!(c.departments.each.len(), 1);
    assert!(
        !Config::parse("c.toml", "", &[])
            .unwrap()
            .departments
            .show_citizen
    );
    // A value that is neither the switch nor a department's table is named.
    let e = Config::parse("c.toml", "[departments]\nshow_citizn = true\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("departments"), "{e}");
}
