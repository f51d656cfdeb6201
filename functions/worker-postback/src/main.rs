//! worker-postback: consumes the postback queue (one message per delivery attempt), reporting
//! partial batch failures.

use partnerhook::runtime::{self, workers as worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    worker::serve_sqs(app).await
}
