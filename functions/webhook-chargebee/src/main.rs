//! webhook-chargebee: `POST /webhooks/{program}/chargebee` behind API Gateway (HTTP API).

use partnerhook::http::provider_router;
use partnerhook::runtime;
use partnerhook::sources::providers::chargebee::Chargebee;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(provider_router::<Chargebee>(app)).await
}
