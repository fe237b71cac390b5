//! The reliability scenarios (docs/sync-protocol.md) end to end, each on the SQLite and PostgreSQL
//! store and each ending with the checker (I1–I5): `kill` scenario 1 (real `mcu` processes
//! killed mid-edit), `lossy` 4 (answers lost through a faulty proxy at ten consoles), `retry` 7 (the sync loop on a paused clock), `restore` 12 (a console file
//! restored from a backup), `busy` 26 (operator and sync writes on one file), `server_kill` 5
//! (the server SIGKILLed between commit and answer), `upgrade` 28 (actions queued under the
//! previous schema), `disk_full` 27 (writes and a pull past a file-size limit), `compaction` 14 (offline across
//! a compacted change log), `incidents` (mass incidents confirmed, dismissed and merged
//! by two consoles at once), `chaos` 25 (network chaos with killed and paused consoles), `views` (a
//! lead's shared views reaching every console); and `props`, scenario 30 scaled down:
//! random consoles through a faulty link; `backup` 13 as an IT department drills it (a backup
//! taken while serving, `mcu serve backup` or `pg_dump`, restored, `--after-restore`).

#[path = "../common/mod.rs"]
mod common;

mod backup;
mod busy;
mod chaos;
mod compaction;
mod disk_full;
mod incidents;
mod kill;
mod lossy;
mod props;
mod proxy;
mod restore;
mod retry;
mod seed;
mod server_kill;
mod support;
mod upgrade;
mod views;
