//! Open311 GeoReport v2 under `/open311/v2/` on `mcu serve`: a city portal or app files
//! requests and reads back their status and our answer. Discovery and the service list are
//! public (they hold no personal data); filing needs an integration key (`mcu user add NAME
//! --role integration`), and so do reads unless `[open311] public_reads` is on, in which case
//! a read without a key gets the records without the fields that may carry personal data.
//! Each key has its own rate limit; bodies have a size limit. Every answer, errors included,
//! is in the spec's shape and the asked format.

pub mod format;
mod handlers;
pub mod limits;
pub mod metrics;
pub mod query;
pub mod services;
pub mod submit;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::format::{Fmt, O311Error};
use super::accounts;
use super::engine::{Principal, Role, ServerError};
use super::http::{Backend, Server};

/// `[open311]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Open311Config {
    /// Off: every `/open311/` route answers 404.
    pub enabled: bool,
    /// Requests per minute per key (and for all key-less reads together); 0: no limit.
    pub rate_per_minute: u32,
    /// Largest request body in bytes; a larger one is answered 413 before it is read.
    pub max_body_bytes: usize,
    /// Reads of requests without a key, without the citizen's text, photo link and our
    /// answer to them. Off by default: a city decides to publish, not the software.
    pub public_reads: bool,
    /// The endpoint's address as portals reach it (behind the TLS proxy), for discovery;
    /// empty: taken from the request's Host.
    pub base_url: String,
    /// Discovery's `contact`.
    pub contact: String,
    /// The `service_notice` answered to a new request.
    pub service_notice: String,
    /// Integration accounts that read every Open311 request; any other key reads only what
    /// its own account filed.
    pub read_all: Vec<String>,
}

impl Default for Open311Config {
    fn default() -> Self {
        Open311Config {
            enabled: true,
            rate_per_minute: 60,
            max_body_bytes: 64 * 1024,
            public_reads: false,
            base_url: String::new(),
            contact: "Муниципальный центр управления".into(),
            service_notice: "Обращение принято. Ответ придёт в течение 4 часов; статус и ответ \
                             доступны по номеру обращения."
                .into(),
            read_all: vec![],
        }
    }
}

/// What the server needs besides the config: the scope new requests are filed under.
#[derive(Debug, Clone)]
pub struct Open311Options {
    pub config: Open311Config,
    pub scope: String,
    /// Rendered on the server's `/metrics`.
    pub metrics: Arc<metrics::Open311Metrics>,
}

impl Open311Options {
    pub fn new(config: Open311Config, scope: String) -> Open311Options {
        Open311Options {
            config,
            scope,
            metrics: Default::default(),
        }
    }
}

impl Default for Open311Options {
    fn default() -> Self {
        Open311Options::new(Open311Config::default(), "city".into())
    }
}

struct Shared<S> {
    app: Server<S>,
    limiter: limits::RateLimiter,
}

type O<S> = Arc<Shared<S>>;

/// The routes, to merge into the server's router. A file is `name.json` or `name.xml`; the
/// format is split off by hand because a route can't hold a parameter and a suffix in one
/// segment.
pub(super) fn routes<S: Backend>(app: Server<S>) -> Router<Server<S>> {
    let o = Arc::new(Shared {
        limiter: limits::RateLimiter::new(app.opts.open311.config.rate_per_minute),
        app,
    });
    Router::new()
        .route("/open311/v2/{file}", any(top::<S>))
        .route("/open311/v2/services/{file}", any(service::<S>))
        .route("/open311/v2/requests/{file}", any(one_request::<S>))
        .route("/open311", any(unknown))
        .route("/open311/{*rest}", any(unknown))
        .with_state(o)
}

async fn unknown() -> Response {
    O311Error::not_found("нет такого адреса; начните с /open311/v2/discovery.json")
        .render(Fmt::Json)
}

/// A request as the handlers see it, once its size, key and rate are checked.
struct Call {
    method: Method,
    fmt: Fmt,
    stem: String,
    params: Vec<(String, String)>,
    headers: HeaderMap,
    /// `None`: a key-less read (discovery, services, or public reads).
    who: Option<Principal>,
}

impl Call {
    /// Whose filings this call may read: `None` for all (a key-less public read, which gets
    /// no personal fields, or a key in `read_all`), else the key's own account.
    fn reads_only(&self, cfg: &Open311Config) -> Option<String> {
        let who = self.who.as_ref()?;
        (!cfg.read_all.contains(&who.user)).then(|| who.user.clone())
    }
}

/// The rate bucket of a call without a (valid) key: its peer's address, so one anonymous
/// client can't use up everyone's reads.
fn anonymous_bucket(req: &Request) -> String {
    let addr = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    format!("anonymous:{addr}")
}

async fn top<S: Backend>(
    State(o): State<O<S>>,
    Path(file): Path<String>,
    req: Request,
) -> Response {
    run(o, file, req, Kind::Top).await
}

