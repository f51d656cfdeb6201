//! Transactions: what senders report (`NewTransaction`) and what is recorded of it, with the
//! amounts commissions are computed on.

use crate::domain::customer::{CustomerRef, NewCustomer};
use crate::domain::money::Currency;
use crate::domain::time::Millis;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
        self.after_refunds(self.net.unwrap_or(self.gross))
    }

    /// `base` (an amount of this sale, or a flat reward on it) reduced in proportion to what
    /// has been refunded of the gross amount.
    pub fn after_refunds(&self, base: Decimal) -> Decimal {
        if self.refunded.is_zero() {
            return base;
        }
        if self.gross.is_zero() || self.refunded >= self.gross {
            return Decimal::ZERO;
        }
        let Some(left) = self.gross.checked_sub(self.refunded) else {
            return Decimal::ZERO;
        };
        // Multiplying first keeps every digit; past `Decimal`'s range (amounts are bounded
        // where they enter, so only for records from before) the share is taken first.
        base.checked_mul(left)
            .and_then(|product| product.checked_div(self.gross))
            .or_else(|| left.checked_div(self.gross)?.checked_mul(base))
            .unwrap_or(Decimal::ZERO)
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
    /// Unique to the request that wrote it: finding its own id tells the storage client's
    /// retry of a write whose answer was lost from another request's repeat, even one in the
    /// same millisecond.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub write_id: String,
}

/// A transaction as a sender reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTransaction {
    pub key: String,
    pub source: String,
    pub customer: Option<NewCustomer>,
    pub partner_ref: Option<String>,
    /// Attribute through the customer's partner (payment providers).
    pub by_customer: bool,
    pub amounts: Amounts,
    pub product: Product,
    pub campaign_slug: Option<String>,
    pub is_recurring: bool,
    pub recurring_number: Option<u32>,
    pub transaction_date: Option<i64>,
}

impl NewTransaction {
    /// A payment reported by a payment provider: attributed through its customer, which the
    /// caller fills in once it is identified.
    pub fn provider_payment(source: &str, key: String, amounts: Amounts) -> Self {
        Self {
            key,
            source: source.to_string(),
            customer: None,
            partner_ref: None,
            by_customer: true,
            amounts,
            product: Product::default(),
            campaign_slug: None,
            is_recurring: false,
            recurring_number: None,
            transaction_date: None,
        }
    }

    /// Digest of what the sender said; the same key with another digest is a conflict.
    pub fn fingerprint(&self) -> String {
        // Serialising a struct of plain fields is infallible.
        let facts = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&facts))
    }
}

impl Transaction {
    /// The transaction as first recorded, before any partner or refund.
    pub fn recorded(new: NewTransaction, now: Millis) -> Self {
        Self {
            fingerprint: new.fingerprint(),
            key: new.key,
            source: new.source,
            customer_key: new.customer.map(|c| c.key),
            partner_ref: new.partner_ref,
            by_customer: new.by_customer,
            partner_key: None,
            status: TransactionStatus::Recorded,
            unassigned_reason: None,
            amounts: new.amounts,
            product: new.product,
            campaign_slug: new.campaign_slug,
            is_recurring: new.is_recurring,
            recurring_number: new.recurring_number,
            transaction_date: new.transaction_date,
            created_at: now,
            updated_at: now,
            refunded_at: None,
            refund_ids: Vec::new(),
            write_id: String::new(),
        }
    }

    /// This request's own write of it, told apart from any other request's by `write_id`.
    pub fn written_by(self, write_id: String) -> Self {
        Self { write_id, ..self }
    }

    /// It is the very record this request wrote (the storage client retried the write).
    pub fn is_own_write(&self, ours: &Transaction) -> bool {
        !ours.write_id.is_empty() && self.write_id == ours.write_id
    }
}

impl Transaction {
    /// Where a refunded transaction returns when a refund is undone: commissioned once it has
    /// a partner, unassigned once its job found none, recorded before its job ran.
    pub fn status_before_refund(&self) -> TransactionStatus {
        if self.partner_key.is_some() {
            TransactionStatus::Commissioned
        } else if self.unassigned_reason.is_some() {
            TransactionStatus::Unassigned
        } else {
            TransactionStatus::Recorded
        }
    }

    /// Its commission job has run (it left `recorded` for a partner or for none).
    pub fn commission_ran(&self) -> bool {
        matches!(
            self.status,
            TransactionStatus::Commissioned | TransactionStatus::Unassigned
        )
    }

    /// An admin assigns an unassigned transaction to a partner; true when that changed it.
    /// Assigning again to the same partner is a retry, not a change; anything else is refused.
    pub fn assign_to(&mut self, partner_key: &str) -> Result<bool, String> {
        match self.status {
            TransactionStatus::Unassigned => {
                self.status = TransactionStatus::Recorded;
                self.partner_key = Some(partner_key.to_string());
                self.unassigned_reason = None;
                Ok(true)
            }
            TransactionStatus::Recorded | TransactionStatus::Commissioned
                if self.partner_key.as_deref() == Some(partner_key) =>
            {
                Ok(false)
            }
            other => Err(format!(
                "only unassigned transactions can be assigned; this one is {}",
                other.as_str()
            )),
        }
    }
}

/// A payment whose customer is not known yet, kept until it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedPayment {
    pub provider: String,
    pub customer: CustomerRef,
    pub transaction: NewTransaction,
    pub received_at: Millis,
    /// The slot it waits in: `key#{customer key}` or `{provider}#{provider customer id}`.
    #[serde(default)]
    pub waiting_for: String,
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn huge_stored_amounts_still_give_a_commissionable_amount() {
        let usd = Currency::parse("USD").unwrap();
        let mut amounts = Amounts::new(usd, Decimal::MAX);
        amounts.refunded = Decimal::ONE;
        // Decimal::MAX × (MAX − 1) overflows; the share is taken first instead of panicking.
        assert!(amounts.commissionable() > Decimal::ZERO);
        amounts.refunded = -Decimal::MAX;
        assert_eq!(amounts.commissionable(), Decimal::ZERO);
    }
}
