//! API keys: stored as digests, each granting a program's admin (full or read-only) or one
//! partner access. A program's admin keys are named and listed; which of them are live is
//! decided from the program's key set, one record written with a version check, so two
//! revocations at once cannot leave a program without a full admin key.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

/// `last_used_at` is written at most this often per key: a write per request would double
/// the cost of every admin read.
pub const LAST_USED_EVERY_MS: Millis = 5 * 60 * 1000;

/// The name given to the key a program is created with (and to a key kept from before keys
/// had names).
pub const INITIAL_KEY_NAME: &str = "initial";

/// Which program an API key belongs to, and what it may do. Grants written before admin keys
/// had names carry none of the optional fields and still authenticate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyGrant {
    pub program: String,
    pub role: ApiRole,
    /// The partner a partner key acts for.
    #[serde(default)]
    pub partner_key: Option<String>,
    /// An admin key's id, name and times (none on a partner key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRole {
    Admin,
    /// An admin key that may only read (`GET`, `HEAD`).
    ReadOnly,
    Partner,
}

impl ApiRole {
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Admin | Self::ReadOnly)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ReadOnly => "read_only",
            Self::Partner => "partner",
        }
    }
}

impl ApiKeyGrant {
    /// A named admin key of `program`.
    pub fn admin(program: &str, id: &str, name: &str, role: ApiRole, now: Millis) -> Self {
        Self {
            program: program.to_string(),
            role,
            partner_key: None,
            id: Some(id.to_string()),
            name: Some(name.to_string()),
            created_at: Some(now),
            last_used_at: None,
        }
    }

    /// Whether a request at `now` should note itself as the key's last use.
    pub fn use_is_worth_noting(&self, now: Millis) -> bool {
        self.role.is_admin()
            && self
                .last_used_at
                .is_none_or(|at| now - at >= LAST_USED_EVERY_MS)
    }
}

/// The id given to an admin key kept from before keys had ids: derived from its digest, so
/// every request that names it agrees.
pub fn legacy_key_id(hash: &str) -> String {
    format!("key_{}", hash.get(..16).unwrap_or(hash))
}

/// One admin key as the key set knows it: where its grant lives (the digest) and its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub id: String,
    pub hash: String,
    pub role: ApiRole,
    /// Set when revoked (then its grant is deleted); kept so a retried revocation finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
}

/// A program's admin keys, for the decisions about them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeySet {
    pub program: String,
    pub entries: Vec<KeyEntry>,
}

/// Why a revocation is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeRefusal {
    UnknownKey,
    LastFullAdmin,
}

impl KeyEntry {
    pub fn new(id: &str, hash: &str, role: ApiRole) -> Self {
        Self {
            id: id.to_string(),
            hash: hash.to_string(),
            role,
            revoked_at: None,
        }
    }
}

impl KeySet {
    pub fn entry(&self, id: &str) -> Option<&KeyEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Adds a key; false when the id is there already (a repeat).
    pub fn add(&mut self, entry: KeyEntry) -> bool {
        if self.entry(&entry.id).is_some() {
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// The other live full admin keys, which may keep the program administered once `id` is
    /// revoked (the caller checks that their grants exist).
    pub fn other_full_admins(&self, id: &str) -> Vec<&KeyEntry> {
        self.entries
            .iter()
            .filter(|e| e.id != id && e.role == ApiRole::Admin && e.revoked_at.is_none())
            .collect()
    }

    /// Marks `id` revoked at `now`. `survivor` says whether another full admin key is known
    /// to live. Ok(false) when it was revoked already (a retry).
    pub fn revoke(&mut self, id: &str, survivor: bool, now: Millis) -> Result<bool, RevokeRefusal> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or(RevokeRefusal::UnknownKey)?;
        if entry.revoked_at.is_some() {
            return Ok(false);
        }
        if entry.role == ApiRole::Admin && !survivor {
            return Err(RevokeRefusal::LastFullAdmin);
        }
        entry.revoked_at = Some(now);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, role: ApiRole) -> KeyEntry {
        KeyEntry::new(id, &format!("h-{id}"), role)
    }

    #[test]
    fn grants_from_before_names_still_read_as_full_admins() {
        let old: ApiKeyGrant =
            serde_json::from_str(r#"{"program":"acme","role":"admin","partner_key":null}"#)
                .unwrap();
        assert_eq!(old.role, ApiRole::Admin);
        assert_eq!((old.id, old.name, old.last_used_at), (None, None, None));
    }

    #[test]
    fn last_use_is_noted_at_most_every_five_minutes() {
        let mut grant = ApiKeyGrant::admin("acme", "key_1", "ci", ApiRole::ReadOnly, 0);
        assert!(grant.use_is_worth_noting(0));
        grant.last_used_at = Some(1_000);
        assert!(!grant.use_is_worth_noting(1_000 + LAST_USED_EVERY_MS - 1));
        assert!(grant.use_is_worth_noting(1_000 + LAST_USED_EVERY_MS));
        grant.role = ApiRole::Partner;
        assert!(
            !grant.use_is_worth_noting(i64::MAX),
            "partner keys are not tracked"
        );
    }

    #[test]
    fn the_last_full_admin_key_cannot_be_revoked() {
        let mut set = KeySet {
            program: "acme".into(),
            entries: vec![entry("a", ApiRole::Admin), entry("r", ApiRole::ReadOnly)],
        };
        assert!(set.other_full_admins("a").is_empty());
        assert_eq!(set.revoke("a", false, 5), Err(RevokeRefusal::LastFullAdmin));
        assert_eq!(set.revoke("r", false, 5), Ok(true), "read-only keys may go");
        assert_eq!(
            set.revoke("r", false, 6),
            Ok(false),
            "a retry changes nothing"
        );
        assert_eq!(set.entry("r").unwrap().revoked_at, Some(5));
        assert_eq!(set.revoke("x", true, 5), Err(RevokeRefusal::UnknownKey));
        assert!(set.add(entry("b", ApiRole::Admin)));
        assert!(
            !set.add(entry("b", ApiRole::Admin)),
            "a repeat adds nothing"
        );
        assert_eq!(set.other_full_admins("a").len(), 1);
        assert_eq!(set.revoke("a", true, 7), Ok(true));
        assert!(
            set.other_full_admins("b").is_empty(),
            "revoked keys do not count"
        );
    }

    #[test]
    fn legacy_ids_derive_from_the_digest() {
        assert_eq!(legacy_key_id("0123456789abcdef99"), "key_0123456789abcdef");
        assert_eq!(legacy_key_id("short"), "key_short");
    }
}
