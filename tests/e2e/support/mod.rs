//! Shared set-up of the end-to-end tests: an [`Env`] per test on either back end (DynamoDB
//! Local + moto SQS, or the embedded store + an in-memory queue), Lambda-shaped requests, the
//! workers fed from the queue, a loopback postback receiver and the partner helpers.

mod dynamo;
mod embedded;
mod env;
mod fixtures;
mod flaky;
mod lambda;
mod ledger;
mod partners;
mod queue;
mod receiver;
mod records;
mod served;
mod unspread;

pub use dynamo::{dynamo_store, dynamo_table};
pub use env::{Backend, Env};
pub use fixtures::{seed_with, sign, SEED, SEED_REFUND};
pub use flaky::FlakyStore;
pub use lambda::{call, call_answering_headers};
pub use ledger::{rewards, transaction};
pub use partners::{as_partner, partner, partner_with_key, pat_listening};
pub use receiver::Receiver;
pub use records::stored_item_size;
pub use served::serve_shop;
pub use unspread::Unspread;

/// Runs the scenario `async fn $name(backend: Backend)` of the calling module on both back ends,
/// as the tests `$name::dynamodb` and `$name::embedded` (so `cargo test -- embedded` picks the
/// quick ones). The scenario stays an ordinary function, so rustfmt and the compiler see it.
macro_rules! scenario {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn dynamodb() {
                super::$name($crate::support::Backend::Dynamo).await
            }

            #[tokio::test]
            async fn embedded() {
                super::$name($crate::support::Backend::Embedded).await
            }
        }
    };
}
pub(crate) use scenario;
