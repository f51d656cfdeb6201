//! The address books that find partners and customers by email: each address points at the
//! first record that had it.

use crate::domain::customer::EmailKind;
use crate::repo::codec::encode_at;
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EmailOwner {
    key: String,
}

impl Repo {
    /// Notes `key` as the owner of an email address unless another record owns it already.
    pub async fn claim_email(
        &self,
        program: &str,
        kind: EmailKind,
        email: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        let owner = EmailOwner {
            key: key.to_string(),
        };
        self.store
            .insert(encode_at(&owner, keys::email(program, kind, email))?)
            .await?;
        Ok(())
    }

    /// Forgets an address's owner if it is still `key`.
    pub async fn release_email(
        &self,
        program: &str,
        kind: EmailKind,
        email: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        if self.email_owner(program, kind, email).await?.as_deref() == Some(key) {
            let (pk, sk) = keys::email(program, kind, email);
            self.store.delete(&pk, &sk).await?;
        }
        Ok(())
    }

    pub async fn email_owner(
        &self,
        program: &str,
        kind: EmailKind,
        email: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_at::<EmailOwner>(keys::email(program, kind, email))
            .await?
            .map(|v| v.value.key))
    }
}
