//! Typed access to the records behind the storage port, and the key layout of the one table.
//!
//! Partition keys are entity-scoped (`{program}#TX#{key}`), so no program becomes one hot
//! partition; listings go through the `gsi1` index. A transaction's partition also holds its
//! rewards (`RW#{level}`) and a refund that arrived before it (`REFUND`).

use crate::customers::CustomerRef;
use crate::domain::{Customer, Millis, Partner, Program, Reward, Transaction, TransactionStatus};
use crate::inbox::InboxEntry;
use crate::incoming::IncomingWebhook;
use crate::ledger::{NewTransaction, RefundSpec};
use crate::postback::{Delivery, Postback};
use crate::store::{
    Cursor, IndexKey, Insert, Page, Query, QueryOptions, Record, Store, StoreError,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub mod keys {
    pub fn program(slug: &str) -> (String, String) {
        (format!("PROGRAM#{slug}"), "PROGRAM".into())
    }
    pub fn api_key(hash: &str) -> (String, String) {
        (format!("APIKEY#{hash}"), "APIKEY".into())
    }
    pub fn partner(program: &str, key: &str) -> (String, String) {
        (format!("{program}#PARTNER#{key}"), "PARTNER".into())
    }
    pub fn partner_id(program: &str, id: &str) -> (String, String) {
        (format!("{program}#PARTNERID#{id}"), "PARTNERID".into())
    }
    /// The first partner or customer (`kind`) with an email address, for lookups by email.
    pub fn email(program: &str, kind: &str, email: &str) -> (String, String) {
        (
            format!("{program}#{kind}EMAIL#{}", email.to_lowercase()),
            "EMAIL".into(),
        )
    }
    pub fn customer(program: &str, key: &str) -> (String, String) {
        (format!("{program}#CUSTOMER#{key}"), "CUSTOMER".into())
    }
    pub const CUSTOMER_TX_PREFIX: &str = "TX#";
    /// A customer's transaction, listed in the customer's partition, by time.
    pub fn customer_transaction(
        program: &str,
        customer_key: &str,
        created_at: i64,
        key: &str,
    ) -> (String, String) {
        (
            customer(program, customer_key).0,
            format!("{CUSTOMER_TX_PREFIX}{created_at:015}#{key}"),
        )
    }
    pub const CUSTOMER_REFUND_PREFIX: &str = "REFUND#";
    /// A refund that names only its customer (Recurly), kept until a payment it fits arrives.
    pub fn customer_refund(
        program: &str,
        customer_key: &str,
        source: &str,
        id: &str,
    ) -> (String, String) {
        (
            customer(program, customer_key).0,
            format!("{CUSTOMER_REFUND_PREFIX}{source}#{id}"),
        )
    }
    pub fn transaction_partition(program: &str, key: &str) -> String {
        format!("{program}#TX#{key}")
    }
    pub fn transaction(program: &str, key: &str) -> (String, String) {
        (transaction_partition(program, key), "TX".into())
    }
    pub const PENDING_REFUND_PREFIX: &str = "REFUND#";
    pub fn pending_refund(program: &str, key: &str, id: &str) -> (String, String) {
        (
            transaction_partition(program, key),
            format!("{PENDING_REFUND_PREFIX}{id}"),
        )
    }
    /// A provider's customer id, pointing at the Partnerhook customer it belongs to.
    pub fn provider_customer(program: &str, provider: &str, id: &str) -> (String, String) {
        (
            format!("{program}#PCUSTOMER#{provider}#{id}"),
            "PCUSTOMER".into(),
        )
    }
    /// Payments waiting for their customer, grouped by what will identify it.
    pub fn parked_partition(program: &str, waiting_for: &str) -> String {
        format!("{program}#PARKED#{waiting_for}")
    }
    /// A provider event already handled, for dedupe on the provider's event id.
    pub fn provider_event(program: &str, provider: &str, id: &str) -> (String, String) {
        (format!("{program}#PEVENT#{provider}#{id}"), "PEVENT".into())
    }
    pub const REWARD_PREFIX: &str = "RW#";
    pub fn reward(program: &str, transaction_key: &str, level: u8) -> (String, String) {
        (
            transaction_partition(program, transaction_key),
            format!("{REWARD_PREFIX}{level:02}"),
        )
    }
    pub fn postback(program: &str, id: &str) -> (String, String) {
        (format!("{program}#POSTBACK#{id}"), "POSTBACK".into())
    }
    pub fn postbacks_of_partner(program: &str, partner: &str) -> String {
        format!("{program}#PARTNER#{partner}#POSTBACKS")
    }
    pub fn delivery(program: &str, id: &str) -> (String, String) {
        (format!("{program}#DELIVERY#{id}"), "DELIVERY".into())
    }
    pub fn deliveries_of_postback(program: &str, postback: &str) -> String {
        format!("{program}#POSTBACK#{postback}#DELIVERIES")
    }
    pub fn hook(id: &str) -> (String, String) {
        (format!("HOOK#{id}"), "HOOK".into())
    }
    pub fn hooks(program: &str) -> String {
        format!("{program}#HOOKS")
    }
    pub fn event(program: &str, id: &str) -> (String, String) {
        (format!("{program}#EVENT#{id}"), "EVENT".into())
    }

    // Index partitions of the listings.
    /// Every program, for the sweeper; one partition, but programs are few.
    pub const PROGRAMS: &str = "PROGRAMS";
    pub fn partners(program: &str) -> String {
        format!("{program}#PARTNERS")
    }
    pub fn customers(program: &str) -> String {
        format!("{program}#CUSTOMERS")
    }
    pub fn transactions_with_status(program: &str, status: &str) -> String {
        format!("{program}#TXSTATUS#{status}")
    }
    pub fn rewards_of_partner(program: &str, partner: &str) -> String {
        format!("{program}#PARTNER#{partner}#RW")
    }
    pub fn events(program: &str) -> String {
        format!("{program}#EVENTS")
    }
}

/// A record's value with the version it was read at, for an optimistic update.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

/// What a conditional insert of an entity found.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted<T> {
    Created,
    Exists(Versioned<T>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Where an entity lives in the table.
pub trait Entity: Serialize + DeserializeOwned {
    fn location(&self, program: &str) -> (String, String);
    fn index(&self, _program: &str) -> Option<IndexKey> {
        None
    }
    fn expires_at(&self) -> Option<i64> {
        None
    }
}

/// Sort keys of listings: creation time first, fixed width so text order is time order.
fn by_time(created_at: Millis, key: &str) -> String {
    format!("{created_at:015}#{key}")
}

impl Entity for Program {
    fn location(&self, _program: &str) -> (String, String) {
        keys::program(&self.slug)
    }
    fn index(&self, _program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::PROGRAMS.into(),
            sk: self.slug.clone(),
        })
    }
}

