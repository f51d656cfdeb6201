//! Program settings as `PATCH /v1/program` changes them: every field optional and validated,
//! secrets write-only. Pure.

use crate::domain::error::FieldError;
use crate::domain::money::{Currency, MAX_USD_RATE};
use crate::domain::plan::patch::{self, CommissionPatch, PercentText};
use crate::domain::program::{BasicCredential, Program, ProviderSecrets};
use crate::domain::time::Millis;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `PATCH /v1/program`: every field optional; secrets are write-only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatch {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub commission: Option<CommissionPatch>,
    pub custom_webhook: Option<CustomWebhookPatch>,
    pub providers: Option<ProvidersPatch>,
    /// USD per unit of a currency, for postbacks' `amount_usd`: `{"EUR": "1.08"}`.
    pub usd_rates: Option<BTreeMap<String, PercentText>>,
    /// The smallest payout per currency, as decimal amounts: `{"USD": "50.00"}`; a currency
    /// left out has none. Replaces what was set.
    pub min_payout: Option<BTreeMap<String, String>>,
}

/// One value, or two while rotating.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrTwo {
    One(String),
    Many(Vec<String>),
}

impl OneOrTwo {
    fn values(self, field: &str) -> Result<Vec<String>, FieldError> {
        let values: Vec<String> = match self {
            Self::One(v) => vec![v],
            Self::Many(vs) => vs,
        }
        .into_iter()
        .map(|v| v.trim().to_string())
        .collect();
        if values.is_empty() || values.len() > 2 {
            return Err(FieldError::new(
                field,
                "give one value, or two while rotating",
            ));
        }
        if values.iter().any(|v| v.is_empty() || v.len() > 512) {
            return Err(FieldError::new(field, "must be 1 to 512 characters"));
        }
        Ok(values)
    }
}

/// `PATCH /v1/program` `providers`: each provider's credentials, write-only. A field given
/// replaces what was set; a field left out keeps it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersPatch {
    pub stripe: Option<StripePatch>,
    pub chargebee: Option<BasicPatch>,
    pub recurly: Option<RecurlyPatch>,
    pub chargify: Option<ChargifyPatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripePatch {
    pub signing_secret: OneOrTwo,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicPatch {
    pub username: OneOrTwo,
    pub password: OneOrTwo,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurlyPatch {
    pub username: Option<OneOrTwo>,
    pub password: Option<OneOrTwo>,
    pub signing_key: Option<OneOrTwo>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargifyPatch {
    pub site_shared_key: OneOrTwo,
}

/// Pairs user names with passwords by position; a single one goes with each of the others.
fn credentials(
    field: &str,
    username: OneOrTwo,
    password: OneOrTwo,
) -> Result<Vec<BasicCredential>, FieldError> {
    let users = username.values(&format!("{field}.username"))?;
    let passwords = password.values(&format!("{field}.password"))?;
    let count = users.len().max(passwords.len());
    Ok((0..count)
        .map(|i| BasicCredential {
            username: users[i.min(users.len() - 1)].clone(),
            password: passwords[i.min(passwords.len() - 1)].clone(),
        })
        .collect())
}

fn apply_providers(secrets: &mut ProviderSecrets, patch: ProvidersPatch) -> Result<(), FieldError> {
    if let Some(stripe) = patch.stripe {
        secrets.stripe_signing_secrets = stripe
            .signing_secret
            .values("providers.stripe.signing_secret")?;
    }
    if let Some(chargebee) = patch.chargebee {
        secrets.chargebee_credentials = credentials(
            "providers.chargebee",
            chargebee.username,
            chargebee.password,
        )?;
    }
    if let Some(recurly) = patch.recurly {
        match (recurly.username, recurly.password) {
            (Some(username), Some(password)) => {
                secrets.recurly_credentials = credentials("providers.recurly", username, password)?;
            }
            (None, None) => {}
            _ => {
                return Err(FieldError::new(
                    "providers.recurly",
                    "give username and password together",
                ))
            }
        }
        if let Some(key) = recurly.signing_key {
            secrets.recurly_signing_keys = key.values("providers.recurly.signing_key")?;
        }
    }
    if let Some(chargify) = patch.chargify {
        secrets.chargify_site_shared_keys = chargify
            .site_shared_key
            .values("providers.chargify.site_shared_key")?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomWebhookPatch {
    /// One secret, or two while senders move from the old to the new one.
    pub secrets: Vec<String>,
}

/// Applies a patch to a program at `now`, validating every field; pure.
pub fn apply_patch(
    program: &mut Program,
    patch: ProgramPatch,
    now: Millis,
) -> Result<(), FieldError> {
    if let Some(name) = patch.name {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(FieldError::new("name", "must be 1 to 200 characters"));
        }
        program.name = name.to_string();
    }
    if let Some(code) = patch.currency {
        program.currency =
            Currency::parse(&code).map_err(|e| FieldError::new("currency", e.to_string()))?;
    }
    if let Some(commission) = patch.commission {
        program.plan = patch::apply(&program.plan, commission, program.currency)?;
    }
    if let Some(webhook) = patch.custom_webhook {
        let secrets: Vec<String> = webhook
            .secrets
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        if secrets.is_empty() || secrets.len() > 2 {
            return Err(FieldError::new(
                "custom_webhook.secrets",
                "give one secret, or two while rotating",
            ));
        }
        if secrets.iter().any(|s| s.len() < 16 || s.len() > 256) {
            return Err(FieldError::new(
                "custom_webhook.secrets",
                "each secret must be 16 to 256 characters",
            ));
        }
        program.custom_webhook_secrets = secrets;
    }
    if let Some(providers) = patch.providers {
        apply_providers(&mut program.providers, providers)?;
    }
    if let Some(rates) = patch.usd_rates {
        let mut parsed = BTreeMap::new();
        for (code, rate) in rates {
            let field = format!("usd_rates.{code}");
            let currency =
                Currency::parse(&code).map_err(|e| FieldError::new(&field, e.to_string()))?;
            let rate = rate
                .text()
                .parse::<Decimal>()
                .ok()
                .filter(|r| *r > Decimal::ZERO && *r <= MAX_USD_RATE)
                .ok_or_else(|| {
                    FieldError::new(
                        &field,
                        format!("must be a positive decimal such as \"1.08\", at most {MAX_USD_RATE} (USD per unit)"),
                    )
                })?;
            parsed.insert(currency.code().to_string(), rate);
        }
        program.usd_rates = parsed;
    }
    if let Some(minimums) = patch.min_payout {
        program.min_payout = min_payouts(minimums)?;
    }
    program.updated_at = now;
    Ok(())
}

/// `min_payout`: an exact, non-negative amount per currency.
fn min_payouts(given: BTreeMap<String, String>) -> Result<BTreeMap<String, Decimal>, FieldError> {
    let mut parsed = BTreeMap::new();
    for (code, text) in given {
        let field = format!("min_payout.{code}");
        let currency =
            Currency::parse(&code).map_err(|e| FieldError::new(&field, e.to_string()))?;
        let amount = currency
            .parse_amount(&text)
            .map_err(|e| FieldError::new(&field, e.to_string()))?;
        parsed.insert(currency.code().to_string(), amount);
    }
    Ok(parsed)
}
