//! The local all-in-one server: every route of every function in one process, the embedded
//! store under a data folder, and the commission worker fed by an in-process queue.

use crate::app::App;
use crate::http::local_router;
use crate::postback::ssrf::EndpointPolicy;
use crate::queue::local::LocalQueue;
use crate::queue::Job;
use crate::store::embedded::EmbeddedStore;
use crate::store::StoreError;
use crate::worker::process_job;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;

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

/// The app over the embedded store in `data`, with its local queue's receiving end.
pub fn local_app(data: &Path) -> Result<(App, UnboundedReceiver<Job>), StoreError> {
    let store = EmbeddedStore::open(data)?;
    let (queue, jobs) = LocalQueue::new();
    Ok((
        App::new(Arc::new(store), Arc::new(queue), EndpointPolicy::LOCAL),
        jobs,
    ))
}

/// Runs jobs one after another, retrying failures like SQS redelivery would.
pub async fn run_worker(app: App, mut jobs: UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        let mut delays = RETRY_DELAYS.iter();
        loop {
            match process_job(&app, &job).await {
                Ok(()) => break,
                Err(e) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(error = %e, ?job, "job failed; retrying");
                        tokio::time::sleep(*delay).await;
                    }
                    None => {
                        tracing::error!(error = %e, ?job, "job failed for good");
                        break;
                    }
                },
            }
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
        if let Err(e) = crate::sweeper::sweep(&app, crate::sweeper::GRACE_MS).await {
            tracing::error!(error = %e, "sweep failed");
        }
    }
}

/// Serves until Ctrl-C on a bound listener (bound first, so tests can use port 0).
pub async fn serve(listener: TcpListener, data: &Path) -> Result<(), ServeError> {
    let (app, jobs) = local_app(data)?;
    tokio::spawn(run_worker(app.clone(), jobs));
    tokio::spawn(sweep_every(app.clone(), Duration::from_secs(60)));
    let addr = listener.local_addr()?;
    println!(
        "Partnerhook is running on http://{addr} (data in {})",
        data.display()
    );
    println!("  custom webhook   POST http://{addr}/webhooks/{{program}}/custom");
    println!("  management API        http://{addr}/v1/...  (Authorization: Bearer <admin key>)");
    println!(
        "Create a program with: partnerhook program create --slug SLUG --data {}",
        data.display()
    );
    axum::serve(listener, local_router(app))
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}
