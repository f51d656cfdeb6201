//! What every handler needs, built once per process: the repository over the store (with the
//! clock), the queue, and the postback client (built on first use).

use crate::domain::time::{Clock, Millis, SystemClock};
use crate::error::AppError;
use crate::outbound::client::Deliverer;
use crate::outbound::ssrf::EndpointPolicy;
use crate::queue::Queue;
use crate::repo::core::Repo;
use crate::store::Store;
use std::sync::{Arc, OnceLock};

#[derive(Clone)]
pub struct App {
    pub repo: Repo,
    pub queue: Arc<dyn Queue>,
    /// Where postbacks may be sent: public https endpoints on AWS, anything locally.
    pub endpoints: EndpointPolicy,
    deliverer: Arc<OnceLock<Result<Deliverer, String>>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>, endpoints: EndpointPolicy) -> Self {
        Self::with_clock(store, queue, endpoints, Arc::new(SystemClock))
    }

    /// An app whose time comes from `clock` (tests move it instead of sleeping).
    pub fn with_clock(
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        endpoints: EndpointPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo: Repo::new(store, clock),
            queue,
            endpoints,
            deliverer: Arc::new(OnceLock::new()),
        }
    }

    pub fn now(&self) -> Millis {
        self.repo.now()
    }

    /// The HTTP client for postbacks; only functions that deliver pay for building it.
    pub fn deliverer(&self) -> Result<&Deliverer, AppError> {
        self.deliverer
            .get_or_init(|| Deliverer::new(self.endpoints))
            .as_ref()
            .map_err(|e| {
                AppError::Internal(format!("the postback HTTP client could not start: {e}"))
            })
    }
}
