//! Partners, with the aliases that keep their ids unique and the ids of their postbacks.

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

impl Repo {
    /// Notes a postback on its partner, before the postback is written, so a job that reads the
    /// partner never misses it. A partner from before the list starts it from the listing of
    /// its postbacks.
    pub async fn note_postback(
        &self,
        program: &str,
        partner_key: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let Some(current) = self.get::<Partner>(program, partner_key).await? else {
            return Ok(());
        };
        let listed: Vec<String> = match current.value.postback_ids {
            Some(_) => Vec::new(),
            None => self
                .postbacks_of_partner(program, partner_key)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect(),
        };
        self.modify_from::<Partner, StoreError>(program, current, |p| {
            let ids = p.postback_ids.get_or_insert_with(|| listed.clone());
            if ids.iter().any(|known| known == id) {
                return Ok(false);
            }
            ids.push(id.to_string());
            Ok(true)
        })
        .await?;
        Ok(())
    }

    /// Forgets a postback on its partner, once the postback is deleted.
    pub async fn forget_postback(
        &self,
        program: &str,
        partner_key: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.modify::<Partner, StoreError>(program, partner_key, |p| {
            let Some(ids) = p.postback_ids.as_mut() else {
                return Ok(false);
            };
            let before = ids.len();
            ids.retain(|known| known != id);
            Ok(ids.len() != before)
        })
        .await?;
        Ok(())
    }
}
