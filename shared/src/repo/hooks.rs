//! Incoming webhooks, found by id alone from their URL.

use crate::domain::hook::IncomingWebhook;
use crate::repo::codec::Versioned;
use crate::repo::core::Repo;
use crate::store::StoreError;

impl Repo {
    /// The webhook with this id, whichever program owns it (its record names the program).
    pub async fn get_hook(
        &self,
        id: &str,
    ) -> Result<Option<Versioned<IncomingWebhook>>, StoreError> {
        self.get::<IncomingWebhook>("", id).await
    }
}
