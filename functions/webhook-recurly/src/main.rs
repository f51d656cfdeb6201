//! webhook-recurly: `POST /webhooks/{program}/recurly` behind API Gateway (HTTP API).

use partnerhook::http::provider_router;
use partnerhook::runtime;
use partnerhook::sources::providers::recurly::Recurly;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(provider_router::<Recurly>(app)).await
}
