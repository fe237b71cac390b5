//! Ids named by what they stand for rather than drawn at random: two writers deciding the same
//! thing (two operators confirming one group, two gateways reminding one citizen, a retried
//! push) name the same mutation and message, so it happens once.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The id `parts` name: the first 16 bytes of their SHA-256, in order.
pub fn named(parts: &[&[u8]]) -> Uuid {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let d = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
