//! Counting a transaction once in a counter (tiers' monthly sales, a customer's payments):
//! created by a conditional insert, advanced by a version-conditional write, both read
//! consistently, so concurrent jobs get distinct ordinals and a retry gets its own back.

use crate::domain::counter::{Counted, Counter};
use crate::domain::time::Millis;
use crate::repo::core::{Inserted, Repo};
use crate::store::StoreError;

/// Attempts at creating or advancing a counter under concurrent writers; past them the job
/// fails and is retried.
const ATTEMPTS: usize = 8;

impl Repo {
    /// Counts transaction `key` (dated `date`) in counter `id` once; where it stands, and the
    /// date of the counter's first transaction.
    pub async fn count_once(
        &self,
        program: &str,
        id: &str,
        key: &str,
        date: Millis,
    ) -> Result<(Counted, Millis), StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(current) = self.get::<Counter>(program, id).await? else {
                let first = Counter::first(id.to_string(), key, date);
                if let Inserted::Created = self.insert(program, &first).await? {
                    let counted = first.find(key).cloned().ok_or_else(|| lost(program, id))?;
                    return Ok((counted, first.first_at));
                }
                continue;
            };
            let mut counted = None;
            self.modify_from::<Counter, StoreError>(program, current, |c| {
                let (at, changed) = c.count_once(key);
                counted = Some((at, c.first_at));
                Ok(changed)
            })
            .await?;
            if let Some(counted) = counted {
                return Ok(counted);
            }
        }
        Err(lost(program, id))
    }
}

fn lost(program: &str, id: &str) -> StoreError {
    let (pk, sk) = crate::repo::keys::counter(program, id);
    StoreError::VersionConflict { pk, sk }
}
