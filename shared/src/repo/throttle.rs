//! A program's allowance of refused webhooks ([`RefusalBucket`]): a token is taken by a
//! conditional write, so concurrent refusals each take their own or read again.

use crate::domain::throttle::{RefusalBucket, REFILL_MS};
use crate::domain::time::Millis;
use crate::repo::core::{Inserted, Repo};
use crate::repo::keys;
use crate::store::StoreError;

/// Concurrent refusals a take outlasts; beyond that the program is flooded and counts as empty.
const TAKE_ATTEMPTS: usize = 8;

/// What taking a token found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    Taken,
    /// None left: the next one comes in this many milliseconds.
    Empty {
        retry_after_ms: Millis,
    },
}

impl Repo {
    /// Takes one token from the program's allowance of refused requests, at the repository's
    /// clock. An SDK retry of a write whose answer was lost takes a second one: the error is on
    /// the side of throttling.
    pub async fn take_refusal(&self, program: &str) -> Result<Allowance, StoreError> {
        let now = self.now();
        let mut current = self
            .get_at::<RefusalBucket>(keys::refusals(program))
            .await?;
        for _ in 0..TAKE_ATTEMPTS {
            let written = match current {
                None => match self
                    .insert(program, &RefusalBucket::first_take(now))
                    .await?
                {
                    Inserted::Created => return Ok(Allowance::Taken),
                    Inserted::Exists(found) => {
                        current = Some(found);
                        continue;
                    }
                },
                Some(ref mut found) => match found.value.take(now) {
                    Err(retry_after_ms) => return Ok(Allowance::Empty { retry_after_ms }),
                    Ok(next) => {
                        found.value = next;
                        self.update(program, found).await
                    }
                },
            };
            match written {
                Ok(()) => return Ok(Allowance::Taken),
                Err(StoreError::VersionConflict { .. }) => {
                    current = self.get_at(keys::refusals(program)).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Allowance::Empty {
            retry_after_ms: REFILL_MS,
        })
    }
}
