//! Programs and the API keys that act for them.

use crate::domain::api_key::{ApiKeyGrant, ApiRole};
use crate::domain::program::Program;
use crate::repo::codec::{encode, encode_at, Versioned};
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::{Query, StoreError};

impl Repo {
    pub async fn get_program(&self, slug: &str) -> Result<Option<Versioned<Program>>, StoreError> {
        self.get::<Program>(slug, slug).await
    }

    /// Creates a program with its admin key atomically; false when the slug is taken.
    pub async fn create_program(
        &self,
        program: &Program,
        admin_key_hash: &str,
    ) -> Result<bool, StoreError> {
        let grant = ApiKeyGrant {
            program: program.slug.clone(),
            role: ApiRole::Admin,
            partner_key: None,
        };
        let records = vec![
            encode(&program.slug, program)?,
            encode_at(&grant, keys::api_key(admin_key_hash))?,
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

    pub async fn get_api_key(&self, hash: &str) -> Result<Option<ApiKeyGrant>, StoreError> {
        Ok(self
            .get_at::<ApiKeyGrant>(keys::api_key(hash))
            .await?
            .map(|v| v.value))
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
        };
        self.store
            .insert(encode_at(&grant, keys::api_key(key_hash))?)
            .await?;
        Ok(())
    }
}
