//! Open311 on a real `mcu serve`, what an outside client can't check: which key opens which
//! route, the rate and size limits per key, hostile input, well-formed XML in the spec's
//! order, public reads without personal data, and copies of one submission racing.

mod common;
#[path = "open311/harness.rs"]
mod harness;

use mcu_desk::testkit::contract::{Client, operator};
use serde_json::Value;

use harness::{Env, error_code, get, http, post_form, push};

/// A minimal well-formedness check (no XML crate in the tree): one root, tags balanced and
/// properly nested, no raw `<` or stray `&` in text.
fn well_formed(xml: &str) -> Result<String, String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .ok_or("no XML declaration")?;
    let mut stack: Vec<&str> = vec![];
    let mut root = None;
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unclosed tag")?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            let (closing, name) = match tag.strip_prefix('/') {
                Some(n) => (true, n),
                None => (false, tag.strip_suffix('/').unwrap_or(tag)),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad tag <{tag}>"));
            }
            if stack.is_empty() && root.is_some() {
                return Err("a second root".into());
            }
            if closing {
                if stack.pop() != Some(name) {
                    return Err(format!("</{name}> closes nothing open"));
                }
            } else {
                root.get_or_insert(name.to_owned());
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            if stack.is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            for (i, _) in text.match_indices('&') {
                let ent = &text[i..];
                if !["&lt;", "&gt;", "&amp;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| ent.starts_with(e))
                {
                    return Err(format!("a stray & in {text:?}"));
                }
            }
            if text
                .chars()
                .any(|c| c.is_control() && !"\n\r\t".contains(c))
            {
                return Err(format!("a control character in {text:?}"));
            }
            rest = &rest[end..];
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    root.ok_or_else(|| "empty document".into())
}

#[tokio::test]
async fn keys_limits_hostile_input_and_xml() {
    let env = Env::new("rate_per_minute = 8\nmax_body_bytes = 2048");
    let key = env.add_user("portal", "integration");
    let other = env.add_user("app", "integration");
    let anna = env.add_user("anna", "operator");
    let server = env.serve().await;
    let requests = server.url("/open311/v2/requests.json");

    // The integration key opens no console route; an operator's token opens no Open311 one.
    let console = Client::new(operator("portal"));
    let (status, body) = push(&server, &key, &console.push_req(vec![])).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _, body) = get(&format!("{requests}?api_key={anna}")).await;
    assert_eq!((status, error_code(&body)), (403, 403), "{body}");

    // A body over the limit: 413 in the spec's shape, before the key is even looked at.
    let huge = "я".repeat(4000);
    let (status, _, body) = post_form(
        &requests,
        &[
            ("api_key", &key),
            ("service_code", "roads"),
            ("description", &huge),
        ],
    )
    .await;
    assert_eq!((status, error_code(&body)), (413, 413), "{body}");

    // Hostile text: escape sequences and bidi overrides are stripped, invalid UTF-8 in a
    // percent-escape is replaced, markup is escaped in XML. Nothing crashes.
    let resp = http()
        .post(server.url("/open311/v2/requests.xml"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "api_key={key}&service_code=roads&address_string=%FF%FE%1B%5B2J&description=\
             %3Cscript%3E%1B%5D0%3Bpwned%07%E2%80%AE%26amp"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let xml = resp.text().await.unwrap();
    assert_eq!(well_formed(&xml), Ok("service_requests".into()), "{xml}");
    let number = xml
        .split("<service_request_id>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let (status, _, xml) =
        get(&server.url(&format!("/open311/v2/requests/{number}.xml?api_key={key}"))).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(well_formed(&xml), Ok("service_requests".into()), "{xml}");
    assert!(
        xml.contains("<description>&lt;script&gt;]0;pwned&amp;amp</description>"),
        "{xml}"
    );
    // In the spec's field order.
    let head = format!(
        "<service_requests><request><service_request_id>{number}</service_request_id>\
         <status>open</status><status_notes/><service_name>Дороги</service_name>\
         <service_code>roads</service_code><description>"
    );
    assert!(xml.contains(&head), "{xml}");
    assert!(
        !xml.contains('\u{1b}') && !xml.contains('\u{202e}'),
        "{xml}"
    );

    // XML for every kind of answer, errors included.
    for (path, root) in [
        ("/open311/v2/discovery.xml", "discovery"),
        ("/open311/v2/services.xml", "services"),
        ("/open311/v2/services/roads.xml", "service_definition"),
        ("/open311/v2/services/nope.xml", "errors"),
        ("/open311/v2/requests.xml", "errors"),
    ] {
        let (_, headers, xml) = get(&server.url(path)).await;
        assert_eq!(headers["content-type"], "text/xml; charset=utf-8", "{path}");
        assert_eq!(well_formed(&xml), Ok(root.into()), "{path}: {xml}");
    }

    // Unknown routes and formats, wrong methods: Open311 errors with the right statuses.
    for (path, code) in [
        ("/open311/v2/requests.html", 404),
        ("/open311/v2/nothing.json", 404),
        ("/open311/v2/a/b/c.json", 404),
        ("/open311/v1/services.json", 404),
    ] {
        let (status, _, body) = get(&server.url(path)).await;
        assert_eq!(
            (status, error_code(&body)),
            (code, i64::from(code)),
            "{path}: {body}"
        );
    }
    let resp = http()
        .delete(server.url("/open311/v2/services.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);

    // The rate limit is per key: `portal` has used 2 of its 8 a minute (the 413 and the
    // operator's call counted none), so 6 more pass (7 if the bucket refilled one meanwhile:
    // one every 7.5 s) and then 429 with Retry-After; `app` is untouched.
    let with_key = format!("{requests}?api_key={key}");
    let mut passed = 0;
    let (headers, body) = loop {
        let (status, headers, body) = get(&with_key).await;
        match status {
            200 => passed += 1,
            429 => break (headers, body),
            other => panic!("{other}: {body}"),
        }
        assert!(passed <= 7, "no 429 after {passed} calls");
    };
    assert!(passed >= 6, "429 after only {passed} calls: {body}");
    assert_eq!(error_code(&body), 429, "{body}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=8).contains(&wait), "Retry-After {wait}");
    let (status, _, body) = get(&format!("{requests}?api_key={other}")).await;
    assert_eq!(status, 200, "{body}");

    // `/metrics` counts answers per key and status, and submissions per key.
    let (_, _, text) = get(&server.url("/metrics")).await;
    for line in [
        "mcu_open311_requests_total{key=\"portal\",status=\"429\"} 1",
        "mcu_open311_requests_total{key=\"-\",status=\"413\"} 1",
        "mcu_open311_requests_total{key=\"-\",status=\"403\"} 1",
        "mcu_open311_requests_total{key=\"app\",status=\"200\"} 1",
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }

    // The request log names the paths but never the keys that came in their queries.
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("/open311/v2/requests.json"), "{log}");
    assert!(
        !log.contains(&key) && !log.contains(&anna),
        "a key in the log:\n{log}"
    );
}

#[tokio::test]
async fn public_reads_show_no_personal_data() {
    let env = Env::new("public_reads = true");
    let key = env.add_user("portal", "integration");
    let server = env.serve().await;
    let (status, _, body) = post_form(
        &server.url("/open311/v2/requests.json"),
        &[
            ("api_key", &key),
            ("service_code", "waste"),
            ("address_string", "ул. Северная, 310"),
            ("description", "Иван Петров, кв. 5: мусор не вывозят"),
            ("media_url", "https://portal.example/2.jpg"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let number = serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Without a key: the record, but not the citizen's words or photo.
    let (status, _, body) = get(&server.url(&format!("/open311/v2/requests/{number}.json"))).await;
    assert_eq!(status, 200, "{body}");
    let r = &serde_json::from_str::<Value>(&body).unwrap()[0];
    assert_eq!(r["address"], "ул. Северная, 310");
    assert!(
        r["description"].is_null() && r["media_url"].is_null(),
        "{r}"
    );
    // Filing still needs the key.
    let (status, _, body) = post_form(
        &server.url("/open311/v2/requests.json"),
        &[
            ("service_code", "waste"),
            ("address_string", "x"),
            ("description", "y"),
        ],
    )
    .await;
    assert_eq!((status, error_code(&body)), (401, 401), "{body}");
    // With the key: everything.
    let (_, _, body) =
        get(&server.url(&format!("/open311/v2/requests/{number}.json?api_key={key}"))).await;
    let r = &serde_json::from_str::<Value>(&body).unwrap()[0];
    assert_eq!(r["description"], "Иван Петров, кв. 5: мусор не вывозят");
    assert_eq!(r["media_url"], "https://portal.example/2.jpg");
}

/// Copies of one submission at once (a portal's retries racing its first try): one request.
async fn copies_at_once(env: Env) {
    let key = env.add_user("portal", "integration");
    let server = env.serve().await;
    let url = server.url("/open311/v2/requests.json");
    let posts: Vec<_> = (0..8)
        .map(|_| {
            let (url, key) = (url.clone(), key.clone());
            tokio::spawn(async move {
                let resp = http()
                    .post(&url)
                    .header("Idempotency-Key", "form-7")
                    .form(&[
                        ("api_key", key.as_str()),
                        ("service_code", "roads"),
                        ("address_string", "ул. Красная, 1"),
                        ("description", "Яма"),
                    ])
                    .send()
                    .await
                    .unwrap();
                (resp.status().as_u16(), resp.text().await.unwrap())
            })
        })
        .collect();
    let mut numbers = std::collections::BTreeSet::new();
    for p in posts {
        let (status, body) = p.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        numbers.insert(v[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    let (_, _, text) = get(&server.url("/metrics")).await;
    for line in [
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 1",
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"retry\"} 7",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_at_once_make_one_request_on_sqlite() {
    copies_at_once(Env::new("")).await;
}

#[test]
fn copies_at_once_make_one_request_on_postgres() {
    let env = Env::postgres("");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(copies_at_once(env));
}

/// #16 item 9: a key reads only what its account filed (unless in `read_all`); a key given
/// again with another report is 422, not the first report's number; a key-less caller uses
/// its own address's budget, and guessing keys costs it too.
#[tokio::test]
async fn keys_read_their_own_and_anonymous_callers_have_their_own_budget() {
    let env = Env::new("rate_per_minute = 5\npublic_reads = true\nread_all = [\"city\"]");
    let portal = env.add_user("portal", "integration");
    let app = env.add_user("app", "integration");
    let city = env.add_user("city", "integration");
    let server = env.serve().await;
    let requests = server.url("/open311/v2/requests.json");
    let file = |description: &'static str| {
        http()
            .post(&requests)
            .header("Idempotency-Key", "k1")
            .form(&[
                ("api_key", portal.as_str()),
                ("service_code", "roads"),
                ("address_string", "ул. Красная, 1"),
                ("description", description),
            ])
            .send()
    };
    let first: Value = file("Яма у дома").await.unwrap().json().await.unwrap();
    let number = first[0]["service_request_id"].as_str().unwrap().to_owned();
    let again = file("Яма у дома").await.unwrap();
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again[0]["service_request_id"], number.as_str());
    let other = file("Не горит фонарь").await.unwrap();
    assert_eq!(other.status().as_u16(), 422);

    let one = |key: &str| server.url(&format!("/open311/v2/requests/{number}.json?api_key={key}"));
    assert_eq!(get(&one(&portal)).await.0, 200);
    assert_eq!(get(&one(&app)).await.0, 404, "another portal's filing");
    assert_eq!(get(&one(&city)).await.0, 200, "a key in read_all");
    let (_, _, body) = get(&format!("{requests}?api_key={app}")).await;
    assert_eq!(body, "[]");

    // Two key-less callers from two addresses: one's burst leaves the other's budget alone.
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let services = server.url("/open311/v2/services.json");
    let (a, b) = (from([127, 0, 0, 2]), from([127, 0, 0, 3]));
    let mut statuses = vec![];
    for _ in 0..6 {
        statuses.push(a.get(&services).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(
        b.get(&services).send().await.unwrap().status().as_u16(),
        200
    );
    // Guessing keys: 401 until that address's budget is gone, then 429.
    let guess = from([127, 0, 0, 4]);
    let mut statuses = vec![];
    for _ in 0..6 {
        let url = format!("{requests}?api_key=mcu_guess");
        statuses.push(guess.get(&url).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses[0], 401);
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}
