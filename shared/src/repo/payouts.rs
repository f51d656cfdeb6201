//! A payout's partition: the payout and the rewards it set out to claim.

use crate::domain::payout::PayoutItem;
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::{Query, StoreError};

impl Repo {
    /// Every reward a payout set out to claim, read consistently.
    pub async fn payout_items(
        &self,
        program: &str,
        id: &str,
    ) -> Result<Vec<PayoutItem>, StoreError> {
        let query = Query::Partition {
            pk: keys::payout_partition(program, id),
            sk_prefix: keys::PAYOUT_ITEM_PREFIX.into(),
        };
        self.all(query).await
    }
}
