//! The OpenAPI document (`GET /v1/openapi.json`, `docs/openapi.json`) against the routes, both
//! ways, against the checked-in file, against real answers, and through an independent
//! validator (`openapi-spec-validator`, installed by ./infra/test.sh). How it is kept in step
//! with the code: `partnerhook::http::openapi`.

use crate::support::{call, Backend, Env};
use partnerhook::http::openapi_json as document_json;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "UPDATE_OPENAPI=1 cargo test -p partnerhook-e2e openapi";
const HOW_TO_ADD: &str =
    "register the handler with `OpenApiRouter::new().routes(routes!(handler))` \
     in its resource module's `routes()` and annotate it with `#[utoipa::path(...)]` (see \
     docs/ARCHITECTURE.md, \"Adding a route\")";
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_path_buf()
}

fn document() -> Value {
    serde_json::from_str(&document_json()).expect("the document is JSON")
}

/// Every documented (method, path), methods upper-case.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut ops = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("a path item").keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// A concrete path for a templated one: `{key}` becomes `key`.
fn concrete(path: &str) -> String {
    path.replace(['{', '}'], "")
}

#[test]
fn checked_in_document_is_current() {
    let file = repo_root().join("docs/openapi.json");
    let generated = document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&file, &generated).expect("write docs/openapi.json");
        return;
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json is stale (or missing): the routes' annotations changed. Regenerate it \
         with `{REGENERATE}` and commit it."
    );
}

/// Each documented operation reaches its handler (not the `no such route` fallback, not 405),
/// and on each documented path every other method is 405: a handler registered there around
/// the document shows up.
#[tokio::test]
async fn documented_routes_are_the_served_ones() {
    let env = Env::new(Backend::Embedded).await;
    let router = partnerhook::http::local_router(env.app.clone());
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() > 40, "only {} operations documented", ops.len());
    let documented: BTreeSet<(String, String)> = ops.into_iter().collect();
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in METHODS {
            let (status, body) = call(&router, method, &concrete(path), &[], b"", false).await;
            let fallback =
                status == 405 || (status == 404 && body["error"]["message"] == "no such route");
            if documented.contains(&(method.to_string(), path.clone())) {
                assert!(
                    !fallback,
                    "the document names {method} {path}, but the router does not serve it \
                     ({status} {body}): remove its #[utoipa::path] or register the handler: \
                     {HOW_TO_ADD}; then `{REGENERATE}`"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is served ({status} {body}) but not documented: {HOW_TO_ADD}; \
                     then `{REGENERATE}`"
                );
            }
        }
    }
}

/// Where axum could add a route that the document cannot see. Two exceptions, neither part of
/// the API: the provider webhooks (generic over their source, provider-facing) and the console's
/// static files (a client of the API; `http/console.rs`).
const AROUND_THE_DOCUMENT: [&str; 5] = [
    ".route(",
    ".route_service(",
    ".nest(",
    ".nest_service(",
    "MethodRouter",
];

/// The handlers those exceptions register, as they are written in `http/mod.rs`.
const EXCEPTIONS: [&str; 3] = [
    "post(webhooks::source_webhook::<S>)",
    "get(console::page)",
    "get(console::asset)",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_route_is_registered_around_the_document() {
    let http = repo_root().join("shared/src/http");
    let mut files = Vec::new();
    rust_files(&http, &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for (n, line) in text.lines().enumerate() {
            let allowed = line.trim_start().starts_with("//")
                || EXCEPTIONS.iter().any(|handler| line.contains(handler));
            if !allowed && AROUND_THE_DOCUMENT.iter().any(|p| line.contains(p)) {
                let shown = file.strip_prefix(repo_root()).unwrap_or(&file).display();
                found.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "routes registered with axum directly, so the OpenAPI document cannot see them:\n{}\n\
         Instead, {HOW_TO_ADD}; then `{REGENERATE}`.",
        found.join("\n")
    );
}

/// Runs `openapi-spec-validator` (PyPI) on a file; panics with its complaint.
fn validate_with_openapi_spec_validator(file: &Path) {
    let python = std::env::var("PARTNERHOOK_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PARTNERHOOK_TEST_PYTHON is not set: the OpenAPI document is checked by \
             openapi-spec-validator, which ./infra/test.sh installs; run the tests with \
             ./infra/test.sh (or `source infra/services.sh` first)"
        )
    });
    let output = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}; run ./infra/test.sh to install it"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !said.contains("No module named"),
        "openapi-spec-validator is not installed in {python}: run ./infra/test.sh (it installs \
         it): {said}"
    );
    assert!(
        output.status.success(),
        "openapi-spec-validator refused {}: {said}",
        file.display()
    );
}

#[tokio::test]
async fn openapi_spec_validator_accepts_the_document() {
    validate_with_openapi_spec_validator(&repo_root().join("docs/openapi.json"));

    let env = Env::new(Backend::Embedded).await;
    let (status, served) = call(
        &env.api_router(),
        "GET",
        "/v1/openapi.json",
        &[],
        b"",
        false,
    )
    .await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(
        served,
        document(),
        "the served document is the generated one"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let file = std::env::temp_dir().join(format!("ph-openapi-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&file, served.to_string()).expect("write the served document");
    validate_with_openapi_spec_validator(&file);
    let _ = std::fs::remove_file(&file);
}
