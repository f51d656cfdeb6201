//! What lives in a transaction's partition besides the transaction: refunds that came first,
//! and its rewards.

use crate::domain::plan::MAX_LEVELS;
use crate::domain::refund::RefundSpec;
use crate::domain::reward::Reward;
use crate::repo::codec::{decode, encode_at, Versioned};
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::{Insert, Query, QueryOptions, StoreError};

impl Repo {
    /// Keeps a refund for a transaction not seen yet; false when it is kept already.
    pub async fn insert_pending_refund(
        &self,
        program: &str,
        transaction_key: &str,
        id: &str,
        refund: &RefundSpec,
    ) -> Result<bool, StoreError> {
        let record = encode_at(refund, keys::pending_refund(program, transaction_key, id))?;
        Ok(matches!(self.store.insert(record).await?, Insert::Created))
    }

    /// Forgets a kept refund once it was applied (applying it again would change nothing).
    pub async fn delete_pending_refund(
        &self,
        program: &str,
        transaction_key: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::pending_refund(program, transaction_key, id);
        self.store.delete(&pk, &sk).await
    }

    /// The refunds that arrived before the transaction.
    pub async fn pending_refunds(
        &self,
        program: &str,
        transaction_key: &str,
    ) -> Result<Vec<RefundSpec>, StoreError> {
        let query = Query::Partition {
            pk: keys::transaction_partition(program, transaction_key),
            sk_prefix: keys::PENDING_REFUND_PREFIX.into(),
        };
        self.all(query).await
    }

    pub async fn rewards_of_transaction(
        &self,
        program: &str,
        transaction_key: &str,
    ) -> Result<Vec<Versioned<Reward>>, StoreError> {
        let query = Query::Partition {
            pk: keys::transaction_partition(program, transaction_key),
            sk_prefix: keys::REWARD_PREFIX.into(),
        };
        let options = QueryOptions {
            limit: MAX_LEVELS,
            consistent: true,
            ..Default::default()
        };
        let page = self.store.query(&query, &options).await?;
        page.records.into_iter().map(decode).collect()
    }
}
