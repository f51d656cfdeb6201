//! A program: its settings, plan and the credentials its senders use.

use crate::domain::money::Currency;
use crate::domain::plan::CommissionPlan;
use crate::domain::time::Millis;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub slug: String,
    pub name: String,
    pub currency: Currency,
    pub plan: CommissionPlan,
    /// HMAC secrets of the custom webhook; two at once while rotating. Never returned by the API.
    pub custom_webhook_secrets: Vec<String>,
    /// Payment providers' webhook credentials. Never returned by the API.
    #[serde(default)]
    pub providers: ProviderSecrets,
    /// USD per unit of each other currency, for postbacks' `amount_usd`.
    #[serde(default)]
    pub usd_rates: std::collections::BTreeMap<String, Decimal>,
    /// The smallest payout per currency code; none for a currency not named.
    #[serde(default)]
    pub min_payout: std::collections::BTreeMap<String, Decimal>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Each list holds one credential, or two while the provider side rotates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderSecrets {
    pub stripe_signing_secrets: Vec<String>,
    pub chargebee_credentials: Vec<BasicCredential>,
    pub recurly_credentials: Vec<BasicCredential>,
    pub recurly_signing_keys: Vec<String>,
    pub chargify_site_shared_keys: Vec<String>,
}

impl ProviderSecrets {
    /// Some payment provider can send this program webhooks.
    pub fn any(&self) -> bool {
        !(self.stripe_signing_secrets.is_empty()
            && self.chargebee_credentials.is_empty()
            && self.recurly_credentials.is_empty()
            && self.recurly_signing_keys.is_empty()
            && self.chargify_site_shared_keys.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasicCredential {
    pub username: String,
    pub password: String,
}

impl Program {
    /// The smallest payout in `currency` (zero when none is set).
    pub fn min_payout_of(&self, currency: Currency) -> Decimal {
        self.min_payout
            .get(currency.code())
            .copied()
            .unwrap_or(Decimal::ZERO)
    }
}

pub fn custom_webhook_path(slug: &str) -> String {
    provider_webhook_path(slug, "custom")
}

pub fn provider_webhook_path(slug: &str, provider: &str) -> String {
    format!("/webhooks/{slug}/{provider}")
}
