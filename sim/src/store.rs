//! A store that behaves like DynamoDB at its worst, over the in-memory adapter: any call may
//! fail before it takes effect; a write may take effect and then report failure, or come back
//! from the SDK's retry as "condition failed"; a query that does not ask for consistency may
//! miss writes younger than the stale window. Calls also yield to the runtime a random number
//! of times, so concurrent requests interleave differently from seed to seed.

use crate::world::World;
use async_trait::async_trait;
use partnerhook::store::memory::MemoryStore;
use partnerhook::store::{Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    Before,
    After,
    Retried,
}

type Key = (String, String);
/// Every state a record had, with the logical time it was written.
type History = HashMap<Key, Vec<(u64, Option<Record>)>>;

pub struct SimStore {
    inner: MemoryStore,
    world: World,
    history: Mutex<History>,
}

fn unavailable(what: &str) -> StoreError {
    StoreError::Unavailable(format!("simulated: {what}"))
}

impl SimStore {
    pub fn new(world: World) -> Self {
        Self {
            inner: MemoryStore::new(),
            world,
            history: Mutex::new(HashMap::new()),
        }
    }

    /// Lets other tasks run, then takes the call's turn: its logical time and its fault.
    async fn turn(&self, write: bool) -> (u64, Fault) {
        for _ in 0..self.world.below(3) {
            tokio::task::yield_now().await;
        }
        let mut state = self.world.state();
        state.ops += 1;
        let faults = state.faults;
        let roll: f64 = rand::Rng::random(&mut state.rng);
        let fault = if roll < faults.fail_before {
            Fault::Before
        } else if write && roll < faults.fail_before + faults.fail_after {
            Fault::After
        } else if write && roll < faults.fail_before + faults.fail_after + faults.retried_write {
            Fault::Retried
        } else {
            Fault::None
        };
        if fault != Fault::None {
            state.injected += 1;
        }
        (state.ops, fault)
    }

    async fn remember(&self, at: u64, pk: &str, sk: &str) {
        let now = self.inner.get(pk, sk).await.ok().flatten();
        let mut history = self
            .history
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        history
            .entry((pk.to_string(), sk.to_string()))
            .or_default()
            .push((at, now));
    }

    /// What a lagging replica shows of a record at logical time `at`: its last state written
    /// before the stale window, `None` when it did not exist then.
    fn as_seen(&self, record: Record, at: u64, window: u64) -> Option<Record> {
        let history = self
            .history
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(states) = history.get(&(record.pk.clone(), record.sk.clone())) else {
            return Some(record);
        };
        let cutoff = at.saturating_sub(window);
        match states.last() {
            Some((written, _)) if *written > cutoff => states
                .iter()
                .rev()
                .find(|(written, _)| *written <= cutoff)
                .and_then(|(_, state)| state.clone()),
            _ => Some(record),
        }
    }
}

#[async_trait]
impl Store for SimStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        match self.turn(false).await {
            (_, Fault::Before) => Err(unavailable("read failed")),
            _ => self.inner.get(pk, sk).await,
        }
    }

    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        let (at, fault) = self.turn(true).await;
        if fault == Fault::Before {
            return Err(unavailable("insert failed before it was written"));
        }
        let (pk, sk) = (record.pk.clone(), record.sk.clone());
        let result = self.inner.insert(record).await?;
        if result == Insert::Created {
            self.remember(at, &pk, &sk).await;
        }
        match (fault, result) {
            (Fault::After, _) => Err(unavailable("insert written, response lost")),
            (Fault::Retried, Insert::Created) => match self.inner.get(&pk, &sk).await? {
                Some(own) => Ok(Insert::Exists(own)),
                None => Err(unavailable("insert vanished")),
            },
            (_, result) => Ok(result),
        }
    }

    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        let (at, fault) = self.turn(true).await;
        if fault == Fault::Before {
            return Err(unavailable("transaction failed before it was written"));
        }
        let keys: Vec<Key> = records
            .iter()
            .map(|r| (r.pk.clone(), r.sk.clone()))
            .collect();
        let taken = self.inner.insert_all(records).await?;
        if taken.is_none() {
            for (pk, sk) in &keys {
                self.remember(at, pk, sk).await;
            }
        }
        match (fault, taken) {
            (Fault::After, _) => Err(unavailable("transaction written, response lost")),
            (Fault::Retried, None) => Ok(Some(0)),
            (_, taken) => Ok(taken),
        }
    }

    async fn update(&self, record: Record) -> Result<(), StoreError> {
        let (at, fault) = self.turn(true).await;
        if fault == Fault::Before {
            return Err(unavailable("update failed before it was written"));
        }
        let (pk, sk) = (record.pk.clone(), record.sk.clone());
        self.inner.update(record).await?;
        self.remember(at, &pk, &sk).await;
        match fault {
            Fault::After => Err(unavailable("update written, response lost")),
            Fault::Retried => Err(StoreError::VersionConflict { pk, sk }),
            _ => Ok(()),
        }
    }

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        let (at, fault) = self.turn(false).await;
        if fault == Fault::Before {
            return Err(unavailable("query failed"));
        }
        let mut page = self.inner.query(query, options).await?;
        let consistent = options.consistent && matches!(query, Query::Partition { .. });
        let window = self.world.faults().stale_window;
        if !consistent && window > 0 {
            page.records = page
                .records
                .into_iter()
                .filter_map(|r| self.as_seen(r, at, window))
                .collect();
        }
        Ok(page)
    }

    /// One batch read, eventually consistent like an index query.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Record>, StoreError> {
        let (at, fault) = self.turn(false).await;
        if fault == Fault::Before {
            return Err(unavailable("batch read failed"));
        }
        let found = self.inner.get_many(keys).await?;
        let window = self.world.faults().stale_window;
        if window == 0 {
            return Ok(found);
        }
        Ok(found
            .into_iter()
            .filter_map(|r| self.as_seen(r, at, window))
            .collect())
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        let (at, fault) = self.turn(true).await;
        if fault == Fault::Before {
            return Err(unavailable("delete failed before it took effect"));
        }
        self.inner.delete(pk, sk).await?;
        self.remember(at, pk, sk).await;
        match fault {
            Fault::After => Err(unavailable("delete done, response lost")),
            _ => Ok(()),
        }
    }
}
