//! One seed, start to finish: set the program up, send the history's events under faults
//! (retrying what failed, as providers do), run the workers on whatever the queue hands out,
//! then quiesce and hold the ledger against the model.

use crate::actions::check_actions;
use crate::model::expected;
use crate::queue::SimQueue;
use crate::requests::{
    request, Credentials, Function, CHARGEBEE_PASSWORD, CHARGEBEE_USER, PROGRAM, SIGNUP_REWARD,
    STRIPE_SECRET,
};
use crate::scenario::{generate, Event, Scenario};
use crate::store::SimStore;
use crate::world::{Faults, World};
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use partnerhook::app::App;
use partnerhook::domain::reward::RewardStatus;
use partnerhook::domain::settings::{apply_patch, ProgramPatch};
use partnerhook::domain::time::{Clock, ManualClock};
use partnerhook::domain::transaction::{Transaction, TransactionStatus};
use partnerhook::http::{api_router, custom_webhook_router, provider_router};
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::repo::keys;
use partnerhook::runtime::workers::process_job;
use partnerhook::sources::providers::chargebee::Chargebee;
use partnerhook::sources::providers::stripe::Stripe;
use partnerhook::usecases::programs;
use partnerhook::usecases::sweeper::{sweep, GRACE_MS};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tower::ServiceExt;

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600_000;
/// Tries of one request while faults are on; a sender keeps retrying after that, in quiesce.
const TRIES_UNDER_FAULTS: usize = 3;

#[derive(Debug, Default)]
pub struct Report {
    pub requests: usize,
    pub jobs: usize,
    pub injected: u64,
}

struct Sim {
    world: World,
    clock: Arc<ManualClock>,
    queue: Arc<SimQueue>,
    app: App,
    scenario: Scenario,
    credentials: Credentials,
    report: std::sync::Mutex<Report>,
}

type Step<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

impl Sim {
    fn router(&self, function: Function) -> Router {
        match function {
            Function::Api => api_router(self.app.clone()),
            Function::Custom => custom_webhook_router(self.app.clone()),
            Function::Stripe => provider_router::<Stripe>(self.app.clone()),
            Function::Chargebee => provider_router::<Chargebee>(self.app.clone()),
        }
    }

    fn count(&self, requests: usize, jobs: usize) {
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        report.requests += requests;
        report.jobs += jobs;
    }

    /// Sends an event once: Ok(true) when it was taken (2xx), Ok(false) when the sender should
    /// retry (5xx), Err for an answer no correct history can get (4xx).
    async fn send_once(&self, event: &Event) -> Result<bool, String> {
        self.count(1, 0);
        let (function, request): (Function, Request<Body>) = request(
            &self.scenario,
            event,
            &self.credentials,
            self.clock.now() / 1000,
        );
        let response = self
            .router(function)
            .oneshot(request)
            .await
            .map_err(|e| format!("{event:?}: the router failed: {e}"))?;
        let status = response.status();
        if status.is_success() {
            return Ok(true);
        }
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if status.is_server_error() {
            return Ok(false);
        }
        Err(format!("{event:?} was answered {status}: {body}"))
    }

    /// Sends an event as a provider does: again on every 5xx, up to `tries`; false when it
    /// still has not been taken.
    async fn deliver(&self, event: &Event, tries: usize) -> Result<bool, String> {
        for _ in 0..tries {
            if self.send_once(event).await? {
                return Ok(true);
            }
            self.clock.advance(1_000);
        }
        Ok(false)
    }

    /// Runs one due message, if any: a failed job goes back (after its visibility timeout),
    /// and a finished one sometimes comes back anyway, as SQS may hand it out twice.
    async fn work(&self) -> Result<bool, String> {
        let Some(mut message) = self.queue.take_due() else {
            return Ok(false);
        };
        self.count(0, 1);
        let outcome = process_job(&self.app, &message.job).await;
        if outcome.is_err() || self.world.chance(self.world.faults().redeliver) {
            message.due = self.clock.now() + 1_000;
            self.queue.put_back(message);
        }
        Ok(true)
    }

