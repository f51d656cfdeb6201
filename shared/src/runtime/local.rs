//! The local all-in-one server: every route of every function in one process, the embedded
//! store under a data folder, and the workers fed by an in-process queue.

use crate::app::App;
use crate::http::local_router;
use crate::outbound::ssrf::EndpointPolicy;
use crate::queue::local::LocalQueue;
use crate::queue::Job;
use crate::runtime::workers::run_isolated;
use crate::store::embedded::EmbeddedStore;
use crate::store::StoreError;
use crate::usecases::sweeper::{sweep, GRACE_MS};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;

/// Jobs in progress at once; more wait for a slot.
const WORKER_CONCURRENCY: usize = 32;

/// Waits between attempts of a failing job; after the last one it is given up, as a
/// dead-letter queue would keep it.
const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
];

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The app over the embedded store in `data`, sending postbacks where `endpoints` allows, with
/// its local queue's receiving end.
pub fn local_app(
    data: &Path,
    endpoints: EndpointPolicy,
) -> Result<(App, UnboundedReceiver<Job>), StoreError> {
    let store = EmbeddedStore::open(data)?;
    let (queue, jobs) = LocalQueue::new();
    Ok((App::new(Arc::new(store), Arc::new(queue), endpoints), jobs))
}

/// Jobs run side by side, as Lambda runs the messages of its queues, so a slow endpoint or a
/// failing job holds up nothing else.
pub async fn run_worker(app: App, mut jobs: UnboundedReceiver<Job>) {
    let slots = Arc::new(Semaphore::new(WORKER_CONCURRENCY));
    while let Some(job) = jobs.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let app = app.clone();
        tokio::spawn(async move {
            run_job(&app, &job).await;
            drop(slot);
        });
    }
}

/// Runs one job, retrying failures like SQS redelivery would.
async fn run_job(app: &App, job: &Job) {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        match run_isolated(app, job).await {
            Ok(()) => return,
            Err(e) => match delays.next() {
                Some(delay) => {
                    tracing::warn!(error = %e, ?job, "job failed; retrying");
                    tokio::time::sleep(*delay).await;
                }
                None => {
                    tracing::error!(error = %e, ?job, "job failed for good");
                    return;
                }
            },
        }
    }
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Runs the sweeper every minute, as the scheduled function does on AWS.
async fn sweep_every(app: App, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        if let Err(e) = sweep(&app, GRACE_MS).await {
            tracing::error!(error = %e, "sweep failed");
        }
    }
}

/// What `serve` prints at start: where everything is, and what differs from AWS.
fn banner(addr: SocketAddr, data: &Path, endpoints: EndpointPolicy) -> String {
    let base = format!("http://{addr}");
    let data = data.display();
    let mut text = format!("Partnerhook is running on {base} (data in {data})\n");
    let routes = [
        ("custom webhook", "POST", "/webhooks/{program}/custom"),
        ("Stripe", "POST", "/webhooks/{program}/stripe"),
        ("Chargebee", "POST", "/webhooks/{program}/chargebee"),
        ("Recurly", "POST", "/webhooks/{program}/recurly"),
        ("Chargify", "POST", "/webhooks/{program}/chargify"),
        (
            "incoming webhooks",
            "POST",
            "/hooks/{id}/{token} (and .../test)",
        ),
        (
            "management API",
            "",
            "/v1/... (Authorization: Bearer <key>)",
        ),
        ("console", "GET", "/console (paste the admin key)"),
    ];
    for (name, method, path) in routes {
        text.push_str(&format!("  {name:<18} {method:<4} {base}{path}\n"));
    }
    text.push_str(if endpoints.allow_private {
        "Postbacks may go to loopback and private addresses over plain http here \
         (--allow-private-postbacks); link-local and metadata addresses never. On AWS they \
         must be https to public addresses.\n"
    } else {
        "Postbacks may go to loopback addresses over plain http here, so you can test with a \
         receiver on this machine (private ranges: --allow-private-postbacks); on AWS they \
         must be https to public addresses.\n"
    });
    text.push_str(&format!(
        "Create a program with: partnerhook program create --slug SLUG --data {data}\n"
    ));
    text
}

/// Serves until Ctrl-C on a bound listener (bound first, so tests can use port 0).
pub async fn serve(
    listener: TcpListener,
    data: &Path,
    endpoints: EndpointPolicy,
) -> Result<(), ServeError> {
    let (app, jobs) = local_app(data, endpoints)?;
    // The banner comes first: scripts read the address from its first line, and the workers
    // log to the same output as soon as they start.
    let addr = listener.local_addr()?;
    print!("{}", banner(addr, data, endpoints));
    tokio::spawn(run_worker(app.clone(), jobs));
    tokio::spawn(sweep_every(app.clone(), Duration::from_secs(60)));
    axum::serve(listener, local_router(app))
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_names_every_webhook_and_the_loopback_allowance() {
        let addr = "127.0.0.1:3000".parse().expect("addr");
        let text = banner(addr, Path::new("./data"), EndpointPolicy::LOCAL);
        for path in ["custom", "stripe", "chargebee", "recurly", "chargify"] {
            let url = format!("http://127.0.0.1:3000/webhooks/{{program}}/{path}");
            assert!(text.contains(&url), "{url} missing from:\n{text}");
        }
        assert!(text.contains("http://127.0.0.1:3000/hooks/{id}/{token}"));
        assert!(text.contains("loopback addresses over plain http"));
        let private = banner(addr, Path::new("./data"), EndpointPolicy::LOCAL_PRIVATE);
        assert!(private.contains("loopback and private addresses"));
    }
}
