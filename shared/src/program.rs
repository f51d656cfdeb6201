//! Programs: creation (operator CLI) and settings (admin API).

use crate::commission::CommissionPlan;
use crate::domain::{now_millis, validate_slug, BasicCredential, Program, ProviderSecrets};
use crate::error::AppError;
use crate::money::Currency;
use crate::repo::Repo;
use crate::token::{hash_api_key, random_token};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

pub fn custom_webhook_path(slug: &str) -> String {
    provider_webhook_path(slug, "custom")
}

pub fn provider_webhook_path(slug: &str, provider: &str) -> String {
    format!("/webhooks/{slug}/{provider}")
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
    let now = now_millis();
    let program = Program {
        slug: slug.to_string(),
        name: name.unwrap_or(slug).to_string(),
        currency,
        plan: CommissionPlan::default(),
        custom_webhook_secrets: vec![secret.clone()],
        providers: Default::default(),
        usd_rates: Default::default(),
        created_at: now,
        updated_at: now,
    };
    if !repo
        .create_program(&program, &hash_api_key(&admin_key))
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
}

/// One value, or two while rotating.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrTwo {
    One(String),
    Many(Vec<String>),
}

impl OneOrTwo {
    fn values(self, field: &str) -> Result<Vec<String>, AppError> {
        let values: Vec<String> = match self {
            Self::One(v) => vec![v],
            Self::Many(vs) => vs,
        }
        .into_iter()
        .map(|v| v.trim().to_string())
        .collect();
        if values.is_empty() || values.len() > 2 {
            return Err(AppError::invalid(
                field,
                "give one value, or two while rotating",
            ));
        }
        if values.iter().any(|v| v.is_empty() || v.len() > 512) {
            return Err(AppError::invalid(field, "must be 1 to 512 characters"));
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
) -> Result<Vec<BasicCredential>, AppError> {
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

fn apply_providers(secrets: &mut ProviderSecrets, patch: ProvidersPatch) -> Result<(), AppError> {
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
                return Err(AppError::invalid(
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
pub struct CommissionPatch {
    /// Percent per tier level, as decimal strings or numbers: `["20", "5"]`.
    pub levels: Vec<PercentText>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PercentText {
    Text(String),
    Number(serde_json::Number),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomWebhookPatch {
    /// One secret, or two while senders move from the old to the new one.
    pub secrets: Vec<String>,
}

/// Applies a patch to a program, validating every field; pure.
pub fn apply_patch(program: &mut Program, patch: ProgramPatch) -> Result<(), AppError> {
    if let Some(name) = patch.name {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(AppError::invalid("name", "must be 1 to 200 characters"));
        }
        program.name = name.to_string();
    }
    if let Some(code) = patch.currency {
        program.currency =
            Currency::parse(&code).map_err(|e| AppError::invalid("currency", e.to_string()))?;
    }
    if let Some(commission) = patch.commission {
        let levels = commission
            .levels
            .iter()
            .enumerate()
            .map(|(i, level)| {
                let text = match level {
                    PercentText::Text(t) => t.clone(),
                    PercentText::Number(n) => n.to_string(),
                };
                text.trim().parse::<Decimal>().map_err(|_| {
                    AppError::invalid(
                        format!("commission.levels[{i}]"),
                        "must be a percentage such as \"20\"",
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let plan = CommissionPlan { levels };
        plan.validate()
            .map_err(|e| AppError::invalid("commission.levels", e.to_string()))?;
        program.plan = plan;
    }
    if let Some(webhook) = patch.custom_webhook {
        let secrets: Vec<String> = webhook
            .secrets
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        if secrets.is_empty() || secrets.len() > 2 {
            return Err(AppError::invalid(
                "custom_webhook.secrets",
                "give one secret, or two while rotating",
            ));
        }
        if secrets.iter().any(|s| s.len() < 16 || s.len() > 256) {
            return Err(AppError::invalid(
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
                Currency::parse(&code).map_err(|e| AppError::invalid(&field, e.to_string()))?;
            let text = match rate {
                PercentText::Text(t) => t,
                PercentText::Number(n) => n.to_string(),
            };
            let rate = text
                .trim()
                .parse::<Decimal>()
                .ok()
                .filter(|r| *r > Decimal::ZERO)
                .ok_or_else(|| {
                    AppError::invalid(&field, "must be a positive decimal such as \"1.08\"")
                })?;
            parsed.insert(currency.code().to_string(), rate);
        }
        program.usd_rates = parsed;
    }
    program.updated_at = now_millis();
    Ok(())
}

/// How the API shows a program: settings, never secrets.
pub fn view(program: &Program) -> serde_json::Value {
    let p = &program.providers;
    serde_json::json!({
        "slug": program.slug,
        "name": program.name,
        "currency": program.currency,
        "commission": { "levels": program.plan.levels },
        "custom_webhook": {
            "path": custom_webhook_path(&program.slug),
            "secrets_configured": program.custom_webhook_secrets.len(),
        },
        "providers": {
            "stripe": {
                "path": provider_webhook_path(&program.slug, "stripe"),
                "signing_secrets_configured": p.stripe_signing_secrets.len(),
            },
            "chargebee": {
                "path": provider_webhook_path(&program.slug, "chargebee"),
                "credentials_configured": p.chargebee_credentials.len(),
            },
            "recurly": {
                "path": provider_webhook_path(&program.slug, "recurly"),
                "credentials_configured": p.recurly_credentials.len(),
                "signing_keys_configured": p.recurly_signing_keys.len(),
            },
            "chargify": {
                "path": provider_webhook_path(&program.slug, "chargify"),
                "site_shared_keys_configured": p.chargify_site_shared_keys.len(),
            },
        },
        "usd_rates": program.usd_rates,
        "created_at": program.created_at,
        "updated_at": program.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        Program {
            slug: "acme".into(),
            name: "Acme".into(),
            currency: Currency::parse("EUR").unwrap(),
            plan: CommissionPlan::default(),
            custom_webhook_secrets: vec!["a".repeat(20)],
            providers: Default::default(),
            usd_rates: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn patch(json: serde_json::Value) -> ProgramPatch {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn patches_change_settings_and_rotate_secrets() {
        let mut p = program();
        apply_patch(
            &mut p,
            patch(serde_json::json!({
                "name": "Acme GmbH",
                "commission": {"levels": ["20", 5]},
                "custom_webhook": {"secrets": ["a".repeat(20), "b".repeat(20)]}
            })),
        )
        .unwrap();
        assert_eq!(p.name, "Acme GmbH");
        assert_eq!(p.plan.levels, vec![Decimal::from(20), Decimal::from(5)]);
        assert_eq!(p.custom_webhook_secrets.len(), 2);
        let shown = view(&p).to_string();
        assert!(!shown.contains(&"b".repeat(20)), "secrets are never shown");
    }

    #[test]
    fn provider_credentials_are_set_rotated_and_never_shown() {
        let mut p = program();
        apply_patch(
            &mut p,
            patch(serde_json::json!({"providers": {
                "stripe": {"signing_secret": ["whsec_old", "whsec_new"]},
                "chargebee": {"username": "cb", "password": ["pw1", "pw2"]},
                "recurly": {"signing_key": "rk"},
                "chargify": {"site_shared_key": "sk"}
            }})),
        )
        .unwrap();
        assert_eq!(
            p.providers.stripe_signing_secrets,
            ["whsec_old", "whsec_new"]
        );
        let users: Vec<_> = p
            .providers
            .chargebee_credentials
            .iter()
            .map(|c| (c.username.as_str(), c.password.as_str()))
            .collect();
        assert_eq!(users, [("cb", "pw1"), ("cb", "pw2")]);
        assert_eq!(p.providers.recurly_signing_keys, ["rk"]);
        assert!(p.providers.recurly_credentials.is_empty());
        let shown = view(&p).to_string();
        for secret in ["whsec_old", "whsec_new", "pw1", "pw2", "\"rk\"", "\"sk\""] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert_eq!(
            view(&p)["providers"]["stripe"]["signing_secrets_configured"],
            2
        );

        let mut q = program();
        let half = apply_patch(
            &mut q,
            patch(serde_json::json!({"providers": {"recurly": {"username": "u"}}})),
        );
        assert!(matches!(half, Err(AppError::InvalidField { .. })));
        let three = apply_patch(
            &mut q,
            patch(
                serde_json::json!({"providers": {"stripe": {"signing_secret": ["a", "b", "c"]}}}),
            ),
        );
        assert!(matches!(three, Err(AppError::InvalidField { .. })));
    }

    #[test]
    fn bad_patches_change_nothing_and_name_the_field() {
        for (json, field) in [
            (
                serde_json::json!({"commission": {"levels": ["abc"]}}),
                "commission.levels[0]",
            ),
            (
                serde_json::json!({"commission": {"levels": ["120"]}}),
                "commission.levels",
            ),
            (
                serde_json::json!({"commission": {"levels": []}}),
                "commission.levels",
            ),
            (
                serde_json::json!({"custom_webhook": {"secrets": ["short"]}}),
                "custom_webhook.secrets",
            ),
            (
                serde_json::json!({"custom_webhook": {"secrets": []}}),
                "custom_webhook.secrets",
            ),
            (serde_json::json!({"currency": "EURO"}), "currency"),
            (serde_json::json!({"name": " "}), "name"),
        ] {
            let mut p = program();
            match apply_patch(&mut p, patch(json)) {
                Err(AppError::InvalidField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected an error on {field}, got {other:?}"),
            }
        }
    }
}
