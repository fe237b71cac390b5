//! `POST requests`: the spec's form fields checked and turned into a `NewRequest` for the
//! same `apply` every other channel goes through. Citizen text is untrusted: control
//! characters and bidi overrides are removed, every field has a length limit, and anything
//! malformed is a 400 that names the field, never a panic.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::format::O311Error;
use crate::domain::request::{Attachment, AttachmentState, Location};
use crate::domain::{Catalog, Channel, NewRequest};

/// The JSON schema's limit on `description`.
pub const MAX_DESCRIPTION: usize = 4000;
const MAX_FIELD: usize = 200;
const MAX_URL: usize = 2000;
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_VALUE: usize = 500;
/// A retry of the same body from the same key within this window is the same submission.
pub const RETRY_WINDOW_SECS: i64 = 600;

/// A checked submission: the request to create, and the external ids under which an earlier
/// copy of it would be stored (the first is the one to store this one under).
#[derive(Debug)]
pub struct Submission {
    pub new: NewRequest,
    pub external_ids: Vec<String>,
}

/// The single value of a field; a field given twice is refused rather than guessed at.
fn one<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, O311Error> {
    let mut found = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    let first = found.next();
    if found.next().is_some() {
        return Err(O311Error::bad(format!("поле {name} указано дважды")));
    }
    Ok(first.map(|s| s.trim()).filter(|s| !s.is_empty()))
}

/// A one-line field, cleaned and limited.
fn short(params: &[(String, String)], name: &str) -> Result<Option<String>, O311Error> {
    let Some(v) = one(params, name)? else {
        return Ok(None);
    };
    let v = crate::sanitize::line(v).trim().to_string();
    if v.chars().count() > MAX_FIELD {
        return Err(O311Error::bad(format!(
            "поле {name} длиннее {MAX_FIELD} символов"
        )));
    }
    Ok((!v.is_empty()).then_some(v))
}

fn coordinate(
    params: &[(String, String)],
    name: &str,
    limit: f64,
) -> Result<Option<f64>, O311Error> {
    let Some(v) = one(params, name)? else {
        return Ok(None);
    };
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x.abs() <= limit => Ok(Some(x)),
        _ => Err(O311Error::bad(format!(
            "{name}: ожидается число от -{limit} до {limit} (WGS84)"
        ))),
    }
}

pub fn parse(
    params: &[(String, String)],
    catalog: &Catalog,
    account: &str,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Submission, O311Error> {
    let code =
        one(params, "service_code")?.ok_or_else(|| O311Error::bad("не указан service_code"))?;
    if !super::services::offered(catalog, code) {
        return Err(O311Error::bad(format!(
            "service_code {}: нет такой услуги (список: services.json)",
            crate::sanitize::line(code)
                .chars()
                .take(64)
                .collect::<String>()
        )));
    }
    let lat = coordinate(params, "lat", 90.0)?;
    let lon = coordinate(params, "long", 180.0)?;
    if lat.is_some() != lon.is_some() {
        return Err(O311Error::bad("lat и long указываются вместе"));
    }
    let address = short(params, "address_string")?;
    let address_id = short(params, "address_id")?;
    if lat.is_none() && address.is_none() && address_id.is_none() {
        return Err(O311Error::bad(
            "укажите место: lat и long, address_string или address_id",
        ));
    }
    let description = one(params, "description")?
        .map(|d| crate::sanitize::text(d).trim().to_string())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| O311Error::bad("не указано описание (description)"))?;
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(O311Error::bad(format!(
            "описание длиннее {MAX_DESCRIPTION} символов"
        )));
    }
    let mut text = description;
    let attributes = attributes(params)?;
    if !attributes.is_empty() {
        text.push('\n');
        for (k, v) in &attributes {
            text.push_str(&format!("\n{k}: {v}"));
        }
    }
    if let Some(id) = &address_id {
        text.push_str(&format!("\n\naddress_id: {id}"));
    }
    let media_url = media_url(params)?;
    let name = [short(params, "first_name")?, short(params, "last_name")?]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let contacts: Vec<String> = [
        (!name.is_empty()).then_some(name),
        short(params, "email")?,
        short(params, "phone")?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut new = NewRequest::new(Channel::Open311, text, now);
    new.topic = Some(code.to_string());
    new.citizen = (!contacts.is_empty()).then(|| contacts.join(", "));
    // The number, when it is one, finds the citizen's other requests; one that is not stays
    // in the contacts as given (the request is never refused for it).
    new.phone = short(params, "phone")?.and_then(|p| crate::domain::phone::normalise(&p).ok());
    new.location = Some(Location { lat, lon, address });
    new.channel_ref.chat = Some(account.to_string());
    new.channel_ref.message = short(params, "account_id")?.or(short(params, "device_id")?);
    if let Some(url) = media_url {
        new.attachments.push(Attachment {
            kind: "link".into(),
            name: None,
            size: None,
            source: Some(url),
            local_path: None,
            // Not fetched: nobody downloads a portal's media; the console shows the link.
            state: AttachmentState::Failed,
        });
    }
    let external_ids = external_ids(params, account, idempotency_key, now)?;
    new.external_id = external_ids.first().cloned();
    Ok(Submission { new, external_ids })
}

