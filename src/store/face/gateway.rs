//! The gateway's side of the store: the channel account's lease, storing what a poll
//! received, the outbox the sender works through, the files to fetch and the alarms it
//! raises. Every write the gateway makes is fenced by its lease epoch inside the store.

use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::time::Duration;

use super::super::files::{self, FileJob};
use super::super::ingest::{self, IngestReport, IngestRules, Source};
use super::super::outbox::{self, Finish, Part};
use super::super::rows::ms;
use super::super::{Store, StoreError, alarms, lease};
use crate::domain::Channel;
use crate::domain::request::AttachmentState;

impl Store {
    /// Tells the shift leads' Telegram `chat` of every breach (and with `warn`, every clock
    /// at risk) not told yet (`domain::escalation`); how many it told.
    pub async fn sweep_escalations(
        &self,
        chat: String,
        texts: crate::templates::BotTexts,
        warn: bool,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        self.call(move |c, env| super::super::escalation::sweep(c, env, &chat, &texts, warn, now))
            .await
    }

    /// Posts the requests forwarded since the last sweep to their departments' Telegram
    /// chats (department id → chat); how many it posted (`store::department_chat`).
    pub async fn sweep_department_posts(
        &self,
        chats: std::collections::BTreeMap<String, String>,
        texts: crate::templates::BotTexts,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        self.call(move |c, env| {
            super::super::department_chat::sweep(c, env, Channel::Telegram, &chats, &texts, now)
        })
        .await
    }

    /// Mails the requests forwarded since the last sweep to their departments' addresses
    /// (department id → address), and their reminders; how many (`store::department_chat`).
    pub async fn sweep_department_mail(
        &self,
        addresses: std::collections::BTreeMap<String, String>,
        texts: crate::templates::BotTexts,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        self.call(move |c, env| {
            super::super::department_chat::sweep(c, env, Channel::Email, &addresses, &texts, now)
        })
        .await
    }

    /// Sends the reminders and polite closes due on `channel`'s unanswered questions
    /// (`domain::waiting`), in the bot's words.
    pub async fn sweep_waiting(
        &self,
        channel: Channel,
        texts: crate::templates::BotTexts,
    ) -> Result<super::super::waiting::Swept, StoreError> {
        let now = self.now();
        self.call(move |c, env| super::super::waiting::sweep(c, env, channel, &texts, now))
            .await
    }

    /// Asks «Вопрос решён?» on `channel`'s requests closed as resolved at least `after` ago
    /// and never asked (`domain::feedback`); how many it asked.
    pub async fn sweep_feedback(
        &self,
        channel: Channel,
        texts: crate::templates::BotTexts,
        after: Duration,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
        self.call(move |c, env| super::super::feedback::sweep(c, env, channel, &texts, after, now))
            .await
    }

