//! One seed, start to finish: set the program up, send the history's events under faults
//! (retrying what failed, as providers do), run the workers on whatever the queue hands out,
//! then quiesce, let admins assign what nobody could, and hold the ledger against the model.

use crate::check::check;
use crate::driver::{Report, Sim, TRIES_UNDER_FAULTS};
use crate::scenario::{generate, Event};
use crate::setup::set_up;
use crate::world::{Faults, World};
use partnerhook::domain::idempotency::LEASE_MS;
use partnerhook::usecases::sweeper::{sweep, GRACE_MS};
use std::future::Future;
use std::pin::Pin;

type Step<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

async fn play(sim: &Sim) -> Result<Vec<Event>, String> {
    let mut unsent = Vec::new();
    for group in &sim.scenario.steps {
        sim.clock.advance(1_000);
        sim.before(group);
        let results = std::cell::RefCell::new(Vec::new());
        let mut steps: Vec<Step<'_>> = Vec::new();
        for event in group {
            let results = &results;
            steps.push(Box::pin(async move {
                let taken = sim.deliver(event, TRIES_UNDER_FAULTS).await?;
                results.borrow_mut().push((event.clone(), taken));
                Ok(())
            }));
        }
        // The workers run beside the senders, as Lambda runs them.
        for _ in 0..sim.world.below(3) {
            steps.push(Box::pin(async move { sim.work().await.map(|_| ()) }));
        }
        // Polled in turn on this one thread: a deterministic interleaving, decided by where
        // each step yields.
        for outcome in futures::future::join_all(steps).await {
            outcome?;
        }
        unsent.extend(
            results
                .into_inner()
                .into_iter()
                .filter(|(_, taken)| !taken)
                .map(|(event, _)| event),
        );
    }
    Ok(unsent)
}

/// What admins send once the history quiesced, under the same faults, retried on 5xx with the
/// same idempotency key; what still fails is sent again in the next quiesce.
async fn afterwards(sim: &Sim, faults: Faults) -> Result<Vec<Event>, String> {
    sim.world.set_faults(faults);
    let mut unsent = Vec::new();
    for event in &sim.scenario.afterwards {
        sim.clock.advance(1_000);
        sim.before(std::slice::from_ref(event));
        if !sim.deliver(event, TRIES_UNDER_FAULTS).await? {
            unsent.push(event.clone());
        }
        sim.work().await?;
    }
    Ok(unsent)
}

async fn quiesce(sim: &Sim, unsent: Vec<Event>) -> Result<(), String> {
    sim.world.set_faults(Faults::NONE);
    // A try that died without an answer holds its Idempotency-Key until its lease runs out.
    sim.clock.advance(LEASE_MS);
    for event in &unsent {
        if !sim.deliver(event, 1).await? {
            return Err(format!("{event:?} still fails with no faults"));
        }
    }
    sim.drain().await?;
    // The scheduled sweeper heals what a crash left between a write and its enqueue.
    sim.clock.advance(GRACE_MS + 60_000);
    sweep(&sim.app, GRACE_MS)
        .await
        .map_err(|e| format!("sweep: {e}"))?;
    sim.drain().await
}

/// Runs one seed; the error says what the ledger got wrong, or which request went astray.
/// Without `faults` the services behave (to tell the model's mistakes from the ledger's).
pub async fn run_seed(seed: u64, faults: bool) -> Result<Report, String> {
    let world = World::new(seed);
    let scenario = generate(&world);
    let sim = set_up(world.clone(), scenario).await?;
    // The program was set up well before its first event: its records (postbacks among them,
    // listed from the index) are past any replica's lag. A postback registered a moment before
    // an event may miss it in DynamoDB too; the histories do not test that.
    world.state().ops += 1_000;
    let chosen = Faults::random(&mut world.state().rng);
    let faults = if faults { chosen } else { Faults::NONE };
    world.set_faults(faults);
    let unsent = play(&sim).await?;
    quiesce(&sim, unsent).await?;
    let unsent = afterwards(&sim, faults).await?;
    quiesce(&sim, unsent).await?;
    let (payouts, clawbacks) = check(&sim).await?;
    let mut report = sim
        .report
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    report.injected = world.state().injected;
    (report.payouts, report.clawbacks) = (payouts, clawbacks);
    Ok(report)
}

/// The scenario of a seed, for a failure report.
pub fn describe(seed: u64) -> String {
    format!("{:#?}", generate(&World::new(seed)))
}
