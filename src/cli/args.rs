//! The command line: a public interface (scripts use it), so names and shapes stay stable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use super::groups::{
    EvalArgs, IncidentCommand, MethodArg, ServeCommand, ShiftCommand, TriageCommand, UserCommand,
};

#[derive(Debug, Parser)]
#[command(
    name = "mcu",
    // The package version and the commit it was built from (build.rs).
    version = env!("MCU_VERSION"),
    about = "Operator console of the Municipal Control Center (МЦУ)"
)]
pub struct Cli {
    /// The SQLite database file (default: [store] path in the config, else the XDG data dir).
    /// For `serve` and `user`: the server's store, `sqlite:PATH` (or a path) or `postgres://…`.
    #[arg(long, global = true, env = "MCU_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// The config file (default: $XDG_CONFIG_HOME/mcu/config.toml).
    #[arg(long, global = true, env = "MCU_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", global = true, value_enum)]
    pub output: Option<Format>,
    /// Without a command: the console.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The operator console (the default): inbox, detail, actions; runs the gateway too when
    /// a channel is configured.
    Console {
        /// Watch only: no changes (for shift leads' screens).
        #[arg(long)]
        readonly: bool,
        /// Open on the shift dashboard instead of the inbox (`b` switches between them).
        #[arg(long)]
        dashboard: bool,
    },
    /// List requests (an inbox page), most urgent first.
    List(ListArgs),
    /// Show one request with its messages, notes and audit trail.
    Show { number: String },
    /// Register a request by hand (a phone call, a letter).
    New(NewArgs),
    /// Take a request into your work.
    Claim { number: String },
    /// Give a request back to the queue.
    Release { number: String },
    /// Assign a request to an operator (shift lead), or to nobody.
    Assign {
        number: String,
        /// The operator's name.
        #[arg(long, conflicts_with = "nobody", required_unless_present = "nobody")]
        to: Option<String>,
        #[arg(long)]
        nobody: bool,
    },
    /// Set topic, department, priority and tags.
    Tag(TagArgs),
    /// Add an internal note (the citizen does not see it).
    Note {
        number: String,
        #[arg(long)]
        text: String,
    },
    /// Reply to the citizen through the request's channel.
    ///
    /// The text's variables ({number}, {citizen}, {department}, {due}, {by_due}, {answer}) are
    /// filled as the console fills them; `--template` starts from a ready reply (`ack`, `dep`,
    /// `ans`, `gas`, `addr`, … — `mcu templates` lists them — or the center's own), `--text`
    /// then follows it.
    Reply {
        number: String,
        #[arg(long, required_unless_present = "template")]
        text: Option<String>,
        /// A ready reply's shortcut (as `::ack` in the console).
        #[arg(long)]
        template: Option<String>,
        /// The reply asks the citizen something: the request waits for the answer
        /// («ждёт заявителя»), its resolution clock holds, the citizen is reminded after
        /// `[clocks] waiting_reminder_hours` and the request closes after
        /// `waiting_close_days` without an answer (as `Shift-W` in the console).
        #[arg(long)]
        wait: bool,
    },
    /// Send the reply the citizen did not get again (`mcu list --undelivered`).
    Resend { number: String },
    /// The citizen was told by phone what the undelivered reply said: on record, and it counts
    /// as their answer.
    Phoned {
        number: String,
        #[arg(long)]
        text: String,
    },
    /// No channel reaches the citizen (they blocked the bot, left VK): the undelivered reply
    /// is settled and the first-response clock stops.
    Unreachable { number: String },
    /// Forward to the responsible department (default: the request's department).
    Forward {
        number: String,
        #[arg(long)]
        department: Option<String>,
        /// A note for the department.
        #[arg(long)]
        note: Option<String>,
    },
    /// Record the department's answer.
    Answer {
        number: String,
        #[arg(long)]
        text: String,
    },
    /// Close a request.
    Close {
        number: String,
        /// resolved | duplicate | out_of_scope | spam | no_reply_needed
        #[arg(long)]
        reason: String,
    },
    /// Reopen a closed request.
    Reopen { number: String },
    /// Link a request as a duplicate of another (closes it as `duplicate`).
    Link {
        number: String,
        #[arg(long = "duplicate-of", value_name = "NUMBER")]
        duplicate_of: String,
    },
    /// Give a forwarded request back to the operators as not the department's, with the
    /// reason: it is in work again with no department, the department clock stopped.
    Return {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Merge a request's thread into another's: it closes as `merged`, its citizen's
    /// follow-ups go on in the other thread, and answers given there reach them too.
    Merge {
        number: String,
        #[arg(long, value_name = "NUMBER")]
        into: String,
    },
    /// Make a citizen's off-topic follow-up a request of its own (same citizen, same channel);
    /// the old request records where it went.
    Split {
        number: String,
        /// The message: its id, or its position in `mcu show`'s thread (1 = the first).
        #[arg(long, value_name = "ID|N")]
        message: String,
    },
    /// Import requests from another system (JSON Lines; `-` reads stdin); all or nothing.
    Import { file: PathBuf },
    /// Print realistic synthetic requests as import lines (for trying mcu and benchmarks).
    Generate {
        #[arg(long, default_value_t = 100)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Spread receipt times over this many days before now.
        #[arg(long, default_value_t = 1.0)]
        days: f64,
    },
    /// Show alarms operators must see (a second poller on the bot token, a revoked token).
    Alarms {
        /// Mark them all as seen and handled.
        #[arg(long)]
        clear: bool,
    },
    /// Run the channels (Telegram) without the screen: poll, store, send replies.
    Gateway {
        /// Stop after this many seconds (default: until Ctrl-C).
        #[arg(long = "for", value_name = "SECS")]
        duration: Option<f64>,
    },
    /// One mail from standard input into `[smtp] inbox_maildir`, where the gateway reads
    /// departments' replies: for a mail server's pipe or fetchmail's `mda`. Exit 75: not
    /// delivered, keep it and try again; 65: the mail is too big.
    MailIn,
    /// A local fake of the Telegram Bot API fed by simulated citizens (for tests and demos).
    Simulate {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Everything at once on a throw-away database: simulated citizens, the gateway, the console.
    Demo(DemoArgs),
    /// Team mode: push this console's actions to the server and pull everyone else's, once.
    /// Exit 0: all taken; 3: the server refused some (printed, with the current values);
    /// 4: the server can't be reached (nothing is lost: the next sync sends them).
    Sync,
    /// The ready replies: shipped (`assets/templates.toml`) and the center's own
    /// (`[[templates]]`), each with its shortcut for `::shortcut` in the console and
    /// `mcu reply --template`.
    Templates,
    /// The macros: shipped (`assets/macros.toml`) and the center's own (`[[macros]]`), each
    /// with its id, its key in the console and what it does.
    Macros,
    /// Run a macro on a request: its steps (topic, department, priority, forward, a ready reply,
    /// close) in one go, all or none. A step the request refuses stops it before anything is
    /// done, and says which.
    Macro {
        /// The macro's id (`mcu macros` lists them).
        id: String,
        number: String,
    },
    /// A period's summary: totals by channel, topic, department and operator, first-response
    /// times, the share within target, out of scope, busiest streets, requests still open.
    Report(ReportArgs),
    /// Export every request (csv or jsonl) to stdout or a file.
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// What this shift hands to the next: open requests, those already late, those falling
    /// due within the next shift, and the notes written on open requests during this one.
    Handover {
        /// Length of a shift in hours: the next one ends this long from now, and this one
        /// began this long ago. Default: the config's `[ui] shift_hours` (12).
        #[arg(long, value_name = "HOURS")]
        hours: Option<f64>,
    },
    /// The team server: consoles push and pull through it (`--db` is the server's store).
    /// Plain HTTP: put nginx or caddy in front for TLS. `mcu serve backup --out FILE` copies
    /// a SQLite store while it serves.
    #[command(args_conflicts_with_subcommands = true)]
    Serve {
        #[command(subcommand)]
        command: Option<ServeCommand>,
        /// Where to listen; port 0 takes a free one. The address is the first stdout line.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Run these channels' gateways here (team mode): `telegram`, `vk`, `platform` (the
        /// feedback platform over Open311), each from its `[channels.*]` section, and `email`
        /// (departments reached by mail, `[smtp]`). Only one
        /// server of a team gets the lease of each account; the others stand by and take over
        /// if it stops.
        #[arg(long, value_delimiter = ',', value_name = "CHANNELS")]
        channels: Vec<String>,
        /// The gateway's working file (default: next to a SQLite store, or in the data dir).
        #[arg(long, value_name = "FILE")]
        gateway_db: Option<PathBuf>,
        /// Seconds a gateway's lease lasts without renewal: how long a stopped server holds
        /// up the channel before another takes over.
        #[arg(long, default_value_t = 15.0, value_name = "SECS")]
        lease_secs: f64,
        /// The console file new consoles start from, kept in step with the store (default:
        /// next to a SQLite store, or in the data dir).
        #[arg(long, value_name = "FILE")]
        seed_db: Option<PathBuf>,
        /// Keep no such file: new consoles pull the whole history row by row.
        #[arg(long, conflicts_with = "seed_db")]
        no_seed: bool,
        /// Once, at the first start after the store was restored from a backup: every
        /// console then pulls everything again, sends back what the backup lacks of its work,
        /// and drops what the server no longer has.
        #[arg(long)]
        after_restore: bool,
        /// Seconds between compactions of the change log (a change a later one of the same row
        /// supersedes goes; consoles behind pull the current rows all the same); 0: never.
        #[arg(long, default_value_t = 3600.0, value_name = "SECS")]
        compact_every_secs: f64,
    },
    /// The views by number, as the console has them: built-in 1…7, then the team's shared
    /// views and your own; `save`, `rm`, `share` and `unshare` one (`mcu list --view NAME`).
    Views {
        #[command(subcommand)]
        command: Option<super::views::ViewsCommand>,
    },
    /// Team mode: who is on shift in this scope, and how the server's channels are. `on` and
    /// `off` mark someone (default: you): a shift lead marks anyone, an operator themself.
    /// Exit 3: the server refused; 4: it can't be reached.
    Shift {
        #[command(subcommand)]
        command: Option<ShiftCommand>,
    },
    /// Rows of this file that no longer read, moved aside so lists work again, and the
    /// documents a sync set aside: each with why. Nothing else is changed. With `--server`,
    /// `--db` is the server's store: its request documents no program can read are moved
    /// aside (kept with why) with their rows.
    Repair {
        #[arg(long)]
        server: bool,
    },
    /// Suggested topics and departments: the model this file keeps, training it, and how good
    /// it is on labelled requests (docs/triage.md).
    Triage {
        #[command(subcommand)]
        command: TriageCommand,
    },
    /// Open incidents and candidate groups: open requests from at least three citizens about
    /// one thing at one place within two days (`[incidents]`; docs/incidents.md).
    Incidents,
    /// Act on an incident: confirm or dismiss a candidate group, add or remove members, answer
    /// every member at once, forward, close. ID is an incident's number or id, or for a
    /// candidate its id or any member's number.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// The team server's accounts (`--db` is the server's store).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Shell completions, printed to stdout: `mcu completions bash >
    /// /usr/share/bash-completion/completions/mcu` (docs/install.md).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual pages (roff): `mcu`'s own to stdout, or with `--dir` one page per command
    /// written into DIR (`mcu.1`, `mcu-serve.1`, …) for /usr/local/share/man/man1.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A view's requests, as the console lists them: a saved view's name, a built-in one's
    /// (`at_risk`), or its number (`mcu views`); the options below narrow it further.
    #[arg(long, value_name = "NAME")]
    pub view: Option<String>,
    /// new | in_work | waiting_department | answered | closed (repeatable).
    #[arg(long)]
    pub status: Vec<String>,
    /// Only open requests (not closed).
    #[arg(long)]
    pub open: bool,
    #[arg(long)]
    pub topic: Option<String>,
    #[arg(long)]
    pub department: Option<String>,
    /// Only open untagged requests triage suggests this topic for.
    #[arg(long, value_name = "TOPIC")]
    pub suggested: Option<String>,
    #[arg(long)]
    pub channel: Option<String>,
    #[arg(long, conflicts_with_all = ["mine", "unassigned"])]
    pub assignee: Option<String>,
    /// Requests assigned to me ([operator] name).
    #[arg(long)]
    pub mine: bool,
    #[arg(long)]
    pub unassigned: bool,
    /// Only requests whose active clock has run out.
    #[arg(long, conflicts_with = "at_risk")]
    pub breached: bool,
    /// Only requests at risk of breaching (not yet breached).
    #[arg(long)]
    pub at_risk: bool,
    /// Only requests whose latest reply the citizen did not get (delivery failed or unknown).
    #[arg(long)]
    pub undelivered: bool,
    #[arg(long)]
    pub tag: Option<String>,
    /// Full-text search; finds Russian word forms and prefixes.
    #[arg(long)]
    pub search: Option<String>,
    /// Default: time-left, or the view's.
    #[arg(long, value_enum)]
    pub sort: Option<SortArg>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after this cursor (printed by the previous page).
    #[arg(long)]
    pub after: Option<String>,
    /// Every matching request as CSV, one row each (number, received, channel, topic,
    /// department, status, operator, first response, within target, address, text); all
    /// pages, so --limit and --after do not apply.
    #[arg(long, conflicts_with_all = ["after"])]
    pub csv: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Csv,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A calendar month in the center's time zone: 2026-10.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub month: Option<String>,
    /// The first day (YYYY-MM-DD, local), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// The last day (YYYY-MM-DD, local), inclusive; default today.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Write here instead of stdout (required for xlsx).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// One row per request of the period instead of the summary (md, csv); XLSX always has
    /// this sheet.
    #[arg(long)]
    pub requests: bool,
    /// One department's own report: only the requests given to it and those it gave back
    /// (a catalog department's id, e.g. city_economy).
    #[arg(long, value_name = "ID")]
    pub department: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    TimeLeft,
    Received,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    #[arg(long)]
    pub text: String,
    /// telegram | vk | pos | open311 | phone | email | manual
    #[arg(long, default_value = "phone")]
    pub channel: String,
    #[arg(long)]
    pub citizen: Option<String>,
    /// The citizen's phone in any usual form (+7 918 111-22-33, 89181112233): their other
    /// requests are found by it.
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub topic: Option<String>,
    #[arg(long)]
    pub department: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    pub number: String,
    #[arg(long)]
    pub topic: Option<String>,
    #[arg(long)]
    pub department: Option<String>,
    /// low | normal | high | urgent
    #[arg(long)]
    pub priority: Option<String>,
    /// Add a free tag (repeatable).
    #[arg(long = "add", value_name = "TAG")]
    pub add: Vec<String>,
    /// Remove a free tag (repeatable).
    #[arg(long = "remove", value_name = "TAG")]
    pub remove: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct SimArgs {
    /// New citizen messages per minute.
    #[arg(long, default_value_t = 6.0)]
    pub per_minute: f64,
    /// Citizen messages queued at once at start.
    #[arg(long, default_value_t = 3)]
    pub burst: usize,
    /// Stop generating after this many citizen messages.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Share of API calls answered 5xx (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Share of sendMessage calls answered 429 with retry_after (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub rate_limit_rate: f64,
    /// Share of sendMessage calls delivered but answered too late (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub ambiguous_rate: f64,
    /// Share of generated updates that are malformed (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub malformed_rate: f64,
    /// Added to every response, in milliseconds.
    #[arg(long = "latency", default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The bot token the simulator accepts.
    #[arg(long, default_value = "123456:TEST")]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// No screen: one line per event (for scripts and CI).
    #[arg(long)]
    pub headless: bool,
    /// The simulator's address (default: any free port on 127.0.0.1; printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub sim_listen: std::net::SocketAddr,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long = "for", value_name = "SECS")]
    pub duration: Option<f64>,
    /// The channels to run, comma-separated: telegram, vk, open311 (the regional feedback
    /// platform over Open311). The simulator plays each of them and its citizens write
    /// through all of them.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CHANNELS",
        default_value = "telegram"
    )]
    pub channels: Vec<String>,
    #[command(flatten)]
    pub sim: SimArgs,
}
