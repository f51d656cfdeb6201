//! Who is asking: one of the program's admin keys (full or read-only), or a partner's own key
//! (which sees that partner's postbacks alone). Keys come as `Authorization: Bearer` and are
//! looked up by their digest, with a consistent read, so a revoked key fails at once.

use crate::app::App;
use crate::crypto::token::hash_api_key;
use crate::domain::api_key::{ApiKeyGrant, ApiRole};
use crate::domain::program::Program;
use crate::error::AppError;
use crate::repo::codec::Versioned;
use crate::usecases::admin_keys;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use std::sync::{Arc, OnceLock};

/// The admin key behind a request, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub program: String,
    pub key_id: String,
    pub key_name: String,
}

/// Put in a request's extensions by the audit middleware; [`Admin`] fills it.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<Caller>>);

impl CallerSlot {
    pub fn caller(&self) -> Option<&Caller> {
        self.0.get()
    }
}

/// The program, grant and key digest behind a request's `Authorization: Bearer` key.
async fn authenticate(
    parts: &Parts,
    app: &App,
) -> Result<(Program, Versioned<ApiKeyGrant>, String), AppError> {
    let key = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <API key>".into()))?;
    let hash = hash_api_key(key);
    let grant = app
        .repo
        .get_api_key(&hash)
        .await?
        .ok_or_else(|| AppError::Unauthorized("unknown or revoked API key".into()))?;
    let program = app
        .repo
        .get_program(&grant.value.program)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the key's program no longer exists".into()))?;
    Ok((program.value, grant, hash))
}

/// A request made with one of the program's admin keys; a read-only key may only read.
pub struct Admin {
    pub program: Program,
}

impl FromRequestParts<App> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let (program, grant, hash) = authenticate(parts, app).await?;
        match grant.value.role {
            ApiRole::Admin => {}
            ApiRole::ReadOnly if matches!(parts.method, Method::GET | Method::HEAD) => {}
            ApiRole::ReadOnly => {
                return Err(AppError::Forbidden(
                    "this API key is read-only: it may only GET; changes take a full admin key"
                        .into(),
                ))
            }
            ApiRole::Partner => {
                return Err(AppError::Forbidden(
                    "this route takes one of the program's admin keys".into(),
                ))
            }
        }
        let (key_id, key_name) =
            admin_keys::note_use(&app.repo, &hash, grant, program.created_at).await;
        if let Some(slot) = parts.extensions.get::<CallerSlot>() {
            // Set once per request: the first extractor's word stands.
            let _ = slot.0.set(Caller {
                program: program.slug.clone(),
                key_id,
                key_name,
            });
        }
        Ok(Admin { program })
    }
}

/// A request made with a partner's own key: it sees that partner's postbacks alone.
pub struct PartnerAuth {
    pub program: Program,
    pub partner_key: String,
}

impl FromRequestParts<App> for PartnerAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match authenticate(parts, app).await? {
            (
                program,
                Versioned {
                    value:
                        ApiKeyGrant {
                            role: ApiRole::Partner,
                            partner_key: Some(partner_key),
                            ..
                        },
                    ..
                },
                _,
            ) => Ok(PartnerAuth {
                program,
                partner_key,
            }),
            _ => Err(AppError::Forbidden(
                "this route takes a partner API key (POST /v1/partners/{key}/api-keys)".into(),
            )),
        }
    }
}
