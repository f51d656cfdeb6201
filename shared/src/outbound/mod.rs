//! The outbound HTTP adapter of postbacks: the client, the guard that keeps it off internal
//! addresses (SSRF), and Standard Webhooks signing.

pub mod client;
pub mod signing;
pub mod ssrf;
