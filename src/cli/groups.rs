//! The command groups under one word (`mcu serve …`, `mcu incident …`, `mcu triage …`,
//! `mcu shift …`, `mcu user …`), apart from `args.rs`'s top level so each file stays
//! readable; part of the same public interface, so names and shapes stay stable.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// A consistent copy of a running server's SQLite store, taken online (SQLite's backup
    /// API): the server keeps serving. Written beside FILE first and renamed, so FILE is
    /// whole or absent; an existing FILE is refused. PostgreSQL: `pg_dump` (docs/install.md).
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Make a candidate group one incident (its members join it).
    Confirm {
        id: String,
        #[arg(long)]
        title: Option<String>,
    },
    /// A candidate group is not one incident: it does not come back.
    Dismiss { id: String },
    /// Rename an incident.
    Title { id: String, title: String },
    /// Add a request to an incident (moving it from another incident if it was in one).
    Add { id: String, number: String },
    /// Take a request out of an incident.
    Remove { id: String, number: String },
    /// One answer to every open member, on each member's own channel, with each member's own
    /// variables (`{number}`, `{citizen}`, …).
    Reply {
        id: String,
        #[arg(long)]
        text: Option<String>,
        /// A ready reply's shortcut (`mcu templates`), the text after it.
        #[arg(long)]
        template: Option<String>,
    },
    /// Forward the incident and its open members to a department, each once.
    Forward {
        id: String,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Close the incident and its open members, answering each first when `--text` is given.
    Close {
        id: String,
        /// resolved | duplicate | out_of_scope | spam | no_reply_needed
        #[arg(long)]
        reason: String,
        #[arg(long)]
        text: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TriageCommand {
    /// The model this file uses: how it suggests, its version, the labels it learnt from and
    /// when.
    Status,
    /// Train now on this file's closed requests (it also retrains by itself).
    Train,
    /// Train on labelled requests and score the suggestions on others. Files hold a JSON object
    /// a line with `text`, `topic` (a catalog id) and `department`; other fields are ignored.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled requests to learn from.
    #[arg(long, value_name = "FILE", conflicts_with = "holdout_days")]
    pub train: Option<PathBuf>,
    /// Labelled requests to score on; without it, `--folds` cross-validates `--train`.
    #[arg(long, value_name = "FILE", requires = "train")]
    pub test: Option<PathBuf>,
    /// Cross-validation folds when there is no `--test`.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=50))]
    pub folds: u16,
    /// Instead of files: this file's closed requests, trained on those closed before the last
    /// DAYS days and scored on those closed within them.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub holdout_days: Option<u16>,
    /// The method: what this history would get (`auto`), or one of them by name; `prefix-bayes`
    /// is the baseline (multinomial naive Bayes on 5-letter prefixes).
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Auto,
    Svm,
    Bayes,
    PrefixBayes,
    Keywords,
}

#[derive(Debug, Subcommand)]
pub enum ShiftCommand {
    /// Mark on shift: offered first when a lead assigns.
    On { user: Option<String> },
    /// Mark off shift: still listed, said to be off shift.
    Off { user: Option<String> },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print its token, once (only a hash is kept).
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "operator")]
        role: RoleArg,
        /// A scope (city) it may reach; repeat for several. Default: the config's
        /// `[server] scope`. An admin reaches every scope.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// For `--role department`: a catalog department (id or name) whose forwarded
        /// requests it works; repeat for several. Required for that role, refused for others.
        #[arg(long = "department", value_name = "DEPARTMENT")]
        departments: Vec<String>,
    },
    /// Accounts with their roles, scopes, state and when last seen (never tokens).
    List,
    /// Refuse the account from now on: its token opens nothing, its consoles are told so.
    Disable { name: String },
    /// Let a disabled account in again, with the token it had.
    Enable { name: String },
    /// A new token for the account, printed once; the old one is refused at once.
    Token { name: String },
    /// Change the account's role.
    Role {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Let the account reach these scopes (cities), or a department account these
    /// departments, too.
    Grant {
        name: String,
        #[arg(
            long = "scope",
            value_name = "SCOPE",
            required_unless_present = "departments"
        )]
        scopes: Vec<String>,
        #[arg(long = "department", value_name = "DEPARTMENT")]
        departments: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Operator,
    Lead,
    Admin,
    /// Reads everything, changes nothing (a wall display, an observer).
    Viewer,
    /// Another system's Open311 key: files and reads requests on `/open311/` only.
    Integration,
    /// A city department: sees only the requests forwarded to its departments, records its
    /// answers and returns (needs `--department`).
    Department,
}

impl From<RoleArg> for crate::server::engine::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Operator => Self::Operator,
            RoleArg::Lead => Self::Lead,
            RoleArg::Admin => Self::Admin,
            RoleArg::Department => Self::Department,
            RoleArg::Viewer => Self::Viewer,
            RoleArg::Integration => Self::Integration,
        }
    }
}
