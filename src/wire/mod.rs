//! The floor just above `domain`: words two layers share without one owning the other. The
//! sync protocol's shapes (console ⇄ server), a gateway's fences (channels ⇄ server), the
//! intake events (channels → store), page limits and reply splitting. Only `domain`, `lang`,
//! `sanitize` and external crates are imported here, so every layer above may use it and the
//! folders keep saying who may use whom.

pub mod fence;
pub mod intake;
pub mod limits;
pub mod mail;
pub mod presence;
pub mod split;
pub mod sync;
pub mod team;
