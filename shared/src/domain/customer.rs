//! Customers: who pays, and through whom they came.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

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
    /// The customer as it was before a change its partners have not been told of yet, written
    /// with the change itself: a retry after a failed announcement finds it and tells them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unannounced: Option<Box<Customer>>,
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
            unannounced: None,
        }
    }

    /// The customer as partners and the API see it, without bookkeeping.
    pub fn shown(&self) -> Customer {
        Customer {
            unannounced: None,
            ..self.clone()
        }
    }

    pub fn last_change(&self) -> Millis {
        self.updated_at.max(self.created_at)
    }
}

/// A customer as an admin (`POST /v1/customers`) or an incoming webhook describes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub email: String,
    pub name: String,
    pub key: Option<String>,
    pub partner_key: Option<String>,
    pub referring_customer_key: Option<String>,
}

/// What an admin may change of a customer (`PATCH /v1/customers/{key}`); absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerChange {
    pub email: Option<String>,
    pub name: Option<String>,
    /// Links the customer to a partner, or moves it to another one.
    pub partner_key: Option<String>,
}

/// A transaction's customer as its sender names it; created when it is not known yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub key: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// How a provider payment names its customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub key: Option<String>,
    pub provider_id: Option<String>,
}

/// Whose email address a lookup is about: partners and customers keep separate address books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Partner,
    Customer,
}

impl EmailKind {
    /// The word in the address book's storage key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Partner => "PARTNER",
            Self::Customer => "CUSTOMER",
        }
    }
}
