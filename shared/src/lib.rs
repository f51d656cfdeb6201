//! Partnerhook: a self-hosted backend for partner (affiliate) programs on AWS Lambda.
//!
//! Webhooks come in through [`webhook::ingest`] and a source module under [`providers`]; the
//! [`ledger`] records transactions and refunds exactly once through the [`store`] port; the
//! [`queue`] port hands commission jobs to the [`worker`], which applies the [`commission`]
//! plan. [`http`] holds the routers that both the Lambdas and the [`local`] server run.
//! docs/ARCHITECTURE.md walks through it.

pub mod api;
pub mod app;
pub mod authenticity;
pub mod commission;
pub mod customers;
pub mod domain;
pub mod error;
pub mod http;
pub mod inbox;
pub mod incoming;
pub mod input;
pub mod ledger;
#[cfg(feature = "embedded")]
pub mod local;
pub mod money;
pub mod partners;
pub mod postback;
pub mod program;
pub mod providers;
pub mod queue;
pub mod repo;
pub mod runtime;
pub mod signature;
pub mod store;
pub mod sweeper;
pub mod token;
pub mod webhook;
pub mod worker;
