//! The world the library runs in during a simulation: one seeded random source, a logical
//! clock of store operations, and the switches of the faults. Everything the decorators and
//! the driver decide comes from here, so a seed replays exactly.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex, MutexGuard};

/// How hostile the services are while a history runs; all off once it quiesces.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// A call fails before it takes effect (a crash before the call, throttling).
    pub fail_before: f64,
    /// A write takes effect, then its caller hears a failure (a crash after the call).
    pub fail_after: f64,
    /// A write takes effect, its response is lost, and the SDK's retry reports what it then
    /// finds: "condition failed" for a conditional insert or update that committed.
    pub retried_write: f64,
    /// Writes younger than this many store operations may be missing from queries that do
    /// not ask for consistency.
    pub stale_window: u64,
    /// A queue message is handed out again after it was processed.
    pub redeliver: f64,
}

impl Faults {
    pub const NONE: Self = Self {
        fail_before: 0.0,
        fail_after: 0.0,
        retried_write: 0.0,
        stale_window: 0,
        redeliver: 0.0,
    };

    pub fn random(rng: &mut StdRng) -> Self {
        Self {
            fail_before: rng.random_range(0.0..0.05),
            fail_after: rng.random_range(0.0..0.05),
            retried_write: rng.random_range(0.0..0.05),
            stale_window: rng.random_range(0..30),
            redeliver: rng.random_range(0.0..0.2),
        }
    }
}

pub struct State {
    pub rng: StdRng,
    pub faults: Faults,
    /// Store operations so far: the logical time of writes and of staleness.
    pub ops: u64,
    /// Injected failures so far, for the report.
    pub injected: u64,
}

#[derive(Clone)]
pub struct World(Arc<Mutex<State>>);

impl World {
    pub fn new(seed: u64) -> Self {
        Self(Arc::new(Mutex::new(State {
            rng: StdRng::seed_from_u64(seed),
            faults: Faults::NONE,
            ops: 0,
            injected: 0,
        })))
    }

    /// The state; a poisoned lock only means a panic elsewhere, whose report matters more.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.state().rng.random_bool(p.min(1.0))
    }

    pub fn below(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        self.state().rng.random_range(0..n)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state().faults = faults;
    }

    pub fn faults(&self) -> Faults {
        self.state().faults
    }

    pub fn note_injected(&self) {
        self.state().injected += 1;
    }
}
