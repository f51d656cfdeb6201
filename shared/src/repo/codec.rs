//! How records are stored: where each entity lives in the table (its keys, its index entry, its
//! expiry), how it is stamped when it changes, and the JSON encoding of its document.

use crate::domain::action::{Action, CustomerAction};
use crate::domain::counter::Counter;
use crate::domain::customer::Customer;
use crate::domain::group::Group;
use crate::domain::hook::IncomingWebhook;
use crate::domain::idempotency::IdempotentRequest;
use crate::domain::import::{Import, ImportPart};
use crate::domain::inbox::InboxEntry;
use crate::domain::partner::Partner;
use crate::domain::payout::{Payout, PayoutItem, PayoutStatus};
use crate::domain::postback::{Delivery, Postback};
use crate::domain::program::Program;
use crate::domain::reward::{Reward, RewardSource};
use crate::domain::throttle::RefusalBucket;
use crate::domain::time::{change_stamp, Millis};
use crate::domain::transaction::Transaction;
use crate::repo::keys;
use crate::store::{IndexKey, Record, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A record's value with the version it was read at, for an optimistic update.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
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
    /// Notes a change made at `now` (`updated_at`), for entities that keep one.
    fn touch(&mut self, _now: Millis) {}
}

/// An entity found by one id within its program, so it can be read and deleted by id.
pub trait Keyed: Entity {
    fn location_of(program: &str, id: &str) -> (String, String);
}

/// Sort keys of listings: creation time first, fixed width so text order is time order.
pub(crate) fn by_time(created_at: Millis, key: &str) -> String {
    format!("{created_at:015}#{key}")
}

fn indexed(pk: String, sk: String) -> Option<IndexKey> {
    Some(IndexKey { pk, sk })
}

