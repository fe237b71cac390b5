//! What a server backend is and speaks: the errors, accounts and roles, and the `ServerTx`
//! statements each store (SQLite, PostgreSQL) implements. Apart from the rules in `engine.rs`
//! so a backend's author reads one contract, not the rules around it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::wire::sync::{Doc, Entity, MutationResult, RequestDoc, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage: {0}")]
    Storage(String),
    /// The server has no record of this client although it has pushed before (the server
    /// was restored): the client takes a new id and pushes its journal again.
    #[error("client_unknown")]
    ClientUnknown,
    #[error("schema version {0} is not supported (this server speaks {SCHEMA_VERSION})")]
    Schema(u32),
    #[error("client {0} belongs to another operator or scope")]
    Forbidden(Uuid),
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The account may read but not change anything.
    #[error("{0} has a read-only account")]
    ReadOnly(String),
    /// A gateway's lease moved to another holder: what it writes now would race the new one.
    #[error("lease `{0}` is held by another gateway")]
    Fenced(String),
    /// The store can never keep what this action brings (PostgreSQL's data exceptions, a
    /// value too big for SQLite): refused like a rule, so the client's queue moves on,
    /// never retried. The store's own words stay in the server's log.
    #[error("the store can't keep this: {0}")]
    Unstorable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Lead,
    Admin,
    /// Pulls and watches; every push is refused (a console started `--readonly` by choice is
    /// the console's business, this is the server's).
    Viewer,
    /// The server's own channel gateway: records citizens' messages and nothing else a
    /// console could. It has no token; it runs inside `mcu serve`.
    Gateway,
    /// Another system (a city portal, an app) speaking Open311 GeoReport v2: its key opens
    /// only `/open311/` routes, never the consoles' sync (`server::open311`).
    Integration,
    /// A city department working the requests forwarded to it (#21): it pulls only those,
    /// without the citizen's contacts unless the city allows, and pushes only its answers,
    /// progress notes and returns (`engine::department`).
    Department,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "operator" => Ok(Role::Operator),
            "lead" => Ok(Role::Lead),
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            "integration" => Ok(Role::Integration),
            "department" => Ok(Role::Department),
            _ => Err(format!(
                "role `{s}`: operator, lead, admin, viewer, integration or department"
            )),
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Lead => "lead",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
            Role::Gateway => "gateway",
            Role::Integration => "integration",
            Role::Department => "department",
        }
    }
}

/// A role as stored: anything else means the row was written by something else.
pub fn stored_role(name: &str, role: &str) -> Result<Role, ServerError> {
    role.parse()
        .map_err(|e| ServerError::Corrupt(format!("account `{name}`: {e}")))
}

/// Who is pushing, from the token; the mutation's own `actor` is not trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    /// A department account's reach, put here by the gate from the account's access and the
    /// server's settings; `None` for every other role.
    pub departments: Option<DepartmentReach>,
}

/// What a department account reaches: requests forwarded to these catalog departments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DepartmentReach {
    pub departments: Vec<String>,
    /// `[departments] show_citizen`: the citizen's name, phone and channel, and the thread of
    /// messages with them, reach the department too. Off by default.
    pub show_citizen: bool,
}

/// A server account as `mcu user list` shows it; the token's hash never leaves the store.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    pub last_seen: Option<DateTime<Utc>>,
    /// The scopes (cities) it reaches; an admin reaches every one.
    pub scopes: Vec<String>,
    /// The departments a department account works for (empty for the other roles).
    pub departments: Vec<String>,
}

/// What an account may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub disabled: bool,
    pub scopes: Vec<String>,
    pub departments: Vec<String>,
}

/// `mcu user disable|enable|token|role`: what to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub token_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRow {
    pub client_id: Uuid,
    pub scope_id: String,
    pub user: String,
    pub last_mutation_id: i64,
}

