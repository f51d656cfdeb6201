//! The custom webhook's seed payloads and its signature.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

pub const SEED: &str = include_str!("../../fixtures/custom/seed-transaction-created.json");
pub const SEED_REFUND: &str = include_str!("../../fixtures/custom/seed-transaction-refunded.json");

/// The seed sale with `changes` applied: a null removes the field.
pub fn seed_with(changes: Value) -> String {
    let mut body: Value = serde_json::from_str(SEED).expect("seed fixture");
    if let (Some(target), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    body.to_string()
}

/// The custom webhook's `x-webhook-signature` of `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