async fn service<S: Backend>(
    State(o): State<O<S>>,
    Path(file): Path<String>,
    req: Request,
) -> Response {
    run(o, file, req, Kind::Service).await
}

async fn one_request<S: Backend>(
    State(o): State<O<S>>,
    Path(file): Path<String>,
    req: Request,
) -> Response {
    run(o, file, req, Kind::Request).await
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Top,
    Service,
    Request,
}

async fn run<S: Backend>(o: O<S>, file: String, req: Request, kind: Kind) -> Response {
    if !o.app.opts.open311.config.enabled {
        return unknown().await;
    }
    let (key, resp) = answer(&o, file, req, kind).await;
    o.app
        .opts
        .open311
        .metrics
        .answered(&key, resp.status().as_u16());
    resp
}

/// The answer, and the key's account it went to (`metrics::NO_KEY` when none).
async fn answer<S: Backend>(
    o: &O<S>,
    file: String,
    req: Request,
    kind: Kind,
) -> (String, Response) {
    let no_key = |r: Response| (metrics::NO_KEY.to_string(), r);
    let Some((stem, fmt)) = format::split(&file) else {
        return no_key(O311Error::not_found("ожидается адрес с .json или .xml").render(Fmt::Json));
    };
    let stem = stem.to_string();
    // Which route and method, before the key: an unknown address is 404 to anyone.
    let methods: &[Method] = match (kind, stem.as_str()) {
        (Kind::Top, "requests") => &[Method::GET, Method::POST],
        (Kind::Top, "discovery" | "services") | (Kind::Service | Kind::Request, _) => {
            &[Method::GET]
        }
        _ => return no_key(O311Error::not_found("нет такого адреса").render(fmt)),
    };
    if !methods.contains(req.method()) {
        return no_key(
            O311Error::new(StatusCode::METHOD_NOT_ALLOWED, "метод не поддерживается").render(fmt),
        );
    }
    let anonymous = anonymous_bucket(&req);
    let call = match admit(o, fmt, stem, kind, req).await {
        Ok(call) => call,
        // Guessing keys costs the guesser's own address its budget.
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            let limited = rate_bucket(o, &anonymous).err();
            return no_key(limited.unwrap_or(e).render(fmt));
        }
        Err(e) => return no_key(e.render(fmt)),
    };
    let key = call
        .who
        .as_ref()
        .map_or(metrics::NO_KEY, |w| w.user.as_str())
        .to_string();
    let bucket = match &call.who {
        Some(w) => w.user.clone(),
        None => anonymous,
    };
    let resp = match rate_bucket(o, &bucket) {
        Ok(()) => dispatch(o, kind, call)
            .await
            .unwrap_or_else(|e| e.render(fmt)),
        Err(e) => e.render(fmt),
    };
    (key, resp)
}

/// One token from the bucket (a key's, or a key-less caller's address's), or 429 with
/// `Retry-After`.
fn rate_bucket<S: Backend>(o: &O<S>, bucket: &str) -> Result<(), O311Error> {
    let Err(wait) = o.limiter.take(bucket, Instant::now()) else {
        return Ok(());
    };
    let mut e = O311Error::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "не больше {} запросов в минуту; повторите позже",
            o.app.opts.open311.config.rate_per_minute
        ),
    );
    e.retry_after = Some(limits::retry_after_secs(wait));
    Err(e)
}

/// Whether a key-less call may go on: the catalogue always; requests only when public.
fn public(o: &Shared<impl Sized>, kind: Kind, stem: &str, method: &Method) -> bool {
    let catalogue = kind == Kind::Service || matches!(stem, "discovery" | "services");
    method == Method::GET && (catalogue || o.app.opts.open311.config.public_reads)
}

/// Size, then parameters, then key (the rate is `rate`'s): a huge body is refused before
/// anything else is read, and the key (which may be in the body, as the spec has it) before
/// any work.
async fn admit<S: Backend>(
    o: &O<S>,
    fmt: Fmt,
    stem: String,
    kind: Kind,
    req: Request,
) -> Result<Call, O311Error> {
    let cfg = &o.app.opts.open311.config;
    let (parts, body) = req.into_parts();
    let too_large = || {
        O311Error::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("тело запроса больше {} байт", cfg.max_body_bytes),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cfg.max_body_bytes as u64) {
        return Err(too_large());
    }
    let body: Bytes = axum::body::to_bytes(body, cfg.max_body_bytes)
        .await
        .map_err(|_| too_large())?;
    let mut params = parse_form(parts.uri.query().unwrap_or("").as_bytes());
    if !body.is_empty() {
        let form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err(O311Error::bad(
                "тело запроса ожидается в application/x-www-form-urlencoded",
            ));
        }
        params.extend(parse_form(&body));
    }
    if params.len() > 200 {
        return Err(O311Error::bad("больше 200 параметров"));
    }
    let keys: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "api_key")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let who = match keys.as_slice() {
        [] if public(o, kind, &stem, &parts.method) => None,
        [] => {
            return Err(O311Error::new(
                StatusCode::UNAUTHORIZED,
                "нужен ключ API (параметр api_key)",
            ));
        }
        [key] => Some(authenticate(o, key.clone()).await?),
        _ => return Err(O311Error::bad("api_key указан дважды")),
    };
    Ok(Call {
        method: parts.method,
        fmt,
        stem,
        params,
        headers: parts.headers,
        who,
    })
}

