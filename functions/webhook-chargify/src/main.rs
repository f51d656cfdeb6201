//! webhook-chargify: `POST /webhooks/{program}/chargify` behind API Gateway (HTTP API).

use partnerhook::http::provider_router;
use partnerhook::runtime;
use partnerhook::sources::providers::chargify::Chargify;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::init_json_logs();
    let app = runtime::aws_app().await?;
    lambda_http::run(provider_router::<Chargify>(app)).await
}
