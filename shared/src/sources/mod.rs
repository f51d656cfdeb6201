//! The sources of webhooks. Each module holds only what is its own: its authenticity scheme and
//! its payload shapes. Body reading, the [`step::Source`] contract and the shared checks of
//! providers' schemes are here too; the ingest path itself (inbox, log line, answer) is HTTP's.

pub mod authenticity;
pub mod body;
pub mod custom;
pub mod incoming;
pub mod providers;
pub mod replay;
pub mod step;
