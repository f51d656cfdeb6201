//! worker-postback: consumes the postback queue (one message per delivery attempt), reporting
//! partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};
use partnerhook::{runtime, worker::handle_sqs_batch};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move {
            Ok::<SqsBatchResponse, lambda_runtime::Error>(
                handle_sqs_batch(&app, event.payload).await,
            )
        }
    }))
    .await
}
