//! Partners, with the aliases that keep their ids unique.

use crate::domain::partner::Partner;
use crate::repo::codec::{encode, encode_at};
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub enum PartnerInsert {
    Created,
    KeyExists(Partner),
    IdTaken,
}

/// A secondary key that must stay unique, pointing at the partner that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PartnerAlias {
    partner_key: String,
}

impl Repo {
    /// Inserts a partner and, when it has an `id`, claims that id for it in the same write.
    /// Returns the existing partner when the key is taken, or an error naming a taken id.
    pub async fn insert_partner(
        &self,
        program: &str,
        partner: &Partner,
    ) -> Result<PartnerInsert, StoreError> {
        let mut records = vec![encode(program, partner)?];
        if let Some(id) = &partner.id {
            let alias = PartnerAlias {
                partner_key: partner.key.clone(),
            };
            records.push(encode_at(&alias, keys::partner_id(program, id))?);
        }
        match self.store.insert_all(records).await? {
            None => Ok(PartnerInsert::Created),
            Some(0) => match self.find::<Partner>(program, &partner.key).await? {
                Some(existing) => Ok(PartnerInsert::KeyExists(existing)),
                None => Err(StoreError::Backend("partner vanished after insert".into())),
            },
            Some(_) => Ok(PartnerInsert::IdTaken),
        }
    }

    pub async fn find_partner_by_id(
        &self,
        program: &str,
        id: &str,
    ) -> Result<Option<Partner>, StoreError> {
        match self
            .get_at::<PartnerAlias>(keys::partner_id(program, id))
            .await?
        {
            Some(alias) => self.find(program, &alias.value.partner_key).await,
            None => Ok(None),
        }
    }
}
