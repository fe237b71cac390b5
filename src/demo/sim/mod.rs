//! A local fake of the Telegram Bot API for tests and `mcu demo`.
//!
//! It speaks the real wire format (`{"ok":..}` envelopes, HTTP status = `error_code`, Telegram's
//! exact error descriptions) so the adapter is tested against what production will send, and it
//! adds what production cannot give on demand: seeded citizen traffic in Russian from the corpus
//! generator, programmable faults (5xx, 429, ambiguous sends, malformed updates, expiring file
//! links) and `/_sim/*` endpoints to inspect what the bot sent. Same seed, same traffic.

mod api;
mod control;
mod files;
mod malformed;
mod params;
pub mod platform;
pub mod staging;
mod state;
mod traffic;
mod vk;
mod vk_api;
mod vk_traffic;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use malformed::MalformedKind;
use state::Shared;
pub use vk::{VkEvent, VkSent, VkSimOptions, VkStats};

/// The only key the simulated feedback platform accepts.
pub(crate) const PLATFORM_KEY: &str = "sim-platform-key";

/// What the fake accepts, how much traffic it makes and which faults it injects.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The only bot token accepted; any other gets 401 Unauthorized.
    pub token: String,
    pub seed: u64,
    /// Average rate of new citizen messages (arrivals are Poisson); 0 = none.
    pub per_minute: f64,
    /// Citizen messages queued before `start` returns.
    pub burst: usize,
    /// Stop generating after this many citizen messages in total (burst included).
    pub limit: Option<usize>,
    /// Share of API calls answered 500/502 before doing anything (safe to retry).
    pub fail_rate: f64,
    /// Share of sendMessage calls answered 429 with `retry_after` 1..=3 s, before doing anything.
    pub rate_limit_rate: f64,
    /// Share of sendMessage calls that are recorded as sent and then never answered.
    pub ambiguous_rate: f64,
    /// How long an ambiguous send is held before the connection is closed without a response.
    pub ambiguous_delay: Duration,
    /// Added to every Bot API response.
    pub latency: Duration,
    /// Share of generated citizen messages replaced by a malformed update.
    pub malformed_rate: f64,
    /// How long a `getFile` path stays downloadable (Telegram guarantees 1 h).
    pub file_ttl: Duration,
    /// The VK community the simulator also plays (`/method/*`, `/vk_lp`).
    pub vk: VkSimOptions,
    /// Staged mass incidents (the demo's); None: none.
    pub staging: Option<staging::Staging>,
    /// Citizens answer an operator's question (a message asking them to clarify) this long
    /// after they got it, as in the demo; None: they never do.
    pub answer_questions_after: Option<Duration>,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            token: "123456:TEST".to_owned(),
            seed: 1,
            per_minute: 30.0,
            burst: 0,
            limit: None,
            fail_rate: 0.0,
            rate_limit_rate: 0.0,
            ambiguous_rate: 0.0,
            ambiguous_delay: Duration::from_secs(3),
            latency: Duration::ZERO,
            malformed_rate: 0.0,
            file_ttl: Duration::from_secs(3600),
            vk: VkSimOptions::default(),
            staging: None,
            answer_questions_after: None,
        }
    }
}

/// One message the bot sent (recorded even when the client never learned the outcome).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SentMessage {
    pub message_id: i64,
    pub chat_id: i64,
    pub text: String,
    pub reply_to_message_id: Option<i64>,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The `callback_data` of its inline keyboard, if it had one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    /// Their texts, as the citizen sees them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// A photo's file_id or URL (sendPhoto); `text` is then its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// A document's file_id or URL (sendDocument), the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// Everything the bot sent; `chats` is keyed by chat id as a string (JSON object keys).
/// `total` counts Telegram's; `vk` holds the VK community's replies by dialog (`peer_id`) or
/// post (`wall{owner}_{post}`), each marked with its channel.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SentLog {
    pub total: usize,
    pub chats: BTreeMap<String, Vec<SentMessage>>,
    #[serde(default)]
    pub vk: BTreeMap<String, Vec<VkSent>>,
    /// Replies the feedback platform took (`POST servicerequestupdates.json`), in order.
    #[serde(default)]
    pub platform: Vec<platform::PlatformUpdate>,
}