impl Entity for Partner {
    fn location(&self, program: &str) -> (String, String) {
        keys::partner(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::partners(program),
            sk: by_time(self.created_at, &self.key),
        })
    }
}

impl Entity for Customer {
    fn location(&self, program: &str) -> (String, String) {
        keys::customer(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::customers(program),
            sk: by_time(self.created_at, &self.key),
        })
    }
}

impl Entity for Transaction {
    fn location(&self, program: &str) -> (String, String) {
        keys::transaction(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::transactions_with_status(program, self.status.as_str()),
            sk: by_time(self.created_at, &self.key),
        })
    }
}

impl Entity for Reward {
    fn location(&self, program: &str) -> (String, String) {
        keys::reward(program, &self.transaction_key, self.level)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::rewards_of_partner(program, &self.partner_key),
            sk: by_time(self.created_at, &self.key),
        })
    }
}

impl Entity for Postback {
    fn location(&self, program: &str) -> (String, String) {
        keys::postback(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::postbacks_of_partner(program, &self.partner_key),
            sk: by_time(self.created_at, &self.id),
        })
    }
}

impl Entity for Delivery {
    fn location(&self, program: &str) -> (String, String) {
        keys::delivery(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::deliveries_of_postback(program, &self.postback_id),
            sk: by_time(self.created_at, &self.id),
        })
    }
}

impl Entity for IncomingWebhook {
    // Found by id alone from its URL; the record says which program owns it.
    fn location(&self, _program: &str) -> (String, String) {
        keys::hook(&self.id)
    }
    fn index(&self, _program: &str) -> Option<IndexKey> {
        Some(IndexKey {
            pk: keys::hooks(&self.program),
            sk: by_time(self.created_at, &self.id),
        })
    }
}