/// `attribute[code]=value` pairs, in the order given.
fn attributes(params: &[(String, String)]) -> Result<Vec<(String, String)>, O311Error> {
    let mut out = vec![];
    for (k, v) in params {
        let Some(code) = k
            .strip_prefix("attribute[")
            .and_then(|r| r.strip_suffix(']'))
        else {
            continue;
        };
        let code = crate::sanitize::line(code);
        let value = crate::sanitize::line(v).trim().to_string();
        if code.is_empty() || code.chars().count() > 64 {
            return Err(O311Error::bad("attribute[…]: код от 1 до 64 символов"));
        }
        if value.chars().count() > MAX_ATTRIBUTE_VALUE {
            return Err(O311Error::bad(format!(
                "attribute[{code}] длиннее {MAX_ATTRIBUTE_VALUE} символов"
            )));
        }
        out.push((code, value));
        if out.len() > MAX_ATTRIBUTES {
            return Err(O311Error::bad(format!("больше {MAX_ATTRIBUTES} атрибутов")));
        }
    }
    Ok(out)
}

fn media_url(params: &[(String, String)]) -> Result<Option<String>, O311Error> {
    let Some(url) = one(params, "media_url")? else {
        return Ok(None);
    };
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_URL
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(O311Error::bad(
            "media_url: ожидается адрес http(s) без пробелов, до 2000 символов",
        ));
    }
    Ok(Some(url.to_string()))
}

