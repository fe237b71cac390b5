//! `mcu serve`: the team's authoritative store and the sync endpoints. The rules live once in
//! `engine`; `sqlite` and `pg` are the two stores that keep them; `http` carries them over
//! the network to the accounts in `accounts`; `url` picks the store from `--db`; `presence`
//! keeps who is on which request, in memory; `team` who is on shift and how the channels are;
//! `views` the views shift leads share with the team; `backup` copies a SQLite store while it serves.

pub mod accounts;
pub mod assign;
pub mod backup;
pub mod channel_metrics;
pub mod engine;
pub mod fence;
mod files;
pub mod gateway_link;
pub mod http;
pub mod invariants;
pub mod local;
pub mod open311;
pub mod pg;
pub mod presence;
pub mod seed;
pub mod sqlite;
pub mod team;
pub mod url;
pub mod views;

#[cfg(test)]
mod gateway_link_tests;