/// sendMessage calls by outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SendStats {
    /// Recorded and answered.
    pub ok: usize,
    /// Recorded, then the connection was closed without an answer.
    pub ambiguous: usize,
    /// 429 before doing anything.
    pub rate_limited: usize,
    /// 500/502 before doing anything.
    pub failed: usize,
    /// 400/403 from validation (empty, too long, unknown chat, blocked, missing reply).
    pub rejected: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SimStats {
    /// Generated citizen messages (what `limit` counts); injected ones are not included.
    pub citizen_messages: usize,
    /// Updates ever queued, generated or injected.
    pub updates_queued: usize,
    /// Queued and not yet confirmed by an offset.
    pub updates_pending: usize,
    /// The id the next update will get.
    pub next_update_id: i64,
    /// Highest offset a getUpdates call confirmed with (0 before the first).
    pub highest_confirmed_offset: i64,
    pub get_updates_calls: usize,
    /// getUpdates calls answered 409 (a second poller or a webhook).
    pub conflicts: usize,
    pub send: SendStats,
}

/// One queued update, for comparing what the fake produced with what the client stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UpdateSummary {
    pub update_id: i64,
    /// `message`, `edited_message`, or whatever key an injected raw update used.
    pub kind: String,
    pub chat_id: Option<i64>,
    pub message_id: Option<i64>,
    pub malformed: bool,
}

/// A running fake Bot API; dropping it stops serving (call `shutdown` to wait for that).
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    traffic: Option<JoinHandle<()>>,
}

