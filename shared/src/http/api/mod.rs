//! The management API (`/v1/...`), one module per resource, each with its routes, request
//! bodies and JSON views. Bodies deserialize straight into the use cases' inputs. Field names
//! follow the seeds (`key`, `amount` in minor units, `reward_status`, `created_at` in epoch ms).

pub mod actions;
pub mod admin_keys;
pub mod audit;
pub mod balances;
pub mod common;
pub mod customer_transactions;
pub mod customers;
pub mod events;
pub mod groups;
pub mod hooks;
pub mod imports;
pub mod me;
pub mod parked;
pub mod partners;
pub mod payouts;
pub mod postbacks;
pub mod program;
pub mod rewards;
pub mod schemas;
pub mod transactions;
