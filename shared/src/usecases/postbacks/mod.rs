//! Postbacks: events emitted to partners' endpoints ([`emit`]) and the delivery worker step
//! ([`deliver`]). Payloads are in `domain::event`, the retry schedule in `domain::schedule`,
//! the HTTP client in `outbound`.

pub mod deliver;
pub mod emit;