/// The accounts a backend keeps (`server::accounts`): tokens by their hash, roles, and what
/// each reaches.
pub trait AccountTx {
    /// Creates an account; false (and nothing written) when the name is taken.
    fn add_account(
        &mut self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ServerError>;
    /// Who holds the token with this hash (`accounts::hash_token`), if anyone.
    fn account_by_token_hash(&mut self, token_hash: &str)
    -> Result<Option<Principal>, ServerError>;
    /// Every account, by name.
    fn accounts(&mut self) -> Result<Vec<Account>, ServerError>;
    /// What the account may reach, for the gate every `/v1` request passes (`http.rs`).
    fn account_access(&mut self, name: &str) -> Result<Option<Access>, ServerError>;
    /// Lets the account reach `scope` (again: no change).
    fn grant_scope(&mut self, name: &str, scope: &str) -> Result<(), ServerError>;
    /// Binds a department account to a catalog department (again: no change).
    fn grant_department(&mut self, name: &str, department: &str) -> Result<(), ServerError>;
    /// Changes what is given; false when there is no such account.
    fn update_account(&mut self, name: &str, u: &AccountUpdate) -> Result<bool, ServerError>;
    /// When the account was last seen (the gate throttles these).
    fn touch_account(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), ServerError>;
}

/// A backend's statements inside one open transaction. Rows are locked where the backend
/// can (`FOR UPDATE`); SQLite has one writer anyway.
pub trait ServerTx: AccountTx {
    /// The scope's seq and epoch, created on first use.
    fn scope(&mut self, scope: &str) -> Result<(i64, Uuid), ServerError>;
    fn lock_client(&mut self, id: Uuid) -> Result<Option<ClientRow>, ServerError>;
    /// The client without taking its lock: a pull reads in its snapshot and must neither wait
    /// for nor fail on a push of the same client committing meanwhile.
    fn read_client(&mut self, id: Uuid) -> Result<Option<ClientRow>, ServerError>;
    fn save_client(&mut self, c: &ClientRow, now: DateTime<Utc>) -> Result<(), ServerError>;
    fn processed(&mut self, uuid: Uuid) -> Result<Option<MutationResult>, ServerError>;
    fn record_processed(
        &mut self,
        client: Uuid,
        r: &MutationResult,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError>;
    fn load_request(&mut self, id: Uuid) -> Result<Option<RequestDoc>, ServerError>;
    /// The number of a request already stored under this channel id.
    fn find_external(
        &mut self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<String>, ServerError>;
    fn next_number(&mut self, scope: &str, year: i32) -> Result<i64, ServerError>;
    /// Advances the scope's counter by `n` and returns the last of the new seqs. Taken as
    /// late as possible: in PostgreSQL it locks the scope's row until commit, which is what
    /// makes seq order equal commit order.
    fn bump_seq(&mut self, scope: &str, n: i64) -> Result<i64, ServerError>;
    fn save_request(&mut self, scope: &str, doc: &RequestDoc) -> Result<(), ServerError>;
    /// Appends a message, note or event; a repeat of the same id changes nothing.
    fn append(
        &mut self,
        scope: &str,
        entity: Entity,
        id: &str,
        request_id: Uuid,
        value: &Value,
    ) -> Result<(), ServerError>;
    fn log_change(
        &mut self,
        scope: &str,
        seq: i64,
        entity: Entity,
        id: &str,
    ) -> Result<(), ServerError>;
    fn last_mutation_id(&mut self, client: Uuid) -> Result<i64, ServerError>;
    /// Changes after `seq`, oldest first.
    fn changes_since(
        &mut self,
        scope: &str,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Entity, String)>, ServerError>;
    /// The current documents of these entities of one kind, in one statement (a pull's page
    /// asks once per kind, not once per row); ids without a row are left out.
    fn docs(&mut self, entity: Entity, ids: &[String]) -> Result<Vec<(String, Doc)>, ServerError>;
    /// One current document as a tree, for the rules that edit it (delivery states) and the
    /// checker; the pull path passes documents through as text (`docs`).
    fn get(&mut self, entity: Entity, id: &str) -> Result<Option<Value>, ServerError> {
        let Some((_, doc)) = self.docs(entity, &[id.to_string()])?.into_iter().next() else {
            return Ok(None);
        };
        doc.parse()
            .map(Some)
            .map_err(|e| ServerError::Corrupt(format!("{} {id}: {e}", entity.as_str())))
    }
    /// Drops every logged change of the scope a later change of the same row supersedes, and
    /// records the head as the compaction horizon. Returns how many went.
    fn compact_log(&mut self, scope: &str) -> Result<usize, ServerError>;
    /// The scope's compaction horizon (0: never compacted).
    fn compacted_to(&mut self, scope: &str) -> Result<i64, ServerError>;
    /// Every request document of the scope, as stored text (for `repair`, which reads them).
    fn request_texts(&mut self, scope: &str) -> Result<Vec<(String, String)>, ServerError>;
    /// Removes a request, every row filed under it, and their logged changes.
    fn drop_request(&mut self, scope: &str, id: &str) -> Result<(), ServerError>;
    /// The request each of these messages, notes or events is filed under.
    fn parents(&mut self, entity: Entity, ids: &[String]) -> Result<Vec<String>, ServerError>;
    /// Overwrites a message (its delivery state moved); the caller logs the change.
    fn replace_row(
        &mut self,
        scope: &str,
        entity: Entity,
        id: &str,
        request_id: Uuid,
        value: &Value,
    ) -> Result<(), ServerError>;
    /// Small shared documents by (kind, name): the gateways' state (`fence.rs`) and the
    /// shift marks (`team.rs`), locked for the transaction where it can be.
    fn gw_get(&mut self, kind: &str, name: &str) -> Result<Option<Value>, ServerError>;
    fn gw_put(&mut self, kind: &str, name: &str, doc: &Value) -> Result<(), ServerError>;
    fn gw_del(&mut self, kind: &str, name: &str) -> Result<(), ServerError>;
    fn gw_list(&mut self, kind: &str) -> Result<Vec<(String, Value)>, ServerError>;
    /// Every scope's latest seq: pokes for changes made by other replicas or in-process.
    fn scope_seqs(&mut self) -> Result<Vec<(String, i64)>, ServerError>;
    /// A new epoch for every scope (after a restore from a backup): every console's next pull
    /// is a reset. How many scopes.
    fn new_epochs(&mut self) -> Result<usize, ServerError>;
    /// Open311's reads (`server::open311`): the requests of one channel in a scope received
    /// in `[from, to)` that carry an external id (all a channel files do), newest first, at
    /// most `limit`.
    fn channel_requests(
        &mut self,
        scope: &str,
        channel: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::domain::Request>, ServerError>;
    /// A request by its human number within a scope, without locking it.
    fn request_by_number(
        &mut self,
        scope: &str,
        number: &str,
    ) -> Result<Option<crate::domain::Request>, ServerError>;
    /// The messages, notes or events filed under one request, as stored.
    fn rows_of(&mut self, entity: Entity, request_id: Uuid) -> Result<Vec<Value>, ServerError>;
    /// Rows that break the store's invariants (`invariants::QUERIES`, plus the backend's own
    /// integrity check), one line each; empty when all hold. For the checker, not the rules.
    fn invariant_violations(&mut self) -> Result<Vec<String>, ServerError>;
}
