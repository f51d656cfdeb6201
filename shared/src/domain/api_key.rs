//! API keys: stored as digests, each granting a program's admin or one partner access.

use serde::{Deserialize, Serialize};

/// Which program an API key belongs to, and what it may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyGrant {
    pub program: String,
    pub role: ApiRole,
    /// The partner a partner key acts for.
    #[serde(default)]
    pub partner_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRole {
    Admin,
    Partner,
}
