//! The deterministic simulation of Partnerhook's ledger (see docs/ARCHITECTURE.md): the real
//! library code, single-threaded and seeded, over a store and a queue that behave like DynamoDB
//! and SQS at their worst, fed randomized provider histories, and held against a reference
//! model once each history quiesces. A failing seed replays exactly: `./infra/simulate.sh
//! --seed S`.

pub mod actions;
pub mod check;
pub mod driver;
pub mod lifecycle;
pub mod model;
pub mod queue;
pub mod refunds;
pub mod requests;
pub mod run;
pub mod scenario;
pub mod senders;
pub mod setup;
pub mod store;
pub mod world;

pub use driver::Report;
pub use run::{describe, run_seed};

/// Runs a seed on a fresh single-threaded runtime, so nothing but the seed decides the order.
pub fn run_blocking(seed: u64, faults: bool) -> Result<Report, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(run_seed(seed, faults))
}
