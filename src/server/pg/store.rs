//! The PostgreSQL store's pool: connected with a guard against sessions frozen inside a
//! transaction, brought to the schema by its migrations (one replica at a time), and each
//! transaction handed to the rules as a `ServerTx`.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::runtime::Handle;
use tokio_postgres::{IsolationLevel, NoTls};

use super::{Tx, err, pg};
use crate::server::engine::{ServerError, ServerTx, Transactional};

/// Schema versions in order; applied once each, recorded in `schema_version`.
const MIGRATIONS: &[&str] = &[
    include_str!("../schema_pg.sql"),
    include_str!("../schema_pg_2.sql"),
    include_str!("../schema_pg_3.sql"),
    include_str!("../schema_pg_4.sql"),
    include_str!("../schema_pg_5.sql"),
];

/// The schema version this program brings a store to (a store newer than it is refused).
pub const STORE_VERSION: usize = MIGRATIONS.len();

pub struct PgStore {
    pool: Pool,
    rt: Handle,
}

impl PgStore {
    /// Connects (`url` in libpq form: `postgres://…` or `host=… dbname=…`) and brings the
    /// schema up to date. Call from inside a tokio runtime.
    pub async fn connect(url: &str) -> Result<PgStore, ServerError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(err)?;
        // A server frozen inside a transaction (a paused VM, SIGSTOP) would hold its row locks
        // — the scope's counter among them — and stall every other server's pushes and a
        // standby's takeover until it woke. Our transactions never wait on anything outside
        // the database, so a session idle inside one this long is such a server: PostgreSQL
        // ends it, and the pool opens a new connection when it wakes. Options given in the
        // URL are left as they are.
        if config.get_options().is_none() {
            config.options("-c idle_in_transaction_session_timeout=10s");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(16).build().map_err(err)?;
        let store = PgStore {
            pool,
            rt: Handle::current(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), ServerError> {
        let mut client = self.pool.get().await.map_err(err)?;
        let tx = client.transaction().await.map_err(err)?;
        // One migrator at a time when several replicas start together.
        tx.execute("SELECT pg_advisory_xact_lock(7243001)", &[])
            .await
            .map_err(err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")
            .await
            .map_err(err)?;
        let done: i64 = tx
            .query_one("SELECT count(*) FROM schema_version", &[])
            .await
            .map_err(err)?
            .get(0);
        if done as usize > MIGRATIONS.len() {
            return Err(ServerError::Storage(format!(
                "the database has schema version {done}, newer than this server's {}",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            tx.batch_execute(sql).await.map_err(err)?;
            tx.execute(
                "INSERT INTO schema_version(version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    fn run<R>(
        &self,
        isolation: IsolationLevel,
        read_only: bool,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        let rt = self.rt.clone();
        let mut client = rt.block_on(self.pool.get()).map_err(err)?;
        let tx = rt
            .block_on(
                client
                    .build_transaction()
                    .isolation_level(isolation)
                    .read_only(read_only)
                    .start(),
            )
            .map_err(err)?;
        let mut t = Tx { tx, rt: rt.clone() };
        let r = f(&mut t)?;
        rt.block_on(t.tx.commit()).map_err(pg)?;
        Ok(r)
    }
}

impl Transactional for PgStore {
    fn in_tx<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        // Rows are locked explicitly (FOR UPDATE, the scope's counter), so read committed
        // is enough and never fails a push for a serialization conflict.
        self.run(IsolationLevel::ReadCommitted, false, f)
    }

    fn in_snapshot<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        // A pull reads the change log and the client's last mutation id in one snapshot.
        // Not read-only: a scope's first pull creates its row.
        self.run(IsolationLevel::RepeatableRead, false, f)
    }
}
