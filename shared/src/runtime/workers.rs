//! The SQS batch runner of the worker functions: each message's job runs on its own, and the
//! ones that fail are reported as `batchItemFailures`, so only those come back.

use crate::app::App;
use crate::error::AppError;
use crate::queue::Job;
use crate::usecases::commission::job::commission;
use crate::usecases::postbacks::deliver;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

pub async fn process_job(app: &App, job: &Job) -> Result<(), AppError> {
    match job {
        Job::Commission {
            program,
            transaction_key,
        } => commission(app, program, transaction_key).await,
        Job::Deliver {
            program,
            delivery_id,
            attempt,
        } => deliver::process(app, program, delivery_id, *attempt).await,
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
/// only those come back.
pub async fn handle_sqs_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = futures::future::join_all(event.records.into_iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let job = record.body.as_deref().map(serde_json::from_str::<Job>);
        match job {
            Some(Ok(job)) => match process_job(app, &job).await {
                Ok(()) => None,
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, ?job, "job failed; SQS will redeliver it");
                    Some(id)
                }
            },
            // A message no worker can ever read must not be retried until it dead-letters.
            Some(Err(e)) => {
                tracing::error!(message_id = %id, error = %e, "unreadable job dropped");
                None
            }
            None => {
                tracing::error!(message_id = %id, "job without a body dropped");
                None
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
