//! sweeper: runs on a schedule and queues the commission of transactions left `recorded`.

use lambda_http::{lambda_runtime, service_fn, LambdaEvent};
use partnerhook::runtime;
use partnerhook::usecases::sweeper;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    let handler = service_fn(|_: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            let report = sweeper::sweep(&app, sweeper::GRACE_MS).await?;
            Ok::<_, lambda_http::Error>(serde_json::json!({
                "programs": report.programs,
                "requeued": report.requeued,
                "released": report.released,
            }))
        }
    });
    lambda_runtime::run(handler).await
}
