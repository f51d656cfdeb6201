//! Postbacks listed per partner, for emitting events to the ones subscribed.

use crate::domain::postback::Postback;
use crate::repo::core::Repo;
use crate::repo::keys;
use crate::store::{Query, StoreError};

impl Repo {
    pub async fn postbacks_of_partner(
        &self,
        program: &str,
        partner_key: &str,
    ) -> Result<Vec<Postback>, StoreError> {
        let query = Query::Index {
            pk: keys::postbacks_of_partner(program, partner_key),
        };
        self.all(query).await
    }
}
