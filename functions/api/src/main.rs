//! api: the management API (`/v1/...`) behind API Gateway (HTTP API).

use partnerhook::{http::api_router, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(api_router(app)).await
}
