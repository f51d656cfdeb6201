//! Programs: created by the operator (CLI), with the credentials shown once.

use crate::crypto::token::{hash_api_key, random_token};
use crate::domain::money::Currency;
use crate::domain::plan::CommissionPlan;
use crate::domain::program::{custom_webhook_path, Program};
use crate::domain::validate::validate_slug;
use crate::error::AppError;
use crate::repo::core::Repo;
use crate::usecases::admin_keys::new_key_id;
use serde::Serialize;

/// What the operator is shown once: the credentials are not stored in a readable form.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedProgram {
    pub slug: String,
    pub name: String,
    pub currency: String,
    pub admin_key: String,
    pub custom_webhook_secret: String,
    pub custom_webhook_path: String,
}

pub async fn create(
    repo: &Repo,
    slug: &str,
    name: Option<&str>,
    currency: &str,
) -> Result<CreatedProgram, AppError> {
    validate_slug(slug).map_err(|m| AppError::invalid("slug", m))?;
    let currency =
        Currency::parse(currency).map_err(|e| AppError::invalid("currency", e.to_string()))?;
    let admin_key = random_token("phk_", 32);
    let secret = random_token("phsec_", 32);
    let now = repo.now();
    let program = Program {
        slug: slug.to_string(),
        name: name.unwrap_or(slug).to_string(),
        currency,
        plan: CommissionPlan::default(),
        custom_webhook_secrets: vec![secret.clone()],
        providers: Default::default(),
        usd_rates: Default::default(),
        min_payout: Default::default(),
        created_at: now,
        updated_at: now,
    };
    if !repo
        .create_program(&program, &hash_api_key(&admin_key), &new_key_id())
        .await?
    {
        return Err(AppError::Conflict(format!(
            "program {slug:?} exists already"
        )));
    }
    Ok(CreatedProgram {
        slug: program.slug,
        name: program.name,
        currency: currency.code().to_string(),
        admin_key,
        custom_webhook_secret: secret,
        custom_webhook_path: custom_webhook_path(slug),
    })
}
