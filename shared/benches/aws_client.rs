//! The CPU the AWS SDK client spends on TLS before its first answer, each round in a fresh
//! process as after a cold start: the SDK's default HTTPS client, which loads the system's root
//! store, against the Lambda functions' client with the Amazon roots built in
//! (`runtime::aws_https`). A local TLS server (RSA-2048 certificate, as AWS endpoints use,
//! but no intermediate) answers each request and closes the connection, so every request
//! makes a handshake: the first one also sets the client up (TLS configuration, root
//! certificates); the second is a handshake and a request alone.
//! `cargo bench -p partnerhook --bench aws_client` prints medians of the client thread's CPU
//! time (CLOCK_THREAD_CPUTIME_ID; the server runs on another thread) and of wall time.
//! The Lambda build compiles aws-lc without CPU jitter entropy (Cargo.toml,
//! `workspace.metadata.lambda.build`); prefix `AWS_LC_SYS_NO_JITTER_ENTROPY=1` to measure that,
//! or the first request also pays aws-lc's jitter seeding (~23 ms of CPU here).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use partnerhook::runtime::aws_https::{https_client, AMAZON_ROOTS};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const VARIANT: &str = "PARTNERHOOK_BENCH_AWS_CLIENT";
const ROUNDS: usize = 15;
const CA: &[u8] = include_bytes!("fixtures/bench_ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("fixtures/bench_server.pem");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/bench_server.key");
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn main() {
    match std::env::var(VARIANT) {
        Ok(variant) => child(&variant),
        Err(_) => parent(),
    }
}

/// Runs the variants interleaved, one process per round, and prints their medians.
fn parent() {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    // The system store with the bench CA added, as SSL_CERT_FILE.
    let bundle = std::env::temp_dir().join("partnerhook-bench-roots.pem");
    let system = std::fs::read(SYSTEM_BUNDLE).unwrap_or_else(|e| panic!("{SYSTEM_BUNDLE}: {e}"));
    std::fs::write(&bundle, [system.as_slice(), CA].concat()).unwrap_or_else(|e| panic!("{e}"));
    let variants = [
        (
            "system roots: SSL_CERT_FILE and SSL_CERT_DIR=/etc/ssl/certs",
            "system",
            true,
        ),
        ("system roots: SSL_CERT_FILE only", "system", false),
        (
            "built-in Amazon roots (runtime::aws_https)",
            "built-in",
            false,
        ),
    ];
    let mut samples: Vec<Vec<Vec<Duration>>> = vec![Vec::new(); variants.len()];
    for _ in 0..ROUNDS {
        for (i, (_, variant, with_dir)) in variants.iter().enumerate() {
            let mut command = Command::new(&exe);
            command.env(VARIANT, variant).env("SSL_CERT_FILE", &bundle);
            match with_dir {
                true => command.env("SSL_CERT_DIR", "/etc/ssl/certs"),
                false => command.env_remove("SSL_CERT_DIR"),
            };
            let output = command.output().unwrap_or_else(|e| panic!("{e}"));
            let line = String::from_utf8_lossy(&output.stdout);
            let micros = line
                .split_whitespace()
                .map(|n| n.parse().map(Duration::from_micros))
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|e| {
                    panic!("{e}: {line} {}", String::from_utf8_lossy(&output.stderr))
                });
            samples[i].push(micros);
        }
    }
    println!("AWS SDK client over TLS, fresh process, medians of {ROUNDS} rounds, CPU / wall:");
    for (i, (name, _, _)) in variants.iter().enumerate() {
        let median = |k: usize| {
            let mut v: Vec<Duration> = samples[i].iter().map(|s| s[k]).collect();
            v.sort();
            v[v.len() / 2]
        };
        println!("  {name}");
        println!(
            "    config + client {:>8.2?} / {:>8.2?}   first request {:>8.2?} / {:>8.2?}   second request {:>8.2?} / {:>8.2?}",
            median(0), median(1), median(2), median(3), median(4), median(5)
        );
    }
}

/// One round: builds the config and a DynamoDB client, then sends two requests over TLS.
fn child(variant: &str) {
    let port = serve_tls();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
            .retry_config(RetryConfig::disabled())
            .endpoint_url(format!("https://127.0.0.1:{port}"));
        let loader = match variant {
            "built-in" => loader.http_client(
                https_client(&[AMAZON_ROOTS, CA].concat()).unwrap_or_else(|e| panic!("{e}")),
            ),
            _ => loader,
        };
        let client = aws_sdk_dynamodb::Client::new(&loader.load().await);
        let mut figures = vec![thread_cpu() - cpu, wall.elapsed()];
        for _ in 0..2 {
            let (wall, cpu) = (Instant::now(), thread_cpu());
            let answer = client.list_tables().send().await;
            figures.extend([thread_cpu() - cpu, wall.elapsed()]);
            answer.unwrap_or_else(|e| panic!("{e:?}"));
        }
        let micros: Vec<String> = figures.iter().map(|d| d.as_micros().to_string()).collect();
        println!("{}", micros.join(" "));
    });
}

/// A TLS server on a thread of its own: one request per connection, answered `{}`.
fn serve_tls() -> u16 {
    let cert = CertificateDer::from_pem_slice(SERVER_CERT).unwrap_or_else(|e| panic!("{e}"));
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap_or_else(|e| panic!("{e}"));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(vec![cert], key))
        .unwrap_or_else(|e| panic!("{e}"));
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(tls) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut stream = rustls::StreamOwned::new(tls, tcp);
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // The request's head and its small JSON body come in the first reads.
            while !request.ends_with(b"{}") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                          content-length: 2\r\nconnection: close\r\n\r\n{}";
            let _ = stream.write_all(answer.as_bytes());
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
    });
    port
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
