//! The PostgreSQL store keeps the same contract as the SQLite one, on a real PostgreSQL
//! started for this test process (`testkit::pg_cluster`; it fails, never skips, without one).

use mcu_desk::server::pg::PgStore;
use mcu_desk::testkit::contract;
use mcu_desk::testkit::pg_cluster::PgCluster;

#[test]
fn the_postgres_store_keeps_the_contract() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = PgCluster::shared();
    contract::all(|| {
        let url = rt
            .block_on(cluster.fresh_database())
            .expect("a fresh database");
        rt.block_on(PgStore::connect(&url))
            .expect("connect and migrate")
    });
}

#[test]
fn a_second_server_on_the_same_database_finds_the_schema_in_place() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt
        .block_on(PgCluster::shared().fresh_database())
        .expect("a fresh database");
    // Two replicas starting together: the advisory lock makes one migrate, the other wait.
    let (a, b) =
        rt.block_on(async { tokio::join!(PgStore::connect(&url), PgStore::connect(&url)) });
    assert!(a.is_ok() && b.is_ok());
}
