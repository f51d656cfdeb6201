//! What every handler needs, built once per process: the repository over the store, the queue,
//! and the postback client (built on first use).

use crate::postback::deliver::Deliverer;
use crate::postback::ssrf::EndpointPolicy;
use crate::queue::Queue;
use crate::repo::Repo;
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
        Self {
            repo: Repo::new(store),
            queue,
            endpoints,
            deliverer: Arc::new(OnceLock::new()),
        }
    }

    /// The HTTP client for postbacks; only functions that deliver pay for building it.
    pub fn deliverer(&self) -> Result<&Deliverer, String> {
        self.deliverer
            .get_or_init(|| Deliverer::new(self.endpoints))
            .as_ref()
            .map_err(|e| format!("the postback HTTP client could not start: {e}"))
    }
}
