//! `partnerhook serve` in-process over real HTTP: a fresh data folder on disk, program `shop`.

use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::runtime::local;
use partnerhook::usecases::programs::{self as program, CreatedProgram};
use std::path::PathBuf;

/// A local server on a fresh data folder (named after `purpose`) with program `shop`: its base
/// URL, the program's secrets and the folder.
pub async fn serve_shop(purpose: &str) -> (String, CreatedProgram, PathBuf) {
    let data = std::env::temp_dir().join(format!("ph-{purpose}-{}", uuid::Uuid::now_v7()));
    // The operator CLI writes to the same folder the server reads (SQLite shares it).
    let (admin_app, _) =
        local::local_app(&data, EndpointPolicy::LOCAL).expect("open the data folder");
    let created = program::create(&admin_app.repo, "shop", None, "EUR")
        .await
        .expect("create a program");
    let listener = local::bind("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server_data = data.clone();
    tokio::spawn(async move { local::serve(listener, &server_data, EndpointPolicy::LOCAL).await });
    (base, created, data)
}
