//! Customers: created and changed with their partners told ([`manage`], [`changes`]), and the
//! provider payments that wait for them ([`parking`]).

pub mod changes;
pub mod manage;
pub mod parking;
