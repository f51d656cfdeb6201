//! Process set-up for the Lambda functions and the CLI: configuration from the environment,
//! AWS clients, structured logs; the SQS batch runner of the workers ([`workers`]) and the
//! local all-in-one server ([`local`]).

pub mod aws_https;
#[cfg(feature = "embedded")]
pub mod local;
pub mod workers;

use crate::app::App;
use crate::outbound::ssrf::EndpointPolicy;
use crate::queue::sqs::SqsQueue;
use crate::store::dynamodb::DynamoStore;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("the AWS HTTPS client could not be set up: {0}")]
    Tls(String),
}

pub fn env(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// Logs as JSON lines (what CloudWatch Logs Insights parses); `RUST_LOG` sets the level.
pub fn init_json_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
}

/// Human-readable logs for the local server and CLI.
pub fn init_text_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

/// The SDK's defaults, its HTTPS client trusting the system's root store (the CLI's).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The SDK's defaults with the Lambda functions' HTTPS client ([`aws_https`]).
pub async fn lambda_aws_config() -> Result<aws_config::SdkConfig, ConfigError> {
    let client = aws_https::https_client(aws_https::AMAZON_ROOTS).map_err(ConfigError::Tls)?;
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(client)
        .load()
        .await)
}

pub fn dynamo_store(config: &aws_config::SdkConfig, table: String) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(config), table)
}

/// The app as the Lambda functions run it: the table from `TABLE_NAME`, jobs to the queues at
/// `COMMISSION_QUEUE_URL` and `POSTBACK_QUEUE_URL`, postbacks to public https endpoints only.
pub async fn aws_app() -> Result<App, ConfigError> {
    let table = env("TABLE_NAME")?;
    let commission_queue = env("COMMISSION_QUEUE_URL")?;
    let postback_queue = env("POSTBACK_QUEUE_URL")?;
    let config = lambda_aws_config().await?;
    let store = dynamo_store(&config, table);
    let queue = SqsQueue::new(
        aws_sdk_sqs::Client::new(&config),
        commission_queue,
        postback_queue,
    );
    Ok(App::new(
        Arc::new(store),
        Arc::new(queue),
        EndpointPolicy::AWS,
    ))
}
