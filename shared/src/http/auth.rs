//! Who is asking: the program's admin key, or a partner's own key (which sees that partner's
//! postbacks alone). Keys come as `Authorization: Bearer` and are looked up by their digest.

use crate::app::App;
use crate::crypto::token::hash_api_key;
use crate::domain::api_key::{ApiKeyGrant, ApiRole};
use crate::domain::program::Program;
use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

/// The program and grant behind a request's `Authorization: Bearer` key.
async fn authenticate(parts: &Parts, app: &App) -> Result<(Program, ApiKeyGrant), AppError> {
    let key = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <API key>".into()))?;
    let grant = app
        .repo
        .get_api_key(&hash_api_key(key))
        .await?
        .ok_or_else(|| AppError::Unauthorized("unknown API key".into()))?;
    let program = app
        .repo
        .get_program(&grant.program)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the key's program no longer exists".into()))?;
    Ok((program.value, grant))
}

/// A request made with a program's admin key.
pub struct Admin {
    pub program: Program,
}

impl FromRequestParts<App> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match authenticate(parts, app).await? {
            (program, grant) if grant.role == ApiRole::Admin => Ok(Admin { program }),
            _ => Err(AppError::Forbidden(
                "this route takes the program's admin key".into(),
            )),
        }
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
                ApiKeyGrant {
                    role: ApiRole::Partner,
                    partner_key: Some(partner_key),
                    ..
                },
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
