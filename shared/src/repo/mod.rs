//! Typed access to the records behind the storage port: the key layout of the one table
//! ([`keys`]), how entities are encoded and located ([`codec`]), the generic reads and writes
//! ([`core`]), listings spread over several index partitions ([`spread`]), and per aggregate the accesses that are more than a read by key.

pub mod admin_keys;
pub mod audit;
pub mod codec;
pub mod core;
pub mod counters;
pub mod customers;
pub mod emails;
pub mod hooks;
pub mod keys;
pub mod partners;
pub mod payouts;
pub mod postbacks;
pub mod programs;
pub mod provider_events;
pub mod rewards;
pub mod spread;
pub mod throttle;
pub mod transactions;