/// `a=1&b=%D0%B0+b`: pairs with `+` as space and percent-escapes decoded; invalid UTF-8 is
/// replaced, never a failure.
fn parse_form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn authenticate<S: Backend>(o: &O<S>, key: String) -> Result<Principal, O311Error> {
    let a = o.app.clone();
    let who = blocking(move || accounts::gate(&a.store, &key)).await?;
    match who.map(|(w, access)| (w, access.disabled)) {
        None => Err(O311Error::new(
            StatusCode::UNAUTHORIZED,
            "неизвестный ключ API",
        )),
        Some((_, true)) => Err(O311Error::new(StatusCode::FORBIDDEN, "ключ API отключён")),
        Some((w, false)) => match w {
            w if w.role != Role::Integration => Err(O311Error::new(
                StatusCode::FORBIDDEN,
                "ключ не для Open311: нужна учётная запись с ролью integration",
            )),
            w => Ok(w),
        },
    }
}

/// The store is synchronous: its work runs on tokio's blocking pool.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ServerError> + Send + 'static,
) -> Result<R, O311Error> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(O311Error::from),
        Err(e) => {
            tracing::error!(error = %e, "open311: blocking task failed");
            Err(O311Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "внутренняя ошибка",
            ))
        }
    }
}

async fn dispatch<S: Backend>(o: &O<S>, kind: Kind, call: Call) -> Result<Response, O311Error> {
    let app = &o.app;
    let ok =
        |root: &str, item: &str, v: &Value| format::reply(call.fmt, StatusCode::OK, root, item, v);
    match (kind, call.stem.as_str(), &call.method) {
        (Kind::Top, "discovery", &Method::GET) => {
            let base = base_url(&app.opts.open311.config.base_url, &call.headers);
            let v = services::discovery(&base, &app.opts.open311.config.contact);
            Ok(ok("discovery", "endpoint", &v))
        }
        (Kind::Top, "services", &Method::GET) => {
            Ok(ok("services", "service", &services::list(&app.catalog)))
        }
        (Kind::Service, code, &Method::GET) => match services::definition(&app.catalog, code) {
            Some(v) => Ok(ok("service_definition", "attribute", &v)),
            None => Err(O311Error::not_found("нет такой услуги")),
        },
        (Kind::Top, "requests", &Method::POST) => handlers::create(o, &call).await,
        (Kind::Top, "requests", &Method::GET) => {
            let v = handlers::read_many(o, &call).await?;
            Ok(ok("service_requests", "request", &v))
        }
        (Kind::Request, id, &Method::GET) => {
            let owner = call.reads_only(&o.app.opts.open311.config);
            let v = handlers::read_one(o, id.to_string(), call.who.is_some(), owner).await?;
            Ok(ok("service_requests", "request", &Value::Array(vec![v])))
        }
        // `run` let only these routes and methods through.
        _ => Err(O311Error::not_found("нет такого адреса")),
    }
}

/// Discovery's `url`: the configured one, or this request's Host (only a host name's
/// characters are trusted from it).
fn base_url(configured: &str, headers: &HeaderMap) -> String {
    if !configured.is_empty() {
        return configured.to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}/open311/v2/")
}

impl IntoResponse for O311Error {
    fn into_response(self) -> Response {
        self.render(Fmt::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn discovery_names_the_configured_url_or_a_clean_host() {
        let mut h = HeaderMap::new();
        assert_eq!(base_url("", &h), "http://localhost/open311/v2/");
        h.insert(header::HOST, HeaderValue::from_static("mcu.example:8080"));
        assert_eq!(base_url("", &h), "http://mcu.example:8080/open311/v2/");
        assert_eq!(base_url("https://city.ru/o/", &h), "https://city.ru/o/");
        h.insert(header::HOST, HeaderValue::from_static("evil\"/><x>"));
        assert_eq!(base_url("", &h), "http://localhost/open311/v2/");
    }

    #[test]
    fn forms_decode_plus_percent_and_bad_utf8_without_failing() {
        let p = parse_form(b"a=1+2&attribute%5Bx%5D=%D1%8F&bad=%FF&bad=%");
        assert_eq!(p[0], ("a".into(), "1 2".into()));
        assert_eq!(p[1], ("attribute[x]".into(), "я".into()));
        assert_eq!(p[2], ("bad".into(), "\u{FFFD}".into()));
        assert_eq!(p[3], ("bad".into(), "%".into()));
    }
}
