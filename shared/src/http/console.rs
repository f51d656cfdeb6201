//! The console: a static page for the program's admins (`GET /console`, its files under
//! `/console/...`), embedded in the binary. It calls only the documented `/v1` API with the
//! admin key the user pastes, so it is no part of the API and has no route of its own there.

use crate::error::AppError;
use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

/// Scripts and styles from this origin's files only (no inline script), no framing, API calls
/// to this origin only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the console: its path under `/console/`, its media type and its text.
pub const ASSETS: [(&str, &str, &str); 14] = [
    ("index.html", HTML, include_str!("../../console/index.html")),
    (
        "console.css",
        CSS,
        include_str!("../../console/console.css"),
    ),
    ("js/main.js", JS, include_str!("../../console/js/main.js")),
    ("js/api.js", JS, include_str!("../../console/js/api.js")),
    ("js/ui.js", JS, include_str!("../../console/js/ui.js")),
    ("js/chart.js", JS, include_str!("../../console/js/chart.js")),
    (
        "js/overview.js",
        JS,
        include_str!("../../console/js/overview.js"),
    ),
    ("js/inbox.js", JS, include_str!("../../console/js/inbox.js")),
    (
        "js/transactions.js",
        JS,
        include_str!("../../console/js/transactions.js"),
    ),
    (
        "js/partners.js",
        JS,
        include_str!("../../console/js/partners.js"),
    ),
    (
        "js/rewards.js",
        JS,
        include_str!("../../console/js/rewards.js"),
    ),
    ("js/hooks.js", JS, include_str!("../../console/js/hooks.js")),
    (
        "js/access.js",
        JS,
        include_str!("../../console/js/access.js"),
    ),
    (
        "js/settings.js",
        JS,
        include_str!("../../console/js/settings.js"),
    ),
];

fn security_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // Small files, always fresh after a deploy: a revalidation costs little.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

fn file(name: &str) -> Response {
    match ASSETS.iter().find(|(path, _, _)| *path == name) {
        Some((_, media_type, text)) => (
            security_headers(),
            [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
            *text,
        )
            .into_response(),
        None => (
            security_headers(),
            AppError::NotFound("no such console file".into()),
        )
            .into_response(),
    }
}

/// `GET /console`: the page.
pub async fn page() -> Response {
    file("index.html")
}

/// `GET /console/{*file}`: one of its files.
pub async fn asset(Path(name): Path<String>) -> Response {
    file(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_file_is_served_with_its_type_and_the_security_headers() {
        for (name, media_type, text) in ASSETS {
            let answer = asset(Path(name.to_string())).await;
            assert_eq!(answer.status(), 200, "{name}");
            let headers = answer.headers();
            assert_eq!(headers[header::CONTENT_TYPE], media_type, "{name}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
            let csp = headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap_or("");
            assert!(
                csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"),
                "{csp}"
            );
            assert!(!text.is_empty(), "{name}");
        }
    }

    #[tokio::test]
    async fn an_unknown_file_is_a_404_with_the_headers() {
        for name in ["nope.js", "../Cargo.toml", "", "js/"] {
            let answer = asset(Path(name.to_string())).await;
            assert_eq!(answer.status(), 404, "{name}");
            assert_eq!(answer.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }

    /// Every file the page or a script names is served, so no reference is dangling: the page
    /// names `/console/...`, a module its siblings as `./x.js`.
    #[test]
    fn every_referenced_file_exists() {
        let mut checked = 0;
        for (name, _, text) in ASSETS {
            for quoted in text.split(['"', '\'']) {
                let target = match (quoted.strip_prefix("/console/"), quoted.strip_prefix("./")) {
                    (Some(path), _) => path.to_string(),
                    (None, Some(sibling)) if sibling.ends_with(".js") => format!("js/{sibling}"),
                    _ => continue,
                };
                checked += 1;
                assert!(
                    ASSETS.iter().any(|(path, _, _)| *path == target),
                    "{name} names {target}, which is not served"
                );
            }
        }
        assert!(
            checked >= ASSETS.len() - 1,
            "only {checked} references found"
        );
    }
}
