//! `mcu serve`: the team's authoritative store and the sync endpoints. The rules live once in
//! `engine`; `sqlite` and `pg` are the two stores that keep them.

pub mod contract;
pub mod engine;
pub mod local;
pub mod pg;
pub mod pg_cluster;
pub mod sqlite;
