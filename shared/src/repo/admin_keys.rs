//! A program's admin keys: their grants (found by digest, listed by creation) and the key set
//! that decides which of them live.

use crate::domain::api_key::{ApiKeyGrant, KeySet};
use crate::repo::codec::{by_time, encode_at, Entity, Keyed, Versioned};
use crate::repo::core::{Inserted, Repo};
use crate::repo::keys;
use crate::store::{IndexKey, Insert, Record, StoreError};

impl Entity for KeySet {
    fn location(&self, program: &str) -> (String, String) {
        keys::key_set(program)
    }
}

impl Keyed for KeySet {
    fn location_of(program: &str, _id: &str) -> (String, String) {
        keys::key_set(program)
    }
}

/// A grant as stored at its digest; a named admin key is listed under its program.
pub(crate) fn grant_record(hash: &str, grant: &ApiKeyGrant) -> Result<Record, StoreError> {
    let mut record = encode_at(grant, keys::api_key(hash))?;
    if let (true, Some(id), Some(created_at)) = (grant.role.is_admin(), &grant.id, grant.created_at)
    {
        record.index = Some(IndexKey {
            pk: keys::admin_keys(&grant.program),
            sk: by_time(created_at, id),
        });
    }
    Ok(record)
}

impl Repo {
    /// A grant by its key's digest (a consistent read: a revoked key fails at once).
    pub async fn get_api_key(
        &self,
        hash: &str,
    ) -> Result<Option<Versioned<ApiKeyGrant>>, StoreError> {
        self.get_at::<ApiKeyGrant>(keys::api_key(hash)).await
    }

    /// Writes a new grant; one already at the digest is left as it is.
    pub async fn insert_grant(&self, hash: &str, grant: &ApiKeyGrant) -> Result<(), StoreError> {
        match self.store.insert(grant_record(hash, grant)?).await? {
            Insert::Created | Insert::Exists(_) => Ok(()),
        }
    }

    /// Rewrites a grant read at `grant.version` (a conflict when it changed or went).
    pub async fn update_grant(
        &self,
        hash: &str,
        grant: &Versioned<ApiKeyGrant>,
    ) -> Result<(), StoreError> {
        let mut record = grant_record(hash, &grant.value)?;
        record.version = grant.version;
        self.store.update(record).await
    }

    pub async fn delete_grant(&self, hash: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::api_key(hash);
        self.store.delete(&pk, &sk).await
    }

    pub async fn key_set(&self, program: &str) -> Result<Option<Versioned<KeySet>>, StoreError> {
        self.get::<KeySet>(program, program).await
    }

    /// Writes a key set read at its version (0: there was none); a conflict when another
    /// writer came first.
    pub async fn save_key_set(&self, set: &Versioned<KeySet>) -> Result<(), StoreError> {
        let program = &set.value.program;
        if set.version > 0 {
            return self.update(program, set).await;
        }
        match self.insert(program, &set.value).await? {
            Inserted::Created => Ok(()),
            Inserted::Exists(_) => {
                let (pk, sk) = keys::key_set(program);
                Err(StoreError::VersionConflict { pk, sk })
            }
        }
    }
}