    /// Runs every message until the queue is empty, moving time on to delayed ones.
    async fn drain(&self) -> Result<(), String> {
        for _ in 0..100_000 {
            if !self.work().await? {
                match self.queue.next_due() {
                    Some(due) => {
                        let wait = (due - self.clock.now()).max(1);
                        self.clock.advance(wait);
                    }
                    None => return Ok(()),
                }
            }
        }
        Err(format!(
            "the queue never drained: {} messages left",
            self.queue.len()
        ))
    }
}

async fn set_up(world: World, scenario: Scenario) -> Result<Sim, String> {
    let clock = Arc::new(ManualClock::at(START));
    let store = Arc::new(SimStore::new(world.clone()));
    let queue = Arc::new(SimQueue::new(world.clone(), clock.clone()));
    let app = App::with_clock(store, queue.clone(), EndpointPolicy::LOCAL, clock.clone());
    let created = programs::create(&app.repo, PROGRAM, None, scenario.currency)
        .await
        .map_err(|e| format!("set-up: {e}"))?;
    let mut program = app
        .repo
        .get_program(PROGRAM)
        .await
        .map_err(|e| format!("set-up: {e}"))?
        .ok_or("set-up: the program vanished")?;
    let patch: ProgramPatch = serde_json::from_value(json!({
        "commission": {
            "levels": scenario.levels.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            "actions": {"signup": SIGNUP_REWARD},
        },
        "providers": {
            "stripe": {"signing_secret": STRIPE_SECRET},
            "chargebee": {"username": CHARGEBEE_USER, "password": CHARGEBEE_PASSWORD},
        }
    }))
    .map_err(|e| format!("set-up: {e}"))?;
    apply_patch(&mut program.value, patch, clock.now()).map_err(|e| format!("set-up: {e}"))?;
    app.repo
        .update(PROGRAM, &program)
        .await
        .map_err(|e| format!("set-up: {e}"))?;
    let credentials = Credentials {
        admin_key: created.admin_key,
        custom_secret: created.custom_webhook_secret,
    };
    let sim = Sim {
        world,
        clock,
        queue,
        app,
        scenario,
        credentials,
        report: Default::default(),
    };
    for partner in &sim.scenario.partners {
        let mut body = json!({"key": partner.key, "id": partner.id, "email": format!("{}@example.com", partner.key), "name": partner.key});
        if let Some(referrer) = partner.referrer {
            body["referring_partner_key"] = json!(sim.scenario.partners[referrer].key);
        }
        let request = Request::post("/v1/partners")
            .header("content-type", "application/json")
            .header(
                "authorization",
                format!("Bearer {}", sim.credentials.admin_key),
            )
            .body(Body::from(body.to_string()))
            .map_err(|e| format!("set-up: {e}"))?;
        let response = sim
            .router(Function::Api)
            .oneshot(request)
            .await
            .map_err(|e| format!("set-up: {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "set-up: partner {} answered {}",
                partner.key,
                response.status()
            ));
        }
    }
    Ok(sim)
}

