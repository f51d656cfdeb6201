//! The simulated deployment of one seed: the library's app over the simulated store and queue,
//! and how senders and workers use it (requests retried as providers do, jobs run as SQS and
//! Lambda hand them out).

use crate::queue::SimQueue;
use crate::requests::{request, Credentials, Function};
use crate::scenario::{Event, Scenario};
use crate::world::World;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use partnerhook::app::App;
use partnerhook::domain::time::{Clock, ManualClock};
use partnerhook::http::{custom_webhook_router, incoming_router, provider_router};
use partnerhook::queue::Job;
use partnerhook::runtime::workers::process_job;
use partnerhook::sources::providers::chargebee::Chargebee;
use partnerhook::sources::providers::chargify::Chargify;
use partnerhook::sources::providers::recurly::Recurly;
use partnerhook::sources::providers::stripe::Stripe;
use partnerhook::usecases::sweeper::{sweep, GRACE_MS};
use std::sync::Arc;
use tower::ServiceExt;

/// 2026-01-01T00:00:00Z.
pub const START: i64 = 1_767_225_600_000;
pub const DAY: i64 = 24 * 60 * 60 * 1000;
/// Tries of one request while faults are on; a sender keeps retrying after that, in quiesce.
pub const TRIES_UNDER_FAULTS: usize = 3;

#[derive(Debug, Default)]
pub struct Report {
    pub requests: usize,
    pub jobs: usize,
    pub injected: u64,
    /// Payouts that paid something, and clawbacks written, as the check found them.
    pub payouts: usize,
    pub clawbacks: usize,
}

pub struct Sim {
    pub world: World,
    pub clock: Arc<ManualClock>,
    pub queue: Arc<SimQueue>,
    pub app: App,
    /// Built once: the api router registers its OpenAPI document as it is built, which costs
    /// milliseconds, as a Lambda pays once per cold start.
    pub api: Router,
    pub scenario: Scenario,
    pub credentials: Credentials,
    pub report: std::sync::Mutex<Report>,
}

/// A payout refused for its total (nothing approved yet, clawbacks exceeding it): a fair
/// answer in any history.
fn is_refused_payout(event: &Event, status: u16, body: &str) -> bool {
    matches!(event, Event::Payout { .. })
        && status == 422
        && (body.contains("\"nothing_to_pay\"") || body.contains("\"negative_total\""))
}

impl Sim {
    pub fn router(&self, function: Function) -> Router {
        match function {
            Function::Api => self.api.clone(),
            Function::Custom => custom_webhook_router(self.app.clone()),
            Function::Stripe => provider_router::<Stripe>(self.app.clone()),
            Function::Chargebee => provider_router::<Chargebee>(self.app.clone()),
            Function::Recurly => provider_router::<Recurly>(self.app.clone()),
            Function::Chargify => provider_router::<Chargify>(self.app.clone()),
            Function::Incoming => incoming_router(self.app.clone()),
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
    pub async fn send_once(&self, event: &Event) -> Result<bool, String> {
        if *event == Event::Sweep {
            return Ok(self.sweep_once().await);
        }
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
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("{} {event:?} -> {status} {body}", self.clock.now());
        }
        if status.is_success() || is_refused_payout(event, status.as_u16(), &body) {
            return Ok(true);
        }
        // A 5xx, or the same Idempotency-Key's first try still running, asks for a retry.
        if status.is_server_error() || (status.as_u16() == 409 && body.contains("still running")) {
            return Ok(false);
        }
        Err(format!("{event:?} was answered {status}: {body}"))
    }

    /// The scheduled sweeper: true when its pass finished (a failed pass is retried, as the
    /// next scheduled one would be).
    async fn sweep_once(&self) -> bool {
        sweep(&self.app, GRACE_MS).await.is_ok()
    }

    /// Before sending `events` at one moment: a sweep among them comes once the holding period
    /// is over, so the clock moves on by it first (not while requests signed with the time are
    /// in flight).
    pub fn before(&self, events: &[Event]) {
        if events.contains(&Event::Sweep) {
            let holding = i64::from(self.scenario.holding_days) * DAY;
            self.clock.advance(holding + 1);
        }
    }

    /// Sends an event as a provider does: again on every 5xx, up to `tries`; false when it
    /// still has not been taken.
    pub async fn deliver(&self, event: &Event, tries: usize) -> Result<bool, String> {
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
    pub async fn work(&self) -> Result<bool, String> {
        let Some(mut message) = self.queue.take_due() else {
            return Ok(false);
        };
        self.count(0, 1);
        // A delivery needs HTTP; the check reads the deliveries written, not their attempts.
        if matches!(message.job, Job::Deliver { .. }) {
            return Ok(true);
        }
        let outcome = process_job(&self.app, &message.job).await;
        if outcome.is_err() || self.world.chance(self.world.faults().redeliver) {
            message.due = self.clock.now() + 1_000;
            self.queue.put_back(message);
        }
        Ok(true)
    }

    /// Runs every message until the queue is empty, moving time on to delayed ones.
    pub async fn drain(&self) -> Result<(), String> {
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
