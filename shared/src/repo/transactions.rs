//! What lives in a transaction's partition besides the transaction: refunds that came first,
//! and its rewards; and the transaction read with its kept refunds at once.

use crate::domain::plan::MAX_LEVELS;
use crate::domain::refund::RefundSpec;
use crate::domain::reward::Reward;
use crate::domain::transaction::Transaction;
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

    /// A transaction with the refunds kept for it, in one consistent read of its partition
    /// (its rewards and clawbacks, read too, are left out).
    pub async fn transaction_with_kept_refunds(
        &self,
        program: &str,
        key: &str,
    ) -> Result<(Option<Versioned<Transaction>>, Vec<RefundSpec>), StoreError> {
        let query = Query::Partition {
            pk: keys::transaction_partition(program, key),
            sk_prefix: String::new(),
        };
        let (_, transaction_sk) = keys::transaction(program, key);
        let mut transaction = None;
        let mut kept = Vec::new();
        for record in self.all_records(query).await? {
            if record.sk == transaction_sk {
                transaction = Some(decode(record)?);
            } else if record.sk.starts_with(keys::PENDING_REFUND_PREFIX) {
                kept.push(decode(record)?.value);
            }
        }
        Ok((transaction, kept))
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