async fn play(sim: &Sim) -> Result<Vec<Event>, String> {
    let mut unsent = Vec::new();
    for group in &sim.scenario.steps {
        sim.clock.advance(1_000);
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
        for outcome in futures_join(steps).await {
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

/// Polls every step in turn on this one thread until all are done: a deterministic
/// interleaving, decided by where each yields.
async fn futures_join(steps: Vec<Step<'_>>) -> Vec<Result<(), String>> {
    let mut slots: Vec<Option<Step<'_>>> = steps.into_iter().map(Some).collect();
    let mut results: Vec<Option<Result<(), String>>> = slots.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in slots.iter_mut().zip(results.iter_mut()) {
            if let Some(step) = slot {
                match step.as_mut().poll(cx) {
                    std::task::Poll::Ready(done) => {
                        *result = Some(done);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("a step never finished".into())))
        .collect()
}

async fn quiesce(sim: &Sim, unsent: Vec<Event>) -> Result<(), String> {
    sim.world.set_faults(Faults::NONE);
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

async fn check(sim: &Sim) -> Result<(), String> {
    let repo = &sim.app.repo;
    let mut problems = Vec::new();
    for sale in &sim.scenario.sales {
        let want = expected(&sim.scenario, sale);
        let Some(tx) = repo
            .find::<Transaction>(PROGRAM, &sale.key)
            .await
            .map_err(|e| e.to_string())?
        else {
            problems.push(format!("{}: no transaction", sale.key));
            continue;
        };
        if tx.amounts.refunded != want.refunded {
            problems.push(format!(
                "{}: refunded {} where {} was refunded",
                sale.key, tx.amounts.refunded, want.refunded
            ));
        }
        let rewards = repo
            .rewards_of_transaction(PROGRAM, &sale.key)
            .await
            .map_err(|e| e.to_string())?;
        if want.fully_refunded {
            if tx.status != TransactionStatus::Refunded {
                problems.push(format!("{}: {:?}, not refunded", sale.key, tx.status));
            }
            for reward in &rewards {
                if reward.value.reward_status != RewardStatus::Declined {
                    problems.push(format!(
                        "{}: reward {} is {:?} after a full refund",
                        sale.key, reward.value.key, reward.value.reward_status
                    ));
                }
            }
            continue;
        }
        if tx.status != TransactionStatus::Commissioned
            || tx.partner_key.as_deref() != Some(want.partner.as_str())
        {
            problems.push(format!(
                "{}: {:?} for {:?}, not commissioned for {}",
                sale.key, tx.status, tx.partner_key, want.partner
            ));
        }
        let got: Vec<String> = rewards
            .iter()
            .map(|r| {
                let r = &r.value;
                format!(
                    "L{} {} {} {:?}",
                    r.level,
                    r.partner_key,
                    r.amount.normalize(),
                    r.reward_status
                )
            })
            .collect();
        let wanted: Vec<String> = want
            .rewards
            .iter()
            .map(|r| {
                format!(
                    "L{} {} {} Pending",
                    r.level,
                    r.partner,
                    r.amount.normalize()
                )
            })
            .collect();
        if got != wanted {
            problems.push(format!(
                "{}: rewards {got:?}, expected {wanted:?}",
                sale.key
            ));
        }
    }
    check_actions(&sim.app, &sim.scenario, &mut problems).await?;
    let mut recorded = 0;
    for status in ["recorded", "commissioned", "unassigned", "refunded"] {
        let listing = repo
            .list::<Transaction>(
                keys::transactions_with_status(PROGRAM, status),
                1_000,
                None,
                false,
            )
            .await
            .map_err(|e| e.to_string())?;
        recorded += listing.items.len();
    }
    if recorded != sim.scenario.sales.len() {
        problems.push(format!(
            "{recorded} transactions for {} sales",
            sim.scenario.sales.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Runs one seed; the error says what the ledger got wrong, or which request went astray.
/// Without `faults` the services behave (to tell the model's mistakes from the ledger's).
pub async fn run_seed(seed: u64, faults: bool) -> Result<Report, String> {
    let world = World::new(seed);
    let scenario = generate(&world);
    let sim = set_up(world.clone(), scenario).await?;
    let chosen = Faults::random(&mut world.state().rng);
    world.set_faults(if faults { chosen } else { Faults::NONE });
    let unsent = play(&sim).await?;
    quiesce(&sim, unsent).await?;
    check(&sim).await?;
    let mut report = sim
        .report
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    report.injected = world.state().injected;
    Ok(report)
}

/// The scenario of a seed, for a failure report.
pub fn describe(seed: u64) -> String {
    format!("{:#?}", generate(&World::new(seed)))
}
