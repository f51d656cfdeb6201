//! The SQS batch runner of the worker functions: each message's job runs on its own, and the
//! ones that fail are reported as `batchItemFailures`, so only those come back.

use crate::app::App;
use crate::error::AppError;
use crate::queue::Job;
use crate::repo::codec::Versioned;
use crate::usecases::commission::job::commission;
use crate::usecases::postbacks::deliver;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use std::future::Future;

pub async fn process_job(app: &App, job: &Job) -> Result<(), AppError> {
    match job {
        Job::Commission {
            program,
            transaction_key,
            program_record,
        } => {
            let read = program_record.as_deref().cloned();
            commission(app, program, transaction_key, read).await
        }
        Job::Deliver {
            program,
            delivery_id,
            attempt,
            delivery,
        } => {
            let carried = delivery.as_deref().map(|written| Versioned {
                value: written.value.clone(),
                version: written.version,
            });
            deliver::process(app, program, delivery_id, *attempt, carried).await
        }
    }
}

/// Runs a worker function on Lambda: SQS batches in, partial batch failures out.
pub async fn serve_sqs(app: App) -> Result<(), lambda_http::Error> {
    let handler = lambda_http::service_fn(move |event: lambda_http::LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move { Ok::<_, lambda_http::Error>(handle_sqs_batch(&app, event.payload).await) }
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// Processes an SQS batch, its messages concurrently, and reports the ones that failed, so
/// only those come back. A job that panics fails alone. A message no worker can read is
/// reported too: SQS hands it out again until the queue's redrive policy moves it to the
/// dead-letter queue, where an operator sees it (say, a job of a newer version during a deploy)
/// instead of losing it.
pub async fn handle_sqs_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = futures::future::join_all(event.records.into_iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let job = match record.body.as_deref().map(serde_json::from_str::<Job>) {
            Some(Ok(job)) => job,
            Some(Err(e)) => {
                tracing::error!(message_id = %id, error = %e, "unreadable job; left for the dead-letter queue");
                return Some(id);
            }
            None => {
                tracing::error!(message_id = %id, "job without a body; left for the dead-letter queue");
                return Some(id);
            }
        };
        match run_isolated(app, &job).await {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, ?job, "job failed; SQS will redeliver it");
                Some(id)
            }
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for failed in outcomes.into_iter().flatten() {
        response.add_failure(failed);
    }
    response
}

/// Runs a job so that a panic in it becomes its own failure, not the whole batch's.
pub async fn run_isolated(app: &App, job: &Job) -> Result<(), AppError> {
    isolated(process_job(app, job)).await
}

async fn isolated(work: impl Future<Output = Result<(), AppError>>) -> Result<(), AppError> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(AppError::Internal(format!("the job panicked: {what}")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_job_is_one_failure() {
        let outcome = isolated(async { panic!("boom") }).await;
        assert!(
            matches!(&outcome, Err(AppError::Internal(m)) if m.contains("boom")),
            "{outcome:?}"
        );
        assert!(isolated(async { Ok(()) }).await.is_ok());
    }
}
