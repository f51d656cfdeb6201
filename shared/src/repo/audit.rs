//! The audit log: each entry once, listed by program, and a copy listed by the key that made
//! the change, so a key's entries page like any listing.

use crate::domain::audit::{AuditByKey, AuditEntry};
use crate::repo::codec::Entity;
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::{IndexKey, StoreError};

impl Entity for AuditEntry {
    fn location(&self, program: &str) -> (String, String) {
        keys::audit_entry(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::audit(program),
            sk: self.id.clone(),
        })
    }
}

impl Entity for AuditByKey {
    fn location(&self, program: &str) -> (String, String) {
        keys::audit_entry_by_key(program, &self.0.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::audit_of_key(program, &self.0.key_id),
            sk: self.0.id.clone(),
        })
    }
}

impl Repo {
    /// Keeps an entry (its id is new, so both inserts create).
    pub async fn record_audit(&self, program: &str, entry: &AuditEntry) -> Result<(), StoreError> {
        self.insert(program, entry).await?;
        self.insert(program, &AuditByKey(entry.clone())).await?;
        Ok(())
    }
}
