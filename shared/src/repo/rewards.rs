//! Rewards beyond a transaction's partition read: one found by its key alone, a reward written
//! with its entry in the listing by payment date, and the clawbacks of a transaction.

use crate::domain::reward::{Reward, RewardStatus};
use crate::repo::codec::{Entity, RewardDue, Versioned};
use crate::repo::core::{Inserted, Repo};
use crate::repo::keys;
use crate::store::{Query, StoreError};

impl Repo {
    /// A reward by its key: `{transaction}:{level}`, `{action}:{level}`, or a clawback's
    /// `{transaction}:{level}:cb{n}`. Read consistently.
    pub async fn find_reward(
        &self,
        program: &str,
        key: &str,
    ) -> Result<Option<Versioned<Reward>>, StoreError> {
        let Some((origin, last)) = key.rsplit_once(':') else {
            return Ok(None);
        };
        if last.starts_with("cb") {
            let Some((tx, _level)) = origin.rsplit_once(':') else {
                return Ok(None);
            };
            return self.get_at(keys::clawback(program, tx, key)).await;
        }
        let Ok(level) = last.parse::<u8>() else {
            return Ok(None);
        };
        for location in [
            keys::reward(program, origin, level),
            keys::action_reward(program, origin, level),
        ] {
            if let Some(found) = self.get_at::<Reward>(location).await? {
                // A key of one kind could name a record of the other; the record decides.
                if found.value.key == key {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }

    /// Writes a new reward (conditionally), a pending one after its entry in the listing by
    /// payment date: so no pending reward is ever missing from it, whatever crashes between.
    pub async fn insert_reward(
        &self,
        program: &str,
        reward: &Reward,
    ) -> Result<Inserted<Reward>, StoreError> {
        if reward.reward_status == RewardStatus::Pending {
            if let Some(due) = RewardDue::of(reward, program) {
                self.insert(program, &due).await?;
            }
        }
        self.insert(program, reward).await
    }

    /// Writes a reward's entry in the listing by payment date before it becomes pending again
    /// (a hold released, a decline undone); an entry written already is kept.
    pub async fn insert_reward_due(
        &self,
        program: &str,
        reward: &Reward,
    ) -> Result<(), StoreError> {
        if let Some(due) = RewardDue::of(reward, program) {
            self.insert(program, &due).await?;
        }
        Ok(())
    }

    /// Forgets a reward's entry in the listing by payment date, once it left `pending`.
    pub async fn delete_reward_due(
        &self,
        program: &str,
        reward: &Reward,
    ) -> Result<(), StoreError> {
        let (pk, sk) = reward.location(program);
        let (due_pk, due_sk) = keys::reward_due(program, &pk, &sk);
        self.store.delete(&due_pk, &due_sk).await
    }

    /// The clawbacks written against a transaction's rewards, read consistently.
    pub async fn clawbacks_of_transaction(
        &self,
        program: &str,
        transaction_key: &str,
    ) -> Result<Vec<Reward>, StoreError> {
        let query = Query::Partition {
            pk: keys::transaction_partition(program, transaction_key),
            sk_prefix: keys::CLAWBACK_PREFIX.into(),
        };
        self.all(query).await
    }
}
