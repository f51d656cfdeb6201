//! webhook-incoming: `POST /hooks/{id}/{token}` and `.../test` behind API Gateway (HTTP API).

use partnerhook::{http::incoming_router, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(incoming_router(app)).await
}
