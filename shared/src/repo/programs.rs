//! Programs and the API keys that act for them.

use crate::domain::api_key::{ApiKeyGrant, ApiRole, KeyEntry, KeySet, INITIAL_KEY_NAME};
use crate::domain::program::Program;
use crate::repo::admin_keys::grant_record;
use crate::repo::codec::{encode, encode_at, Versioned};
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::{Query, StoreError};

impl Repo {
    pub async fn get_program(&self, slug: &str) -> Result<Option<Versioned<Program>>, StoreError> {
        self.get::<Program>(slug, slug).await
    }

    /// Creates a program with its first admin key (named "initial", id `key_id`) and its key
    /// set atomically; false when the slug is taken.
    pub async fn create_program(
        &self,
        program: &Program,
        admin_key_hash: &str,
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let slug = &program.slug;
        let grant = ApiKeyGrant::admin(
            slug,
            key_id,
            INITIAL_KEY_NAME,
            ApiRole::Admin,
            program.created_at,
        );
        let set = KeySet {
            program: slug.clone(),
            entries: vec![KeyEntry::new(key_id, admin_key_hash, ApiRole::Admin)],
        };
        let records = vec![
            encode(slug, program)?,
            grant_record(admin_key_hash, &grant)?,
            encode(slug, &set)?,
        ];
        Ok(self.store.insert_all(records).await?.is_none())
    }

    /// Every program's slug.
    pub async fn program_slugs(&self) -> Result<Vec<String>, StoreError> {
        let programs: Vec<Program> = self
            .all(Query::Index {
                pk: keys::PROGRAMS.into(),
            })
            .await?;
        Ok(programs.into_iter().map(|p| p.slug).collect())
    }

    /// Stores a partner's API key (its digest) for the partner alone.
    pub async fn create_partner_key(
        &self,
        program: &str,
        partner_key: &str,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        let grant = ApiKeyGrant {
            program: program.to_string(),
            role: ApiRole::Partner,
            partner_key: Some(partner_key.to_string()),
            id: None,
            name: None,
            created_at: None,
            last_used_at: None,
        };
        self.store
            .insert(encode_at(&grant, keys::api_key(key_hash))?)
            .await?;
        Ok(())
    }
}
