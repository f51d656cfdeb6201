//! webhook-custom: `POST /webhooks/{program}/custom` behind API Gateway (HTTP API).

use partnerhook::{http::custom_webhook_router, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(custom_webhook_router(app)).await
}
