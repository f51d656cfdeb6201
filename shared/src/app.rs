//! What every handler needs, built once per process: the repository over the store (with the
//! clock), the queue, and the postback client (built on first use).

use crate::domain::time::{Clock, Millis, SystemClock};
use crate::error::AppError;
use crate::outbound::client::{Deliverer, Timeouts};
use crate::outbound::ssrf::EndpointPolicy;
use crate::queue::Queue;
use crate::repo::core::Repo;
use crate::store::Store;
use std::sync::{Arc, OnceLock};

#[derive(Clone)]
pub struct App {
    pub repo: Repo,
    pub queue: Arc<dyn Queue>,
    /// Where postbacks may be sent: public https endpoints on AWS, loopback (and private
    /// ranges when asked) locally.
    pub endpoints: EndpointPolicy,
    postback_timeouts: Timeouts,
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
            postback_timeouts: Timeouts::default(),
            deliverer: Arc::new(OnceLock::new()),
        }
    }

    /// The app with other postback timeouts (tests use short ones); before the first send.
    pub fn with_postback_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.postback_timeouts = timeouts;
        self.deliverer = Arc::new(OnceLock::new());
        self
    }

    pub fn now(&self) -> Millis {
        self.repo.now()
    }

    /// The HTTP client for postbacks; only functions that deliver pay for building it.
    pub fn deliverer(&self) -> Result<&Deliverer, AppError> {
        self.deliverer
            .get_or_init(|| Deliverer::with_timeouts(self.endpoints, self.postback_timeouts))
            .as_ref()
            .map_err(|e| {
                AppError::Internal(format!("the postback HTTP client could not start: {e}"))
            })
    }
}