impl Entity for InboxEntry {
    fn location(&self, program: &str) -> (String, String) {
        keys::event(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        // Event ids are UUIDv7, so they sort by time.
        Some(IndexKey {
            pk: keys::events(program),
            sk: self.id.clone(),
        })
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

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

/// A transaction listed under its customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerTransaction {
    pub transaction_key: String,
    pub source: String,
}

/// A refund that names only its customer and amount, kept until a payment it fits arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRefund {
    pub source: String,
    pub refund_id: String,
    pub amount: rust_decimal::Decimal,
}

/// A payment whose customer is not known yet, kept until it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedPayment {
    pub provider: String,
    pub customer: CustomerRef,
    pub transaction: NewTransaction,
    pub received_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProviderCustomer {
    customer_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProviderEventSeen {
    seen_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EmailOwner {
    key: String,
}

/// A secondary key that must stay unique, pointing at the partner that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PartnerAlias {
    partner_key: String,
}

fn corrupt(record: &Record, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        pk: record.pk.clone(),
        sk: record.sk.clone(),
        reason: e.to_string(),
    }
}

fn decode<T: DeserializeOwned>(record: Record) -> Result<Versioned<T>, StoreError> {
    let value = serde_json::from_value(record.data.clone()).map_err(|e| corrupt(&record, e))?;
    Ok(Versioned {
        value,
        version: record.version,
    })
}

fn encode_at<T: Serialize>(value: &T, (pk, sk): (String, String)) -> Result<Record, StoreError> {
    let data = serde_json::to_value(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(Record::new(pk, sk, data))
}

fn encode<T: Entity>(program: &str, entity: &T) -> Result<Record, StoreError> {
    let mut record = encode_at(entity, entity.location(program))?;
    record.index = entity.index(program);
    record.expires_at = entity.expires_at();
    Ok(record)
}

/// Concurrent writers a read-change-write outlasts before it gives up.
const MODIFY_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Repo {
    store: Arc<dyn Store>,
}

impl Repo {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    async fn get_at<T: DeserializeOwned>(
        &self,
        (pk, sk): (String, String),
    ) -> Result<Option<Versioned<T>>, StoreError> {
        self.store.get(&pk, &sk).await?.map(decode).transpose()
    }

    pub async fn insert<T: Entity>(
        &self,
        program: &str,
        entity: &T,
    ) -> Result<Inserted<T>, StoreError> {
        match self.store.insert(encode(program, entity)?).await? {
            Insert::Created => Ok(Inserted::Created),
            Insert::Exists(record) => Ok(Inserted::Exists(decode(record)?)),
        }
    }

    pub async fn update<T: Entity>(
        &self,
        program: &str,
        entity: &Versioned<T>,
    ) -> Result<(), StoreError> {
        let mut record = encode(program, &entity.value)?;
        record.version = entity.version;
        self.store.update(record).await
    }

    /// Reads a record, lets `change` edit it, and writes it back when `change` says so,
    /// reading again after a concurrent write. `None` when there is no such record.
    async fn modify<T: Entity, E: From<StoreError>>(
        &self,
        program: &str,
        location: (String, String),
        change: impl FnMut(&mut T) -> Result<bool, E>,
    ) -> Result<Option<T>, E> {
        match self.get_at::<T>(location).await? {
            Some(current) => self.modify_from(program, current, change).await,
            None => Ok(None),
        }
    }

    /// [`Repo::modify`] starting from a record already read.
    pub async fn modify_from<T: Entity, E: From<StoreError>>(
        &self,
        program: &str,
        mut current: Versioned<T>,
        mut change: impl FnMut(&mut T) -> Result<bool, E>,
    ) -> Result<Option<T>, E> {
        for _ in 0..MODIFY_ATTEMPTS {
            if !change(&mut current.value)? {
                return Ok(Some(current.value));
            }
            match self.update(program, &current).await {
                Ok(()) => return Ok(Some(current.value)),
                Err(StoreError::VersionConflict { .. }) => {
                    match self.get_at(current.value.location(program)).await? {
                        Some(latest) => current = latest,
                        None => return Ok(None),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let (pk, sk) = current.value.location(program);
        Err(StoreError::VersionConflict { pk, sk }.into())
    }

    async fn list<T: DeserializeOwned>(
        &self,
        query: Query,
        limit: usize,
        cursor: Option<&str>,
        newest_first: bool,
    ) -> Result<Listing<T>, StoreError> {
        let options = QueryOptions {
            limit,
            newest_first,
            cursor: cursor.and_then(Cursor::decode),
        };
        let Page { records, next } = self.store.query(&query, &options).await?;
        let items = records
            .into_iter()
            .map(|r| decode(r).map(|v| v.value))
            .collect::<Result<_, _>>()?;
        Ok(Listing {
            items,
            next_cursor: next.map(|c| c.encode()),
        })
    }

    // Programs and their keys.

    pub async fn get_program(&self, slug: &str) -> Result<Option<Versioned<Program>>, StoreError> {
        self.get_at(keys::program(slug)).await
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

    // Partners.

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
            Some(0) => match self.get_partner(program, &partner.key).await? {
                Some(existing) => Ok(PartnerInsert::KeyExists(existing)),
                None => Err(StoreError::Backend("partner vanished after insert".into())),
            },
            Some(_) => Ok(PartnerInsert::IdTaken),
        }
    }

    pub async fn get_partner(
        &self,
        program: &str,
        key: &str,
    ) -> Result<Option<Partner>, StoreError> {
        Ok(self
            .get_at::<Partner>(keys::partner(program, key))
            .await?
            .map(|v| v.value))
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
            Some(alias) => self.get_partner(program, &alias.value.partner_key).await,
            None => Ok(None),
        }
    }

    pub async fn list_partners(
        &self,
        program: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<Partner>, StoreError> {
        let query = Query::Index {
            pk: keys::partners(program),
        };
        self.list(query, limit, cursor, false).await
    }

    /// Notes `key` as the owner of an email address unless another record owns it already.
    pub async fn claim_email(
        &self,
        program: &str,
        kind: &str,
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
        kind: &str,
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
        kind: &str,
        email: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_at::<EmailOwner>(keys::email(program, kind, email))
            .await?
            .map(|v| v.value.key))
    }

    // Customers.

    pub async fn get_customer(
        &self,
        program: &str,
        key: &str,
    ) -> Result<Option<Customer>, StoreError> {
        Ok(self
            .get_at::<Customer>(keys::customer(program, key))
            .await?
            .map(|v| v.value))
    }

    pub async fn modify_customer<E: From<StoreError>>(
        &self,
        program: &str,
        key: &str,
        change: impl FnMut(&mut Customer) -> Result<bool, E>,
    ) -> Result<Option<Customer>, E> {
        self.modify(program, keys::customer(program, key), change)
            .await
    }

    pub async fn delete_customer(&self, program: &str, key: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::customer(program, key);
        self.store.delete(&pk, &sk).await
    }

    pub async fn list_customers(
        &self,
        program: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<Customer>, StoreError> {
        let query = Query::Index {
            pk: keys::customers(program),
        };
        self.list(query, limit, cursor, false).await
    }

    // Transactions and refunds.

    pub async fn get_transaction(
        &self,
        program: &str,
        key: &str,
    ) -> Result<Option<Versioned<Transaction>>, StoreError> {
        self.get_at(keys::transaction(program, key)).await
    }

    pub async fn modify_transaction<E: From<StoreError>>(
        &self,
        program: &str,
        key: &str,
        change: impl FnMut(&mut Transaction) -> Result<bool, E>,
    ) -> Result<Option<Transaction>, E> {
        self.modify(program, keys::transaction(program, key), change)
            .await
    }

    pub async fn list_transactions(
        &self,
        program: &str,
        status: TransactionStatus,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<Transaction>, StoreError> {
        let query = Query::Index {
            pk: keys::transactions_with_status(program, status.as_str()),
        };
        self.list(query, limit, cursor, false).await
    }

    /// Keeps a refund for a transaction not seen yet; false when it is kept already.
    pub async fn insert_pending_refund(
        &self,
        program: &str,
        transaction_key: &str,
        id: &str,
        refund: &RefundSpec,
    ) -> Result<bool, StoreError> {
        let record = encode_at(refund, keys::pending_refund(program, transaction_key, id))?;
        Ok(matches!(self.store.insert(record).await?, Insert::Created))
    }

    /// The refunds that arrived before the transaction.
    pub async fn pending_refunds(
        &self,
        program: &str,
        transaction_key: &str,
    ) -> Result<Vec<RefundSpec>, StoreError> {
        let query = Query::Partition {
            pk: keys::transaction_partition(program, transaction_key),
            sk_prefix: keys::PENDING_REFUND_PREFIX.into(),
        };
        self.all(query).await
    }

    /// Every record of a small partition.
    async fn all<T: DeserializeOwned>(&self, query: Query) -> Result<Vec<T>, StoreError> {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let options = QueryOptions {
                limit: 100,
                newest_first: false,
                cursor,
            };
            let page = self.store.query(&query, &options).await?;
            for record in page.records {
                items.push(decode(record)?.value);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    // A customer's transactions and the refunds waiting for them.

    pub async fn add_customer_transaction(
        &self,
        program: &str,
        customer_key: &str,
        transaction: &Transaction,
    ) -> Result<(), StoreError> {
        let entry = CustomerTransaction {
            transaction_key: transaction.key.clone(),
            source: transaction.source.clone(),
        };
        let location = keys::customer_transaction(
            program,
            customer_key,
            transaction.created_at,
            &transaction.key,
        );
        self.store.insert(encode_at(&entry, location)?).await?;
        Ok(())
    }

    /// The customer's transactions, newest first (at most `limit`).
    pub async fn customer_transactions(
        &self,
        program: &str,
        customer_key: &str,
        limit: usize,
    ) -> Result<Vec<CustomerTransaction>, StoreError> {
        let query = Query::Partition {
            pk: keys::customer(program, customer_key).0,
            sk_prefix: keys::CUSTOMER_TX_PREFIX.into(),
        };
        let options = QueryOptions {
            limit,
            newest_first: true,
            cursor: None,
        };
        let page = self.store.query(&query, &options).await?;
        page.records
            .into_iter()
            .map(|r| decode(r).map(|v| v.value))
            .collect()
    }

    /// Keeps a refund for the customer's next fitting payment; false when kept already.
    pub async fn insert_customer_refund(
        &self,
        program: &str,
        customer_key: &str,
        refund: &CustomerRefund,
    ) -> Result<bool, StoreError> {
        let location =
            keys::customer_refund(program, customer_key, &refund.source, &refund.refund_id);
        Ok(matches!(
            self.store.insert(encode_at(refund, location)?).await?,
            Insert::Created
        ))
    }

    pub async fn customer_refunds(
        &self,
        program: &str,
        customer_key: &str,
    ) -> Result<Vec<CustomerRefund>, StoreError> {
        let query = Query::Partition {
            pk: keys::customer(program, customer_key).0,
            sk_prefix: keys::CUSTOMER_REFUND_PREFIX.into(),
        };
        self.all(query).await
    }

    pub async fn delete_customer_refund(
        &self,
        program: &str,
        customer_key: &str,
        refund: &CustomerRefund,
    ) -> Result<(), StoreError> {
        let (pk, sk) =
            keys::customer_refund(program, customer_key, &refund.source, &refund.refund_id);
        self.store.delete(&pk, &sk).await
    }

    // Provider customers and the payments waiting for them.

    pub async fn provider_customer(
        &self,
        program: &str,
        provider: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_at::<ProviderCustomer>(keys::provider_customer(program, provider, id))
            .await?
            .map(|v| v.value.customer_key))
    }

    /// Points a provider's customer id at a customer; a later link replaces an earlier one.
    pub async fn link_provider_customer(
        &self,
        program: &str,
        provider: &str,
        id: &str,
        customer_key: &str,
    ) -> Result<(), StoreError> {
        let link = ProviderCustomer {
            customer_key: customer_key.to_string(),
        };
        let location = keys::provider_customer(program, provider, id);
        match self
            .store
            .insert(encode_at(&link, location.clone())?)
            .await?
        {
            Insert::Created => Ok(()),
            Insert::Exists(existing) => {
                let mut record = encode_at(&link, location)?;
                if existing.data == record.data {
                    return Ok(());
                }
                record.version = existing.version;
                self.store.update(record).await
            }
        }
    }

    pub async fn park_payment(
        &self,
        program: &str,
        waiting_for: &str,
        payment: &ParkedPayment,
    ) -> Result<(), StoreError> {
        let location = (
            keys::parked_partition(program, waiting_for),
            payment.transaction.key.clone(),
        );
        self.store.insert(encode_at(payment, location)?).await?;
        Ok(())
    }

    pub async fn parked_payments(
        &self,
        program: &str,
        waiting_for: &str,
    ) -> Result<Vec<ParkedPayment>, StoreError> {
        let query = Query::Partition {
            pk: keys::parked_partition(program, waiting_for),
            sk_prefix: String::new(),
        };
        self.all(query).await
    }

    pub async fn unpark_payment(
        &self,
        program: &str,
        waiting_for: &str,
        transaction_key: &str,
    ) -> Result<(), StoreError> {
        self.store
            .delete(
                &keys::parked_partition(program, waiting_for),
                transaction_key,
            )
            .await
    }

    // Provider event ids, for dedupe.

    pub async fn provider_event_seen(
        &self,
        program: &str,
        provider: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::provider_event(program, provider, id);
        Ok(self.store.get(&pk, &sk).await?.is_some())
    }

    /// Remembers a handled event for a week (providers retry for up to three days).
    pub async fn mark_provider_event(
        &self,
        program: &str,
        provider: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let now = crate::domain::now_millis();
        let seen = ProviderEventSeen { seen_at: now };
        let record = encode_at(&seen, keys::provider_event(program, provider, id))?
            .expiring_at(now / 1000 + 7 * 24 * 3600);
        self.store.insert(record).await?;
        Ok(())
    }

    // Rewards.

    pub async fn rewards_of_transaction(
        &self,
        program: &str,
        transaction_key: &str,
    ) -> Result<Vec<Versioned<Reward>>, StoreError> {
        let query = Query::Partition {
            pk: keys::transaction_partition(program, transaction_key),
            sk_prefix: keys::REWARD_PREFIX.into(),
        };
        let options = QueryOptions {
            limit: crate::commission::MAX_LEVELS,
            ..Default::default()
        };
        let page = self.store.query(&query, &options).await?;
        page.records.into_iter().map(decode).collect()
    }

    pub async fn rewards_of_partner(
        &self,
        program: &str,
        partner_key: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<Reward>, StoreError> {
        let query = Query::Index {
            pk: keys::rewards_of_partner(program, partner_key),
        };
        self.list(query, limit, cursor, false).await
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

    // Postbacks and their deliveries.

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

    pub async fn get_postback(
        &self,
        program: &str,
        id: &str,
    ) -> Result<Option<Versioned<Postback>>, StoreError> {
        self.get_at(keys::postback(program, id)).await
    }

    pub async fn delete_postback(&self, program: &str, id: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::postback(program, id);
        self.store.delete(&pk, &sk).await
    }

    pub async fn get_delivery(
        &self,
        program: &str,
        id: &str,
    ) -> Result<Option<Versioned<Delivery>>, StoreError> {
        self.get_at(keys::delivery(program, id)).await
    }

    pub async fn list_deliveries(
        &self,
        program: &str,
        postback_id: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<Delivery>, StoreError> {
        let query = Query::Index {
            pk: keys::deliveries_of_postback(program, postback_id),
        };
        self.list(query, limit, cursor, true).await
    }

    // Incoming webhooks.

    pub async fn get_hook(
        &self,
        id: &str,
    ) -> Result<Option<Versioned<IncomingWebhook>>, StoreError> {
        self.get_at(keys::hook(id)).await
    }

    pub async fn list_hooks(
        &self,
        program: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<IncomingWebhook>, StoreError> {
        let query = Query::Index {
            pk: keys::hooks(program),
        };
        self.list(query, limit, cursor, false).await
    }

    pub async fn delete_hook(&self, id: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::hook(id);
        self.store.delete(&pk, &sk).await
    }

    // The inbox.

    pub async fn get_event(
        &self,
        program: &str,
        id: &str,
    ) -> Result<Option<InboxEntry>, StoreError> {
        Ok(self
            .get_at::<InboxEntry>(keys::event(program, id))
            .await?
            .map(|v| v.value))
    }

    pub async fn list_events(
        &self,
        program: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<InboxEntry>, StoreError> {
        let query = Query::Index {
            pk: keys::events(program),
        };
        self.list(query, limit, cursor, true).await
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PartnerInsert {
    Created,
    KeyExists(Partner),
    IdTaken,
}