impl Simulator {
    /// A simulator on a free local port that writes nothing by itself: tests and benches
    /// inject what they need.
    pub async fn quiet() -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let opts = SimOptions {
            per_minute: 0.0,
            burst: 0,
            ..SimOptions::default()
        };
        Simulator::start(listener, opts).await
    }

    /// Serves on `listener` (bind 127.0.0.1:0 in tests) and starts the generator task.
    pub async fn start(
        listener: tokio::net::TcpListener,
        opts: SimOptions,
    ) -> std::io::Result<Simulator> {
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(opts, stop_rx.clone()));
        {
            let mut inner = shared.lock();
            inner.vk.base = format!("http://{addr}");
            inner.vk.lp_url = format!("http://{addr}/vk_lp");
        }
        shared.generate(shared.opts.burst);

        let app = api::router(shared.clone()).merge(shared.platform.router());
        let mut server_stop = stop_rx.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = server_stop.wait_for(|s| *s).await;
                })
                .await
        });
        if let Some(s) = shared.opts.staging.clone() {
            tokio::spawn(staging::run(shared.clone(), s, stop_rx.clone()));
        }
        let traffic = tokio::spawn(traffic::run(shared.clone(), stop_rx));
        Ok(Simulator {
            shared,
            addr,
            stop,
            server: Some(server),
            traffic: Some(traffic),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for the client: methods at {api_url}/bot{token}/{method}, files at
    /// {api_url}/file/bot{token}/{file_path}.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token the fake accepts.
    pub fn token(&self) -> &str {
        &self.shared.opts.token
    }

    /// Everything the bot and the VK community sent, per chat, in order (same data as
    /// GET /_sim/sent).
    pub fn sent(&self) -> SentLog {
        let inner = self.shared.lock();
        let mut log = inner.world.sent.clone();
        log.vk = inner.vk.sent.clone();
        log.platform = self.shared.platform.updates();
        log
    }

    /// The feedback platform: its GeoReport v2 base URL and the key it accepts.
    pub fn platform_url(&self) -> String {
        format!("http://{}/open311/v2", self.addr)
    }

    pub fn platform_key(&self) -> &'static str {
        PLATFORM_KEY
    }

    /// Citizens start filing on the platform too, at `per_minute` (`burst` at once first).
    pub fn platform_traffic(&self, per_minute: f64, burst: usize) {
        tokio::spawn(platform::traffic(
            self.shared.platform.clone(),
            per_minute,
            burst,
            self.shared.opts.seed,
            self.shared.stop.clone(),
        ));
    }

    /// The platform, to file requests on it.
    pub fn platform(&self) -> &platform::Platform {
        &self.shared.platform
    }

    /// VK: the method API's base URL (`api_url` of `[channels.vk]`).
    pub fn vk_api_url(&self) -> String {
        format!("http://{}/method", self.addr)
    }

    pub fn vk_token(&self) -> &str {
        &self.shared.opts.vk.token
    }

    pub fn vk_group_id(&self) -> i64 {
        self.shared.opts.vk.group_id
    }

    /// VK: make `n` citizen actions now (dialogs, wall posts, comments), outside `limit`.
    pub fn vk_generate(&self, n: usize) {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        for _ in 0..n {
            inner.vk_traffic.event(&mut inner.vk);
        }
    }

    /// VK: a citizen's text message in their dialog; returns its message id.
    pub fn vk_inject_text(&self, peer: i64, text: &str) -> i64 {
        let mut m = serde_json::Map::new();
        m.insert("text".into(), serde_json::json!(text));
        self.shared.lock().vk.citizen_message(peer, m)
    }

    /// VK: a citizen's message with whatever fields a test gives (a `payload`, say).
    pub fn vk_inject(&self, peer: i64, fields: serde_json::Map<String, serde_json::Value>) -> i64 {
        self.shared.lock().vk.citizen_message(peer, fields)
    }

    /// VK: the citizen taps the button `label` under the community's message `sent_id` (a
    /// message with the label and the button's payload); `None` when there is no such button.
    pub fn vk_tap(&self, peer: i64, sent_id: i64, label: &str) -> Option<i64> {
        self.shared.lock().vk.tap(peer, sent_id, label)
    }

    /// VK: a post on the community wall by `from` (negative: a community); returns its id.
    pub fn vk_inject_post(&self, from: i64, text: &str) -> i64 {
        self.shared
            .lock()
            .vk
            .post(from, text, serde_json::Map::new())
    }

    /// VK: a comment under post `post_id`; None when there is no such post.
    pub fn vk_inject_comment(&self, post_id: i64, from: i64, text: &str) -> Option<i64> {
        self.shared.lock().vk.comment(post_id, from, text, None)
    }

    /// VK: the next long polls answer these `failed` codes, in order.
    pub fn vk_fail_next(&self, codes: &[i64]) {
        self.shared.lock().vk.force_failed.extend_from_slice(codes);
    }

    /// VK: the next `n` sends are recorded and never answered.
    pub fn vk_hold_sends(&self, n: usize) {
        self.shared.lock().vk.hold_sends += n;
    }

    /// VK: resolves once at least `n` sends were recorded and left unanswered in all.
    pub async fn vk_held(&self, n: usize) {
        let mut rx = self.shared.lock().vk.held_rx.clone();
        let _ = rx.wait_for(|held| *held >= n).await;
    }

    /// VK: resolves once at least `n` long polls have come in (a client is polling).
    pub async fn vk_polled(&self, n: usize) {
        let mut rx = self.shared.lock().vk.polls_tx.subscribe();
        let _ = rx.wait_for(|polls| *polls >= n).await;
    }

    /// VK: a citizen who blocks the community (error 901 on messages.send).
    pub fn vk_block(&self, peer: i64, blocked: bool) {
        self.shared.lock().vk.set_blocked(peer, blocked);
    }

    /// VK: every citizen and community event ever made, with the id a client stores it under.
    pub fn vk_events(&self) -> Vec<VkEvent> {
        self.shared.lock().vk.log.clone()
    }

    pub fn vk_stats(&self) -> VkStats {
        self.shared.lock().vk.stats.clone()
    }

    /// Queue a citizen text message from `chat_id` now; returns the update_id. An unknown chat
    /// becomes a known private chat, so the bot can answer it.
    pub fn inject_text(&self, chat_id: i64, text: &str) -> i64 {
        self.shared.lock().world.inject_text(chat_id, text)
    }

    /// Queue an arbitrary raw update (the fake sets update_id). An object is served with its keys
    /// as given; any other value is served under `"message"`. A well-formed `message.chat.id`
    /// becomes a known chat.
    pub fn inject_raw(&self, update_without_id: serde_json::Value) -> i64 {
        self.shared.lock().world.inject_raw(update_without_id)
    }

    /// The citizen of `chat_id` presses the button with `data` under the bot's message
    /// `message_id` (a `callback_query` update).
    pub fn press(&self, chat_id: i64, message_id: i64, data: &str) -> i64 {
        traffic::press(&mut self.shared.lock().world, chat_id, message_id, data)
    }

    /// `n` citizens known from now on, who will write again like any the traffic made: their
    /// Telegram chat ids and names (`demo::history` gives them earlier requests).
    /// A chat the bot may write to without its citizen having written first (the shift
    /// leads' group, a request registered before the demo began).
    pub fn open_chat(&self, chat_id: i64) {
        self.shared.lock().world.ensure_chat(chat_id, None);
    }

    pub fn regulars(&self, n: usize) -> Vec<(i64, String)> {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner.traffic.regulars(&mut inner.world, n)
    }

    /// Queue one malformed update of the given kind from a fresh citizen.
    pub fn inject_malformed(&self, kind: MalformedKind) -> i64 {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner.traffic.malformed(&mut inner.world, kind)
    }

    /// Queue a photo message (three sizes, a downloadable JPEG) from `chat_id`.
    pub fn inject_photo(&self, chat_id: i64, caption: Option<&str>) -> i64 {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner
            .traffic
            .inject_photo(&mut inner.world, chat_id, caption)
    }

    /// A photo's sizes as a message's `photo` lists them, each downloadable through getFile:
    /// for a message made by hand (`inject_raw`), such as a department's photo report.
    pub fn photo(&self) -> serde_json::Value {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner.traffic.photo_sizes(&mut inner.world, Some(2))
    }

    /// A photo sent "as a file" as a message's `document` carries it (its bytes a JPEG), for a
    /// message made by hand.
    pub fn picture_document(&self, name: &str) -> serde_json::Value {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner.traffic.picture_document(&mut inner.world, name)
    }

    /// Queue a document message; a `file_size` over 20 MB makes getFile answer "file is too big".
    pub fn inject_document(&self, chat_id: i64, file_name: &str, file_size: u64) -> i64 {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner
            .traffic
            .inject_document(&mut inner.world, chat_id, file_name, file_size)
    }

    /// Generate up to `n` citizen messages now, as the timer would; returns how many were made
    /// (fewer once `limit` is reached).
    pub fn generate(&self, n: usize) -> usize {
        self.shared.generate(n)
    }

    /// Mark a chat as having blocked the bot (403 on sendMessage) or unblock it.
    pub fn block(&self, chat_id: i64, blocked: bool) {
        self.shared.lock().world.set_blocked(chat_id, blocked);
    }

    /// Pretend a webhook is (or is no longer) set: getUpdates answers 409 while it is.
    pub fn set_webhook(&self, set: bool) {
        self.shared.lock().world.set_webhook(set);
    }

    /// Expire every file path issued so far, as if `file_ttl` had passed.
    pub fn expire_files(&self) {
        self.shared.lock().world.files.expire_all();
    }

    /// Every update ever queued, in update_id order.
    pub fn updates(&self) -> Vec<UpdateSummary> {
        self.shared.lock().world.queue.history.clone()
    }

    pub fn stats(&self) -> SimStats {
        self.shared.lock().world.stats()
    }

    /// Resolves once a getUpdates long poll is being held (nothing queued for it).
    pub async fn poll_held(&self) {
        let mut rx = self.shared.held_rx.clone();
        let _ = rx.wait_for(|held| held.is_some()).await;
    }

    /// Stops serving: held long polls answer empty, held ambiguous sends are dropped.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(server) = self.server.take()
            && let Ok(Err(e)) = server.await
        {
            tracing::warn!("telegram simulator server ended with an error: {e}");
        }
        if let Some(traffic) = self.traffic.take() {
            let _ = traffic.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// `mcu simulate --listen ADDR` calls this: serve until ctrl-c, printing the address and api_url
/// first.
pub async fn run_until_ctrl_c(listen: SocketAddr, opts: SimOptions) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let sim = Simulator::start(listener, opts).await?;
    println!("Telegram Bot API simulator listening on {}", sim.addr());
    println!("api_url: {}", sim.api_url());
    println!("token:   {}", sim.token());
    println!(
        "VK:      api_url {}  token {}  group_id {}",
        sim.vk_api_url(),
        sim.vk_token(),
        sim.vk_group_id()
    );
    println!(
        "inspect: {}/_sim/sent  {}/_sim/stats",
        sim.api_url(),
        sim.api_url()
    );
    let result = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    result
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_send;
#[cfg(test)]
mod tests_traffic;
#[cfg(test)]
mod tests_vk;
