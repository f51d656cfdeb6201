//! Partners: who earns the commissions.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub key: String,
    /// The program's own identifier for the partner (the custom webhook's `partnerId`).
    pub id: Option<String>,
    pub email: String,
    pub name: String,
    pub referring_partner_key: Option<String>,
    /// The group whose plan the partner's sales follow; none follows the program's.
    #[serde(default)]
    pub group_key: Option<String>,
    pub created_at: Millis,
    /// The ids of the partner's postbacks, kept on the partner so that a job that read it knows
    /// whether anyone listens without a query: added before a postback is written, removed
    /// after it is deleted, so it never misses one. `None` for a partner from before it (its
    /// postbacks are found in their listing). Not shown by the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postback_ids: Option<Vec<String>>,
}

impl Partner {
    /// The partner as the API shows it: without the ids of its postbacks.
    pub fn shown(&self) -> Self {
        Self {
            postback_ids: None,
            ..self.clone()
        }
    }
}

/// A partner as an admin (`POST /v1/partners`) or an incoming webhook describes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerInput {
    pub email: String,
    pub name: String,
    pub key: Option<String>,
    pub id: Option<String>,
    pub referring_partner_key: Option<String>,
}

/// How a partner is named from outside.
#[derive(Debug, Clone, Copy)]
pub enum PartnerRef<'a> {
    Key(&'a str),
    Id(&'a str),
    Email(&'a str),
}
