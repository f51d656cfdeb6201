//! The bottom layer: the records Partnerhook keeps and the values they are made of, with the
//! pure rules that belong to them (money, the commission plan, refunds, field paths). Nothing
//! here reads a store, a queue or the clock; files here import only each other and `crypto`.

pub mod action;
pub mod api_key;
pub mod api_transaction;
pub mod audit;
pub mod balance;
pub mod counter;
pub mod csv_import;
pub mod customer;
pub mod dispute;
pub mod error;
pub mod event;
pub mod excerpt;
pub mod group;
pub mod hook;
pub mod idempotency;
pub mod import;
pub mod inbox;
pub mod lifecycle;
pub mod minor_units;
pub mod money;
pub mod outcome;
pub mod partner;
pub mod payout;
pub mod plan;
pub mod postback;
pub mod program;
pub mod refund;
pub mod reward;
pub mod schedule;
pub mod settings;
pub mod throttle;
pub mod time;
pub mod transaction;
pub mod validate;
