//! The audit log's middleware: every change an admin key makes through the API (a non-`GET`
//! request answered 2xx, not a replay) is kept with the key, the route and two digests.
//! Generic over the routes, so a new route is audited without a line of its own:
//! - before: SHA-256 of the resource's `GET` view, asked of the same routes with the same key
//!   just before the change: the path itself, or for a route ending in a verb or part after an
//!   id (`/v1/rewards/{key}/hold`, `/v1/incoming-webhooks/{id}/mapping`) the resource it acts
//!   on; none for a create in a collection, or when that `GET` is not a 200;
//! - after: SHA-256 of the answer's body, none when it has none (a deletion).
//!
//! Only digests are kept, never a body, so no secret in a request or an answer reaches the log.

use crate::app::App;
use crate::domain::audit::AuditEntry;
use crate::http::auth::CallerSlot;
use crate::http::idempotency::HEADER as IDEMPOTENCY_HEADER;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

/// What the middleware needs: the app, and the routes to ask for a resource's view.
#[derive(Clone)]
pub struct Audit {
    pub app: App,
    pub reader: Router,
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The path whose `GET` view is the resource a change acts on, if it has one.
fn resource_path(method: &Method, route: &str, path: &str) -> Option<String> {
    let template: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    let is_param = |s: &&str| s.starts_with('{');
    let acts_on_parent =
        matches!(template.as_slice(), [.., id, last] if is_param(id) && !is_param(last));
    if acts_on_parent {
        return path.rsplit_once('/').map(|(parent, _)| parent.to_string());
    }
    // A create in a collection: the collection's view is a listing, not the resource.
    (method != Method::POST).then(|| path.to_string())
}

/// The digest of `path`'s `GET` view, asked with the request's own credentials.
async fn view_digest(audit: &Audit, original: &Parts, path: &str) -> Option<String> {
    let mut uri = Uri::builder().path_and_query(path);
    if let (Some(scheme), Some(authority)) = (original.uri.scheme(), original.uri.authority()) {
        uri = uri.scheme(scheme.clone()).authority(authority.clone());
    }
    let mut request = Request::get(uri.build().ok()?).body(Body::empty()).ok()?;
    let headers = request.headers_mut();
    for (name, value) in &original.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name.as_str() != IDEMPOTENCY_HEADER
        {
            headers.append(name.clone(), value.clone());
        }
    }
    let response = audit.reader.clone().oneshot(request).await.ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .ok()?;
    Some(digest(&body))
}

pub async fn audited(State(audit): State<Audit>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let (Some(route), false, true) = (
        route,
        matches!(method, Method::GET | Method::HEAD | Method::OPTIONS),
        request.headers().contains_key(header::AUTHORIZATION),
    ) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let before = match resource_path(&method, &route, &path) {
        Some(resource) => view_digest(&audit, &parts, &resource).await,
        None => None,
    };
    let slot = CallerSlot::default();
    parts.extensions.insert(slot.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    let replayed = response.headers().contains_key("idempotent-replayed");
    let (Some(caller), true, false) = (
        slot.caller().cloned(),
        response.status().is_success(),
        replayed,
    ) else {
        return response;
    };
    let (head, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return crate::error::AppError::Internal("the answer could not be read".into())
            .into_response();
    };
    let entry = AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at: audit.app.now(),
        key_id: caller.key_id.clone(),
        key_name: caller.key_name.clone(),
        method: method.to_string(),
        route,
        path,
        status: head.status.as_u16(),
        before,
        after: (!body.is_empty()).then(|| digest(&body)),
    };
    if let Err(e) = audit.app.repo.record_audit(&caller.program, &entry).await {
        // The change is made; its answer must reach the caller all the same.
        tracing::error!(error = %e, entry = ?entry, "could not keep an audit entry");
    }
    Response::from_parts(head, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_digested_against_the_resource_it_acts_on() {
        let cases = [
            (
                Method::PATCH,
                "/v1/program",
                "/v1/program",
                Some("/v1/program"),
            ),
            (
                Method::DELETE,
                "/v1/groups/{key}",
                "/v1/groups/g",
                Some("/v1/groups/g"),
            ),
            (Method::POST, "/v1/partners", "/v1/partners", None),
            (
                Method::POST,
                "/v1/rewards/{key}/hold",
                "/v1/rewards/tx:1/hold",
                Some("/v1/rewards/tx:1"),
            ),
            (
                Method::PUT,
                "/v1/incoming-webhooks/{id}/mapping",
                "/v1/incoming-webhooks/h1/mapping",
                Some("/v1/incoming-webhooks/h1"),
            ),
            (
                Method::POST,
                "/v1/program/api-keys",
                "/v1/program/api-keys",
                None,
            ),
        ];
        for (method, route, path, expected) in cases {
            assert_eq!(
                resource_path(&method, route, path).as_deref(),
                expected,
                "{method} {route}"
            );
        }
    }
}
