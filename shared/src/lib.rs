//! Partnerhook: a self-hosted backend for partner (affiliate) programs on AWS Lambda.
//!
//! The crate is built in layers; a file imports only from layers below it:
//! - [`domain`] (with [`crypto`]): records, values and pure rules;
//! - [`store`], [`queue`], [`outbound`]: ports and their adapters (DynamoDB/SQLite, SQS/in
//!   process, the postback HTTP client); [`repo`]: typed access over the store; [`error`];
//! - [`app`]: what every handler holds; [`usecases`]: ledger, customers, partners, commissions,
//!   postbacks, programs, the sweeper;
//! - [`sources`]: the custom webhook, the payment providers and incoming webhooks;
//! - [`http`]: routers, extractors, the ingest path and the one error-to-answer mapping;
//! - [`runtime`]: Lambda set-up, the SQS batch runner and the local server.
//!
//! docs/ARCHITECTURE.md walks through it.

pub mod app;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod http;
pub mod outbound;
pub mod queue;
pub mod repo;
pub mod runtime;
pub mod sources;
pub mod store;
pub mod usecases;