/// The external ids that make a retried POST land on the request its first try created.
/// With an `Idempotency-Key` header: that key, for good. Without: a hash of the fields in a
/// ten-minute bucket, and the previous bucket is checked too, so a retry within 10–20 minutes
/// is recognised while the same text sent again next week is a new request.
fn external_ids(
    params: &[(String, String)],
    account: &str,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, O311Error> {
    if let Some(key) = idempotency_key {
        let ok =
            !key.is_empty() && key.len() <= MAX_FIELD && key.chars().all(|c| c.is_ascii_graphic());
        if !ok {
            return Err(O311Error::bad(
                "Idempotency-Key: от 1 до 200 видимых символов ASCII",
            ));
        }
        return Ok(vec![format!("{account}:k:{key}")]);
    }
    let mut fields: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "api_key").collect();
    fields.sort();
    let mut h = Sha256::new();
    for (k, v) in fields {
        // Lengths first: ("a","bc") and ("ab","c") must not hash alike.
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let bucket = now.timestamp().div_euclid(RETRY_WINDOW_SECS);
    Ok([bucket, bucket - 1]
        .into_iter()
        .map(|b| format!("{account}:h{b}:{hex}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Params = Vec<(String, String)>;

    fn p(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base() -> Vec<(String, String)> {
        p(&[
            ("service_code", "roads"),
            ("lat", "45.035"),
            ("long", "38.975"),
            ("description", "Яма на Красной, 5\u{1b}[2J"),
            ("first_name", "Иван"),
            ("last_name", "Петров"),
            ("email", "ivan@example.ru"),
            ("attribute[depth]", "20 см"),
            ("media_url", "https://portal.example/1.jpg"),
        ])
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn a_phone_is_kept_as_one_number_and_a_wrong_one_only_as_given() {
        let c = Catalog::krasnodar();
        let with = |phone: &str| {
            let mut params = base();
            params.push(("phone".into(), phone.into()));
            parse(&params, &c, "portal", None, at(1_800_000_000))
                .unwrap()
                .new
        };
        let n = with("8 (918) 111-22-33");
        assert_eq!(n.phone.as_deref(), Some("+79181112233"));
        assert!(n.citizen.unwrap().ends_with("8 (918) 111-22-33"));
        let n = with("звоните вечером");
        assert_eq!(n.phone, None);
        assert!(n.citizen.unwrap().ends_with("звоните вечером"));
    }

    #[test]
    fn a_submission_becomes_a_clean_open311_request() {
        let c = Catalog::krasnodar();
        let s = parse(&base(), &c, "portal", None, at(1_800_000_000)).unwrap();
        let n = &s.new;
        assert_eq!(n.channel, Channel::Open311);
        assert_eq!(n.topic.as_deref(), Some("roads"));
        assert_eq!(n.text, "Яма на Красной, 5[2J\n\ndepth: 20 см");
        assert_eq!(n.citizen.as_deref(), Some("Иван Петров, ivan@example.ru"));
        assert_eq!(n.phone, None);
        let loc = n.location.as_ref().unwrap();
        assert_eq!((loc.lat, loc.lon), (Some(45.035), Some(38.975)));
        assert_eq!(
            n.attachments[0].source.as_deref(),
            Some("https://portal.example/1.jpg")
        );
        assert_eq!(n.external_id.as_deref(), Some(s.external_ids[0].as_str()));
        assert!(s.external_ids[0].starts_with("portal:h3000000:"));
    }

    #[test]
    fn a_retry_in_the_window_matches_and_other_bodies_or_keys_do_not() {
        let c = Catalog::krasnodar();
        let first = parse(&base(), &c, "portal", None, at(1_800_000_000)).unwrap();
        // Five minutes later, across a bucket boundary: the previous bucket still matches.
        let retry = parse(&base(), &c, "portal", None, at(1_800_000_300)).unwrap();
        assert!(retry.external_ids.contains(&first.external_ids[0]));
        let mut other = base();
        other[3].1 = "Другая яма".into();
        let other = parse(&other, &c, "portal", None, at(1_800_000_000)).unwrap();
        assert!(!other.external_ids.contains(&first.external_ids[0]));
        let app = parse(&base(), &c, "app", None, at(1_800_000_000)).unwrap();
        assert!(!app.external_ids.contains(&first.external_ids[0]));
        let later = parse(&base(), &c, "portal", None, at(1_800_003_600)).unwrap();
        assert!(!later.external_ids.contains(&first.external_ids[0]));
        let keyed = parse(&base(), &c, "portal", Some("abc-1"), at(1)).unwrap();
        assert_eq!(keyed.external_ids, ["portal:k:abc-1"]);
    }

    #[test]
    fn bad_input_is_a_400_naming_the_field() {
        let c = Catalog::krasnodar();
        let bad = |edit: &dyn Fn(&mut Params), needle: &str| {
            let mut v = base();
            edit(&mut v);
            let e = parse(&v, &c, "portal", None, at(1)).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(e.description.contains(needle), "{needle}: {e:?}");
        };
        bad(&|v| v.retain(|(k, _)| k != "service_code"), "service_code");
        bad(&|v| v[0].1 = "out_of_scope".into(), "service_code");
        bad(&|v| v[1].1 = "NaN".into(), "lat");
        bad(&|v| v[2].1 = "500".into(), "long");
        bad(&|v| v.retain(|(k, _)| k != "long"), "lat и long");
        bad(&|v| v.retain(|(k, _)| k != "lat" && k != "long"), "место");
        bad(&|v| v[3].1 = " \u{7}\t".into(), "description");
        bad(&|v| v[3].1 = "я".repeat(MAX_DESCRIPTION + 1), "описание");
        bad(&|v| v[4].1 = "x".repeat(MAX_FIELD + 1), "first_name");
        bad(&|v| v[8].1 = "javascript:alert(1)".into(), "media_url");
        bad(
            &|v| v.push(("service_code".into(), "roads".into())),
            "дважды",
        );
        bad(
            &|v| v.extend((0..=MAX_ATTRIBUTES).map(|i| (format!("attribute[a{i}]"), "x".into()))),
            "атрибутов",
        );
        let e = parse(&base(), &c, "portal", Some("ключ"), at(1)).unwrap_err();
        assert!(e.description.contains("Idempotency-Key"));
    }

    #[test]
    fn an_address_alone_is_a_place() {
        let c = Catalog::krasnodar();
        let v = p(&[
            ("service_code", "waste"),
            ("address_string", "ул. Красная, 5"),
            ("description", "Переполнены баки"),
        ]);
        let s = parse(&v, &c, "portal", None, at(1)).unwrap();
        let loc = s.new.location.unwrap();
        assert_eq!(loc.address.as_deref(), Some("ул. Красная, 5"));
        assert_eq!((loc.lat, loc.lon), (None, None));
        assert_eq!(s.new.citizen, None);
    }
}
