//! webhook-stripe: `POST /webhooks/{program}/stripe` behind API Gateway (HTTP API).

use partnerhook::http::provider_router;
use partnerhook::runtime;
use partnerhook::sources::providers::stripe::Stripe;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(provider_router::<Stripe>(app)).await
}