impl Entity for Program {
    fn location(&self, _program: &str) -> (String, String) {
        keys::program(&self.slug)
    }
    fn index(&self, _program: &str) -> Option<IndexKey> {
        indexed(keys::PROGRAMS.into(), self.slug.clone())
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Program {
    fn location_of(_program: &str, slug: &str) -> (String, String) {
        keys::program(slug)
    }
}

impl Entity for Partner {
    fn location(&self, program: &str) -> (String, String) {
        keys::partner(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::listing_shard(&keys::partners(program), &self.key),
            by_time(self.created_at, &self.key),
        )
    }
}

impl Keyed for Partner {
    fn location_of(program: &str, key: &str) -> (String, String) {
        keys::partner(program, key)
    }
}

impl Entity for Group {
    fn location(&self, program: &str) -> (String, String) {
        keys::group(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(keys::groups(program), by_time(self.created_at, &self.key))
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Group {
    fn location_of(program: &str, key: &str) -> (String, String) {
        keys::group(program, key)
    }
}

impl Entity for Counter {
    fn location(&self, program: &str) -> (String, String) {
        keys::counter(program, &self.id)
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Counter {
    fn location_of(program: &str, id: &str) -> (String, String) {
        keys::counter(program, id)
    }
}

impl Entity for Customer {
    fn location(&self, program: &str) -> (String, String) {
        keys::customer(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::listing_shard(&keys::customers(program), &self.key),
            by_time(self.created_at, &self.key),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Customer {
    fn location_of(program: &str, key: &str) -> (String, String) {
        keys::customer(program, key)
    }
}

impl Entity for Transaction {
    fn location(&self, program: &str) -> (String, String) {
        keys::transaction(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::listing_shard(
                &keys::transactions_with_status(program, self.status.as_str()),
                &self.key,
            ),
            by_time(self.created_at, &self.key),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Transaction {
    fn location_of(program: &str, key: &str) -> (String, String) {
        keys::transaction(program, key)
    }
}

impl Entity for Reward {
    fn location(&self, program: &str) -> (String, String) {
        match self.source {
            RewardSource::Transaction => keys::reward(program, self.origin(), self.level),
            RewardSource::Action => keys::action_reward(program, self.origin(), self.level),
            RewardSource::Clawback => keys::clawback(program, self.origin(), &self.key),
        }
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::rewards_of_partner(program, &self.partner_key),
            by_time(self.created_at, &self.key),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

/// A pending reward's entry in the listing by payment date; see `keys::reward_due`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RewardDue {
    pub reward_key: String,
    pub payment_date: Millis,
    /// The reward's record keys.
    pub pk: String,
    pub sk: String,
}

impl RewardDue {
    pub fn of(reward: &Reward, program: &str) -> Option<Self> {
        let (pk, sk) = reward.location(program);
        Some(Self {
            reward_key: reward.key.clone(),
            payment_date: reward.payment_date?,
            pk,
            sk,
        })
    }
}

impl Entity for RewardDue {
    fn location(&self, program: &str) -> (String, String) {
        keys::reward_due(program, &self.pk, &self.sk)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::rewards_due(program),
            by_time(self.payment_date, &self.reward_key),
        )
    }
}

impl Entity for Payout {
    fn location(&self, program: &str) -> (String, String) {
        keys::payout(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        // Open ones are listed apart for the sweeper; completed ones by partner.
        let pk = match self.status {
            PayoutStatus::Open => keys::open_payouts(program),
            PayoutStatus::Completed => keys::payouts_of_partner(program, &self.partner_key),
        };
        indexed(pk, by_time(self.created_at, &self.id))
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Payout {
    fn location_of(program: &str, id: &str) -> (String, String) {
        keys::payout(program, id)
    }
}

impl Entity for PayoutItem {
    fn location(&self, program: &str) -> (String, String) {
        keys::payout_item(program, &self.payout_id, &self.reward_key)
    }
}

impl Entity for Action {
    fn location(&self, program: &str) -> (String, String) {
        keys::action(program, &self.key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::actions_of_partner(program, &self.partner_key),
            by_time(self.created_at, &self.key),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Action {
    fn location_of(program: &str, key: &str) -> (String, String) {
        keys::action(program, key)
    }
}

impl Entity for CustomerAction {
    fn location(&self, program: &str) -> (String, String) {
        keys::customer_action(program, &self.action_key)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::actions_of_customer(program, &self.customer_key),
            by_time(self.created_at, &self.action_key),
        )
    }
}

impl Entity for Postback {
    fn location(&self, program: &str) -> (String, String) {
        keys::postback(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::postbacks_of_partner(program, &self.partner_key),
            by_time(self.created_at, &self.id),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Postback {
    fn location_of(program: &str, id: &str) -> (String, String) {
        keys::postback(program, id)
    }
}

impl Entity for Delivery {
    fn location(&self, program: &str) -> (String, String) {
        keys::delivery(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        indexed(
            keys::deliveries_of_postback(program, &self.postback_id),
            by_time(self.created_at, &self.id),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for Delivery {
    fn location_of(program: &str, id: &str) -> (String, String) {
        keys::delivery(program, id)
    }
}

impl Entity for IncomingWebhook {
    // Found by id alone from its URL; the record says which program owns it.
    fn location(&self, _program: &str) -> (String, String) {
        keys::hook(&self.id)
    }
    fn index(&self, _program: &str) -> Option<IndexKey> {
        indexed(
            keys::hooks(&self.program),
            by_time(self.created_at, &self.id),
        )
    }
    fn touch(&mut self, now: Millis) {
        self.updated_at = change_stamp(self.updated_at, now);
    }
}

impl Keyed for IncomingWebhook {
    fn location_of(_program: &str, id: &str) -> (String, String) {
        keys::hook(id)
    }
}

impl Entity for InboxEntry {
    fn location(&self, program: &str) -> (String, String) {
        keys::event(program, &self.id)
    }
    fn index(&self, program: &str) -> Option<IndexKey> {
        // Event ids are UUIDv7, so they sort by time.
        indexed(
            keys::listing_shard(&keys::events(program), &self.id),
            self.id.clone(),
        )
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

impl Keyed for InboxEntry {
    fn location_of(program: &str, id: &str) -> (String, String) {
        keys::event(program, id)
    }
}

impl Entity for RefusalBucket {
    fn location(&self, program: &str) -> (String, String) {
        keys::refusals(program)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(RefusalBucket::expires_at(*self))
    }
}

impl Entity for IdempotentRequest {
    // Scoped by the caller's credential, which the id includes, not by a program.
    fn location(&self, _program: &str) -> (String, String) {
        keys::idempotency(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

impl Keyed for IdempotentRequest {
    fn location_of(_program: &str, id: &str) -> (String, String) {
        keys::idempotency(id)
    }
}

impl Entity for Import {
    fn location(&self, program: &str) -> (String, String) {
        keys::import(program, &self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

impl Keyed for Import {
    fn location_of(program: &str, id: &str) -> (String, String) {
        keys::import(program, id)
    }
}

impl Entity for ImportPart {
    fn location(&self, program: &str) -> (String, String) {
        keys::import_part(program, &self.import_id, self.part)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

fn corrupt(record: &Record, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        pk: record.pk.clone(),
        sk: record.sk.clone(),
        reason: e.to_string(),
    }
}

pub fn decode<T: DeserializeOwned>(record: Record) -> Result<Versioned<T>, StoreError> {
    let value = serde_json::from_value(record.data.clone()).map_err(|e| corrupt(&record, e))?;
    Ok(Versioned {
        value,
        version: record.version,
    })
}

/// A value as the record at `(pk, sk)`, without an index entry.
pub fn encode_at<T: Serialize>(
    value: &T,
    (pk, sk): (String, String),
) -> Result<Record, StoreError> {
    let data = serde_json::to_value(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(Record::new(pk, sk, data))
}

pub fn encode<T: Entity>(program: &str, entity: &T) -> Result<Record, StoreError> {
    let mut record = encode_at(entity, entity.location(program))?;
    record.index = entity.index(program);
    record.expires_at = entity.expires_at();
    Ok(record)
}