    /// Takes the lease `name` for `holder` if it is free, expired, already ours, or its holder
    /// died: the new epoch (the fencing token), or who holds it.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Result<i64, String>, StoreError> {
        let (name, holder, now) = (name.to_string(), holder.to_string(), ms(self.now()));
        self.call(move |c, _| lease::acquire(c, &name, &holder, now, ttl))
            .await
    }

    /// Extends the lease by `ttl` from now; false when it was lost (expired and taken), and
    /// the holder must stop at once.
    pub async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        epoch: i64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (name, holder, now) = (name.to_string(), holder.to_string(), ms(self.now()));
        self.call(move |c, _| lease::renew(c, &name, &holder, epoch, now, ttl))
            .await
    }

    /// Lets the lease go at once, if `holder` still holds it at `epoch`.
    pub async fn release_lease(
        &self,
        name: &str,
        holder: &str,
        epoch: i64,
    ) -> Result<(), StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.call(move |c, _| lease::release(c, &name, &holder, epoch))
            .await
    }

    /// Where the channel account's poll stands (the cursor stored with the last batch).
    pub async fn cursor(
        &self,
        channel: Channel,
        account: &str,
    ) -> Result<Option<String>, StoreError> {
        let account = account.to_string();
        self.call(move |c, _| ingest::cursor(c, channel, &account))
            .await
    }

    /// Stores one polled batch whole — its requests, messages, acknowledgements, files to fetch
    /// and the new cursor — in one transaction, or nothing (`Fenced` when the lease moved on).
    pub async fn ingest(
        &self,
        channel: Channel,
        account: &str,
        lease: &str,
        epoch: i64,
        batch: crate::wire::intake::Batch,
        rules: IngestRules,
    ) -> Result<IngestReport, StoreError> {
        let (account, lease) = (account.to_string(), lease.to_string());
        self.call(move |c, env| {
            let src = Source {
                channel,
                account: &account,
                lease: &lease,
                epoch,
            };
            ingest::ingest(c, env, &src, &batch, &rules)
        })
        .await
    }

    /// Parts an earlier holder left mid-send: sent again where the channel drops repeats
    /// (`retry`), marked unknown elsewhere; how many.
    pub async fn sweep_outbox(
        &self,
        channel: Channel,
        epoch: i64,
        retry: bool,
    ) -> Result<usize, StoreError> {
        let now = ms(self.now());
        self.call(move |c, env| outbox::sweep(c, env, channel.as_str(), epoch, now, retry))
            .await
    }

    /// Claims (and commits as `sending`) the oldest due part whose chat has nothing earlier in
    /// flight and is not in `cooling`; `None` when nothing is due.
    pub async fn claim_part(
        &self,
        channel: Channel,
        lease: &str,
        epoch: i64,
        cooling: HashSet<String>,
    ) -> Result<Option<Part>, StoreError> {
        let (lease, now) = (lease.to_string(), ms(self.now()));
        self.call(move |c, _| outbox::claim(c, channel.as_str(), &lease, epoch, now, &cooling))
            .await
    }

    /// When the next pending part becomes due (ms since 1970), for the sender's sleep.
    pub async fn next_due(&self, channel: Channel) -> Result<Option<i64>, StoreError> {
        self.call(move |c, _| outbox::next_due(c, channel.as_str()))
            .await
    }

    /// Records what the channel said about a claimed part, as of `at`; fenced, so a paused
    /// old holder cannot overwrite the new one's rows.
    pub async fn finish_part(
        &self,
        channel: Channel,
        lease: &str,
        epoch: i64,
        part: Part,
        finish: Finish,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (lease, at) = (lease.to_string(), ms(at));
        self.call(move |c, env| {
            outbox::finish(c, env, channel.as_str(), &lease, epoch, &part, &finish, at)
        })
        .await
    }

    /// A sent part's id in its chat, ahead of its outcome (`outbox::remember_post`).
    pub async fn remember_post(
        &self,
        channel: Channel,
        part: Part,
        external_id: String,
    ) -> Result<(), StoreError> {
        self.call(move |c, _| outbox::remember_post(c, channel.as_str(), &part, &external_id))
            .await
    }

    /// Up to `limit` files due to be fetched for the channel, the longest waiting first.
    pub async fn due_files(
        &self,
        channel: Channel,
        limit: usize,
    ) -> Result<Vec<FileJob>, StoreError> {
        let now = ms(self.now());
        self.call(move |c, _| files::due(c, channel.as_str(), now, limit))
            .await
    }

    /// Counts a failed attempt and tries the file again at `at` (ms since 1970).
    pub async fn postpone_file(
        &self,
        channel: Channel,
        job: FileJob,
        at: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c, _| files::postpone(c, channel.as_str(), &job, at))
            .await
    }

    /// Records a fetch's outcome on the request and drops the job, in one transaction.
    pub async fn settle_file(
        &self,
        channel: Channel,
        job: FileJob,
        state: AttachmentState,
        local_path: Option<String>,
    ) -> Result<(), StoreError> {
        self.call(move |c, env| files::settle(c, env, channel.as_str(), &job, state, local_path))
            .await
    }

    /// Raises an alarm for `source`, unless one of the same kind is still open (a poller
    /// retrying must not flood the list).
    pub async fn raise_alarm(
        &self,
        source: &str,
        kind: &str,
        text: &str,
    ) -> Result<(), StoreError> {
        let (source, kind, text, now) = (
            source.to_string(),
            kind.to_string(),
            text.to_string(),
            ms(self.now()),
        );
        self.call(move |c, _| alarms::raise_alarm(c, &source, &kind, &text, now))
            .await
    }
}
