//! A test's environment: program `acme` on the chosen back end, with the function routers and
//! the admin's and the custom webhook's requests.

use super::embedded::DataDir;
use super::flaky::FlakyStore;
use super::queue::Consumer;
use super::{call, sign};
use axum::Router;
use partnerhook::app::App;
use partnerhook::domain::time::{Clock, ManualClock, SystemClock};
use partnerhook::outbound::client::Timeouts;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::queue::Queue;
use partnerhook::store::Store;
use partnerhook::usecases::programs::{self as program, CreatedProgram};
use serde_json::Value;
use std::sync::Arc;

/// Where a test's data and jobs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// DynamoDB Local and moto's SQS, as the Lambdas run (needs ./infra/test.sh).
    Dynamo,
    /// The embedded SQLite store and an in-memory queue: no Java, no Python.
    Embedded,
}

/// What a back end gives an Env.
pub(super) struct Backing {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub consumer: Arc<dyn Consumer>,
    pub data_dir: Option<DataDir>,
}

/// Program `acme` on a fresh store and fresh queues, as the Lambdas run it.
pub struct Env {
    pub app: App,
    pub program: CreatedProgram,
    /// Built once, as a Lambda does: building it registers the OpenAPI document (milliseconds).
    api: Router,
    pub(super) consumer: Arc<dyn Consumer>,
    /// Declared after `app`, so the store closes before its folder is removed.
    _data_dir: Option<DataDir>,
}

impl Env {
    pub async fn new(backend: Backend) -> Self {
        Self::with_queue(backend, |queue| queue).await
    }

    /// An environment whose functions send through `wrap(the back end's queue)`.
    pub async fn with_queue(
        backend: Backend,
        wrap: impl FnOnce(Arc<dyn Queue>) -> Arc<dyn Queue>,
    ) -> Self {
        Self::custom(backend, |store| store, wrap, Arc::new(SystemClock)).await
    }

    /// An environment whose time is `clock`, moved by the test.
    pub async fn with_clock(backend: Backend, clock: Arc<ManualClock>) -> Self {
        Self::custom(backend, |store| store, |queue| queue, clock).await
    }

    /// An environment at `clock` whose store fails on cue.
    pub async fn flaky(backend: Backend, clock: Arc<ManualClock>) -> (Self, Arc<FlakyStore>) {
        let mut handle = None;
        let env = Self::custom(
            backend,
            |store| {
                let flaky = Arc::new(FlakyStore::new(store));
                handle = Some(flaky.clone());
                flaky
            },
            |queue| queue,
            clock,
        )
        .await;
        let Some(flaky) = handle else {
            unreachable!("Env::custom wraps its store")
        };
        (env, flaky)
    }

    /// An environment over `wrap_store(the back end's store)` (to make it fail on cue), with
    /// `clock`.
    pub async fn custom(
        backend: Backend,
        wrap_store: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
        wrap: impl FnOnce(Arc<dyn Queue>) -> Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // Postbacks may go to loopback receivers in these tests, as in the local server.
        let configure = |app: App| app;
        Self::assemble(
            backend,
            wrap_store,
            wrap,
            clock,
            EndpointPolicy::LOCAL,
            configure,
        )
        .await
    }

    /// An environment whose postbacks may go where `endpoints` allows, giving up on an
    /// endpoint after `timeouts`.
    pub async fn with_postbacks(
        backend: Backend,
        endpoints: EndpointPolicy,
        timeouts: Timeouts,
    ) -> Self {
        let configure = |app: App| app.with_postback_timeouts(timeouts);
        let clock = Arc::new(SystemClock);
        Self::assemble(backend, |s| s, |q| q, clock, endpoints, configure).await
    }

    async fn assemble(
        backend: Backend,
        wrap_store: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
        wrap: impl FnOnce(Arc<dyn Queue>) -> Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
        endpoints: EndpointPolicy,
        configure: impl FnOnce(App) -> App,
    ) -> Self {
        let backing = match backend {
            Backend::Dynamo => super::dynamo::backing().await,
            Backend::Embedded => super::embedded::backing(),
        };
        let app = configure(App::with_clock(
            wrap_store(backing.store),
            wrap(backing.queue),
            endpoints,
            clock,
        ));
        let program = program::create(&app.repo, "acme", Some("Acme"), "EUR")
            .await
            .expect("create the program");
        Self {
            api: partnerhook::http::api_router(app.clone()),
            app,
            program,
            consumer: backing.consumer,
            _data_dir: backing.data_dir,
        }
    }

    pub fn webhook_router(&self) -> Router {
        partnerhook::http::custom_webhook_router(self.app.clone())
    }

    pub fn api_router(&self) -> Router {
        self.api.clone()
    }

    /// Sends a body to the custom webhook function, signed with the program's secret.
    pub async fn post_signed(&self, body: &str) -> (u16, Value) {
        let signature = sign(&self.program.custom_webhook_secret, body.as_bytes());
        let headers = [
            ("content-type", "application/json"),
            ("x-webhook-signature", signature.as_str()),
        ];
        call(
            &self.webhook_router(),
            "POST",
            "/webhooks/acme/custom",
            &headers,
            body.as_bytes(),
            false,
        )
        .await
    }

    /// Calls the api function with the admin key.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api_with(method, path, body, &[]).await
    }

    /// Calls the api function with the admin key and a body of `content_type` as it is.
    pub async fn api_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let auth = format!("Bearer {}", self.program.admin_key);
        let headers = [("content-type", content_type), ("authorization", &auth)];
        call(&self.api_router(), method, path, &headers, body, false).await
    }

    /// Calls the api function with the admin key and more headers.
    pub async fn api_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let auth = format!("Bearer {}", self.program.admin_key);
        let mut headers = vec![
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        headers.extend_from_slice(extra);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        call(
            &self.api_router(),
            method,
            path,
            &headers,
            body.as_bytes(),
            false,
        )
        .await
    }
}
