//! What every handler needs, built once per process: the repository over the store, the queue,
//! and settings.

use crate::queue::Queue;
use crate::repo::Repo;
use crate::store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct App {
    pub repo: Repo,
    pub queue: Arc<dyn Queue>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>) -> Self {
        Self {
            repo: Repo::new(store),
            queue,
        }
    }
}
