//! `partnerhook`: the operator CLI. `serve` runs everything locally; `program create` sets up
//! a program in the embedded store or in a DynamoDB table; `import transactions` sends a CSV
//! file to a deployment's API.

mod import;

use clap::{Args, Parser, Subcommand};
use partnerhook::app::App;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::runtime::{self, local};
use partnerhook::usecases::programs as program;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "partnerhook", version, about = "Partnerhook operator CLI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every route of every function in one process on localhost.
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Folder of the embedded store (created if missing).
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Also send postbacks to private addresses (10/8, 172.16/12, 192.168/16, 100.64/10,
        /// fc00::/7); loopback is always allowed here, link-local and metadata never.
        #[arg(long)]
        allow_private_postbacks: bool,
    },
    /// Manage programs.
    Program {
        #[command(subcommand)]
        command: ProgramCommand,
    },
    /// Import records from files through the API.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Send a CSV file of transactions in chunks; re-run it to resume (done rows are skipped).
    Transactions {
        file: PathBuf,
        /// Base URL of the API, e.g. https://abc.execute-api.eu-west-1.amazonaws.com
        #[arg(long, env = "PARTNERHOOK_API")]
        api: String,
        /// The program's admin key.
        #[arg(long, env = "PARTNERHOOK_ADMIN_KEY")]
        key: String,
        /// Check every row and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum ProgramCommand {
    /// Create a program; prints its admin key and custom webhook secret as JSON, once.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: Option<String>,
        /// ISO 4217 code of the program's default currency.
        #[arg(long, default_value = "USD")]
        currency: String,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// Folder of the embedded store, as given to `serve --data`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// DynamoDB table of a deployed stack (uses the ambient AWS credentials).
    #[arg(long)]
    table: Option<String>,
}

async fn app_for(target: Target) -> Result<App, String> {
    if let Some(dir) = target.data {
        // Creating a program sends no postbacks.
        let (app, _jobs) =
            local::local_app(&dir, EndpointPolicy::LOCAL).map_err(|e| e.to_string())?;
        return Ok(app);
    }
    let table = target.table.ok_or("give --data DIR or --table NAME")?;
    let config = runtime::aws_config().await;
    let store = runtime::dynamo_store(&config, table);
    // Creating a program queues no work, so no queue is needed.
    let (queue, _jobs) = partnerhook::queue::local::LocalQueue::new();
    Ok(App::new(
        Arc::new(store),
        Arc::new(queue),
        EndpointPolicy::AWS,
    ))
}

/// Where the local server's postbacks may go.
fn serve_policy(allow_private_postbacks: bool) -> EndpointPolicy {
    if allow_private_postbacks {
        EndpointPolicy::LOCAL_PRIVATE
    } else {
        EndpointPolicy::LOCAL
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            addr,
            data,
            allow_private_postbacks,
        } => {
            runtime::init_text_logs();
            let endpoints = serve_policy(allow_private_postbacks);
            let listener = local::bind(addr).await.map_err(|e| e.to_string())?;
            local::serve(listener, &data, endpoints)
                .await
                .map_err(|e| e.to_string())
        }
        Command::Program {
            command:
                ProgramCommand::Create {
                    slug,
                    name,
                    currency,
                    target,
                },
        } => {
            let app = app_for(target).await?;
            let created = program::create(&app.repo, &slug, name.as_deref(), &currency)
                .await
                .map_err(|e| e.to_string())?;
            let json = serde_json::to_string_pretty(&created).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Transactions {
                    file,
                    api,
                    key,
                    dry_run,
                },
        } => {
            let args = import::ImportArgs {
                file: &file,
                api: &api,
                key: &key,
                dry_run,
            };
            match import::import_transactions(args).await? {
                true => Ok(()),
                false => Err("some rows failed (listed above)".into()),
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("partnerhook: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `serve --allow-private-postbacks` is a contract: scripts and docs name it.
    fn serve_policy_of(args: &[&str]) -> EndpointPolicy {
        match Cli::try_parse_from(args).map(|cli| cli.command) {
            Ok(Command::Serve {
                allow_private_postbacks,
                ..
            }) => serve_policy(allow_private_postbacks),
            _ => panic!("{args:?} is not a serve command"),
        }
    }

    #[test]
    fn serve_reaches_loopback_and_private_ranges_only_with_the_flag() {
        assert_eq!(
            serve_policy_of(&["partnerhook", "serve"]),
            EndpointPolicy::LOCAL
        );
        assert_eq!(
            serve_policy_of(&["partnerhook", "serve", "--allow-private-postbacks"]),
            EndpointPolicy::LOCAL_PRIVATE
        );
    }
}
