//! Primitives beneath every layer: HMAC-SHA256 with constant-time checks, and random tokens
//! with the digests API keys are stored as.

pub mod signature;
pub mod token;
