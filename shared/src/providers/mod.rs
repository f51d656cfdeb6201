//! The sources of webhooks: each module holds only what is its own (authenticity scheme,
//! payload shape); the ingest path, ledger and inbox are shared.

pub mod custom;
