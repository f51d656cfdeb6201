//! The records Partnerhook keeps: programs, partners, customers, transactions and rewards.

use crate::commission::CommissionPlan;
use crate::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Epoch milliseconds, the unit of every `created_at` in the API (as the seeds use).
pub type Millis = i64;

pub fn now_millis() -> Millis {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasicCredential {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub key: String,
    /// The program's own identifier for the partner (the custom webhook's `partnerId`).
    pub id: Option<String>,
    pub email: String,
    pub name: String,
    pub referring_partner_key: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub key: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub partner_key: Option<String>,
    /// Refer-a-friend: the customer who referred this one.
    #[serde(default)]
    pub referring_customer_key: Option<String>,
    /// The customer's ids at payment providers (`stripe` → `cus_...`), once linked.
    #[serde(default)]
    pub provider_ids: std::collections::BTreeMap<String, String>,
    /// Set once a payment of the customer has been recorded.
    #[serde(default)]
    pub has_paid: bool,
    pub created_at: Millis,
    /// 0 on records written before customers could change: unchanged since `created_at`.
    #[serde(default)]
    pub updated_at: Millis,
}

impl Customer {
    pub fn new(key: String, email: Option<String>, name: Option<String>, now: Millis) -> Self {
        Self {
            key,
            email,
            name,
            partner_key: None,
            referring_customer_key: None,
            provider_ids: Default::default(),
            has_paid: false,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn last_change(&self) -> Millis {
        self.updated_at.max(self.created_at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// Stored, commission not computed yet.
    Recorded,
    Commissioned,
    /// No partner could be attributed; an admin can assign one.
    Unassigned,
    Refunded,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Commissioned => "commissioned",
            Self::Unassigned => "unassigned",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Recorded,
            Self::Commissioned,
            Self::Unassigned,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedReason {
    /// The webhook named no partner.
    NoPartnerId,
    /// The webhook named a partner id that matches no partner of the program.
    UnknownPartnerId,
    /// The payment's customer is linked to no partner.
    CustomerWithoutPartner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amounts {
    pub currency: Currency,
    pub gross: Decimal,
    pub net: Option<Decimal>,
    pub tax: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
    /// How much of the gross amount has been refunded so far.
    #[serde(default)]
    pub refunded: Decimal,
}

impl Amounts {
    pub fn new(currency: Currency, gross: Decimal) -> Self {
        Self {
            currency,
            gross,
            net: None,
            tax: None,
            tax_rate: None,
            refunded: Decimal::ZERO,
        }
    }

    /// What commissions are computed on: the net amount (the gross one when no net is known),
    /// reduced in proportion to what has been refunded.
    pub fn commissionable(&self) -> Decimal {
        let base = self.net.unwrap_or(self.gross);
        if self.refunded.is_zero() {
            return base;
        }
        if self.gross.is_zero() || self.refunded >= self.gross {
            return Decimal::ZERO;
        }
        base * (self.gross - self.refunded) / self.gross
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: Option<String>,
    pub name: Option<String>,
    /// What kind of sale it was (`monthly`, `yearly`): PartnerStack's `category_key`.
    #[serde(default)]
    pub category: Option<String>,
}

impl Product {
    pub fn named(id: Option<String>, name: Option<String>) -> Self {
        Self {
            id,
            name,
            category: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub key: String,
    /// Where it came from: `custom`, later the payment providers' names.
    pub source: String,
    pub customer_key: Option<String>,
    /// The partner reference the sender gave (the custom webhook's `partnerId`), as given.
    pub partner_ref: Option<String>,
    /// Attributed through the customer's partner (payment providers) rather than a reference.
    #[serde(default)]
    pub by_customer: bool,
    /// The attributed partner, once known.
    pub partner_key: Option<String>,
    pub status: TransactionStatus,
    pub unassigned_reason: Option<UnassignedReason>,
    pub amounts: Amounts,
    pub product: Product,
    pub campaign_slug: Option<String>,
    pub is_recurring: bool,
    pub recurring_number: Option<u32>,
    pub transaction_date: Option<Millis>,
    /// Digest of what the sender said; the same key with another digest is a conflict.
    pub fingerprint: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub refunded_at: Option<Millis>,
    /// Ids of the partial refunds applied, so a repeated one is not counted twice.
    #[serde(default)]
    pub refund_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardStatus {
    Hold,
    Pending,
    Approved,
    Declined,
    Paid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    /// `{transaction_key}:{level}`: a redelivered commission job can never write a second one.
    pub key: String,
    pub transaction_key: String,
    /// The transaction's customer, for the partner's postbacks.
    #[serde(default)]
    pub customer_key: Option<String>,
    pub partner_key: String,
    /// 1 for the referring partner, 2 for the partner who referred them, and so on.
    pub level: u8,
    /// The plan's percentage for this level, kept so refunds can rescale the reward.
    pub percent: Decimal,
    pub amount: Decimal,
    pub currency: Currency,
    pub reward_status: RewardStatus,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Reward {
    pub fn key_for(transaction_key: &str, level: u8) -> String {
        format!("{transaction_key}:{level}")
    }
}

/// Keys come from senders; they become parts of storage keys, so they are bounded and printable.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty".into());
    }
    if key.len() > 200 {
        return Err("must be at most 200 bytes".into());
    }
    if key.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Program slugs appear in URLs and key prefixes: lowercase letters, digits and dashes.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    let ok = (2..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err("must be 2 to 63 lowercase letters, digits or dashes, not starting or ending with a dash".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_slugs_are_validated() {
        assert!(validate_key("ext-tx-12345").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("a\u{0}b").is_err());
        assert!(validate_key(&"x".repeat(201)).is_err());
        assert!(validate_slug("acme").is_ok());
        assert!(validate_slug("acme-2").is_ok());
        for bad in ["A", "a", "acme_", "-acme", "acme-", "ac me", "ACME"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commissionable_amount_prefers_net() {
        let eur = Currency::parse("EUR").unwrap();
        let mut amounts = Amounts {
            net: Some(Decimal::new(16723, 2)),
            ..Amounts::new(eur, Decimal::new(19900, 2))
        };
        assert_eq!(amounts.commissionable(), Decimal::new(16723, 2));
        amounts.net = None;
        assert_eq!(amounts.commissionable(), Decimal::new(19900, 2));
    }

    #[test]
    fn refunds_reduce_the_commissionable_amount_in_proportion() {
        let usd = Currency::parse("USD").unwrap();
        let mut amounts = Amounts::new(usd, Decimal::new(4900, 2));
        amounts.refunded = Decimal::new(1900, 2);
        assert_eq!(amounts.commissionable(), Decimal::new(3000, 2));
        amounts.net = Some(Decimal::new(4000, 2));
        assert_eq!(usd.round(amounts.commissionable()).to_string(), "24.49");
        amounts.refunded = Decimal::new(4900, 2);
        assert_eq!(amounts.commissionable(), Decimal::ZERO);
    }
}
