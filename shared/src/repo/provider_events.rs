//! Provider event ids already handled, for dedupe on the provider's own id.

use crate::repo::codec::encode_at;
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProviderEventSeen {
    seen_at: i64,
}

impl Repo {
    pub async fn provider_event_seen(
        &self,
        program: &str,
        provider: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::provider_event(program, provider, id);
        Ok(self.store.get(&pk, &sk).await?.is_some())
    }

    /// Remembers a handled event for a week (providers retry for up to three days).
    pub async fn mark_provider_event(
        &self,
        program: &str,
        provider: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let seen = ProviderEventSeen { seen_at: now };
        let record = encode_at(&seen, keys::provider_event(program, provider, id))?
            .expiring_at(now / 1000 + 7 * 24 * 3600);
        self.store.insert(record).await?;
        Ok(())
    }
}
