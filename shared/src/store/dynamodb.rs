//! The DynamoDB adapter of the storage port: one on-demand table, keys `pk`/`sk`, one global
//! secondary index `gsi1` (`gsi1pk`/`gsi1sk`), TTL attribute `ttl`, optimistic version `v`, and
//! the record's document as a JSON string in `data` (exact decimals stay strings).
//!
//! The index holds keys only (KEYS_ONLY): an indexed item's write then costs one small index
//! write when it is created or its index key changes, and none when only its data changes. A
//! listing reads the keys from the index and the items by key (BatchGetItem), which is the
//! cheaper side of the trade: listings are rare, writes are every request.

use super::{Cursor, IndexKey, Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

pub const INDEX_NAME: &str = "gsi1";
/// DynamoDB's largest item: 400 KB, attribute names and values together.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// BatchGetItem's most keys per request.
pub(crate) const BATCH_GET_LIMIT: usize = 100;
/// Rounds of unprocessed keys (throttled) before a listing gives up as unavailable.
const BATCH_GET_ROUNDS: u32 = 6;
type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn backend<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Backend(format!("{e:?}"))
}

/// Error codes that mean "try again": throttling and the service's own passing failures.
const TRANSIENT_CODES: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// A failed call, told apart by whether a retry may succeed (throttled, timed out, the
/// connection dropped) or not.
fn failed<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> StoreError {
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => e.code().is_some_and(|code| TRANSIENT_CODES.contains(&code)),
    };
    if transient {
        StoreError::Unavailable(format!("{e:?}"))
    } else {
        backend(e)
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

/// The item DynamoDB stores for a record at `version`.
pub(crate) fn to_item(record: &Record, version: u64) -> Item {
    let mut item = Item::from([
        ("pk".to_string(), s(&record.pk)),
        ("sk".to_string(), s(&record.sk)),
        ("v".to_string(), AttributeValue::N(version.to_string())),
        ("data".to_string(), s(&record.data.to_string())),
    ]);
    if let Some(index) = &record.index {
        item.insert("gsi1pk".into(), s(&index.pk));
        item.insert("gsi1sk".into(), s(&index.sk));
    }
    if let Some(ttl) = record.expires_at {
        item.insert("ttl".into(), AttributeValue::N(ttl.to_string()));
    }
    item
}

/// An item's size by DynamoDB's billing rules: each attribute's name and value, a string by its
/// UTF-8 bytes, a number by one byte per two significant digits plus one.
pub(crate) fn item_size<'a>(
    attributes: impl IntoIterator<Item = (&'a String, &'a AttributeValue)>,
) -> usize {
    attributes
        .into_iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(text) => text.len(),
                    AttributeValue::N(number) => {
                        let digits = number
                            .trim_start_matches('-')
                            .replace('.', "")
                            .trim_matches('0')
                            .len();
                        digits.div_ceil(2) + 1
                    }
                    _ => 0,
                }
        })
        .sum()
}

/// The size of the item a record at `version` is stored as.
pub fn record_size(record: &Record, version: u64) -> usize {
    item_size(&to_item(record, version))
}

/// Refuses a record whose item would pass DynamoDB's limit. Every adapter calls it before it
/// writes, so a record that could not be written on AWS fails the same way locally and in
/// tests; DynamoDB checks it before any condition, and so do they.
pub(crate) fn check_size(record: &Record, version: u64) -> Result<(), StoreError> {
    let size = record_size(record, version);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge {
            pk: record.pk.clone(),
            sk: record.sk.clone(),
            size,
        });
    }
    Ok(())
}

fn from_item(item: &Item) -> Result<Record, StoreError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).cloned();
    let pk = text("pk").unwrap_or_default();
    let sk = text("sk").unwrap_or_default();
    let corrupt = |reason: String| StoreError::Corrupt {
        pk: pk.clone(),
        sk: sk.clone(),
        reason,
    };
    let data = text("data").ok_or_else(|| corrupt("no data attribute".into()))?;
    let version = number("v")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt("no version attribute".into()))?;
    Ok(Record {
        index: text("gsi1pk")
            .zip(text("gsi1sk"))
            .map(|(pk, sk)| IndexKey { pk, sk }),
        version,
        expires_at: number("ttl").and_then(|t| t.parse().ok()),
        data: serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?,
        pk: pk.clone(),
        sk: sk.clone(),
    })
}

fn cursor_key(cursor: &Cursor) -> Item {
    let mut key = Item::from([
        ("pk".to_string(), s(&cursor.pk)),
        ("sk".to_string(), s(&cursor.sk)),
    ]);
    if let Some(index) = &cursor.index {
        key.insert("gsi1pk".into(), s(&index.pk));
        key.insert("gsi1sk".into(), s(&index.sk));
    }
    key
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the table as template.yaml defines it, for tests and local set-ups; a table
    /// that already exists is left alone.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(backend)
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend)
        };
        let index = GlobalSecondaryIndex::builder()
            .index_name(INDEX_NAME)
            .key_schema(key("gsi1pk", KeyType::Hash)?)
            .key_schema(key("gsi1sk", KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::KeysOnly)
                    .build(),
            )
            .build()
            .map_err(backend)?;
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .attribute_definitions(attr("gsi1pk")?)
            .attribute_definitions(attr("gsi1sk")?)
            .global_secondary_indexes(index)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    /// The Query request for a query of the port, as it goes on the wire.
    fn query_request(
        &self,
        query: &Query,
        options: &QueryOptions,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let limit = i32::try_from(options.limit + 1).unwrap_or(i32::MAX);
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .limit(limit)
            .scan_index_forward(!options.newest_first)
            // Global secondary indexes cannot be read consistently; partitions can.
            .consistent_read(options.consistent && matches!(query, Query::Partition { .. }))
            .set_exclusive_start_key(options.cursor.as_ref().map(cursor_key));
        match query {
            // DynamoDB refuses an empty string in a key condition: no prefix, whole partition.
            Query::Partition { pk, sk_prefix } if sk_prefix.is_empty() => request
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk)),
            Query::Partition { pk, sk_prefix } => request
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(sk_prefix)),
            Query::Index { pk } => request
                .index_name(INDEX_NAME)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", s(pk)),
        }
    }

    fn put_new(&self, record: &Record) -> Result<TransactWriteItem, StoreError> {
        check_size(record, 1)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(record, 1)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(failed)?;
        out.item().map(from_item).transpose()
    }

    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        check_size(&record, 1)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&record, 1)))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Insert::Created),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let existing = match failed.item() {
                        Some(item) => from_item(item)?,
                        None => self
                            .get(&record.pk, &record.sk)
                            .await?
                            .ok_or_else(|| backend("record vanished after a failed insert"))?,
                    };
                    Ok(Insert::Exists(existing))
                }
                other if other.code().is_some_and(|c| TRANSIENT_CODES.contains(&c)) => {
                    Err(StoreError::Unavailable(format!("{other:?}")))
                }
                other => Err(backend(other)),
            },
            Err(e) => Err(failed(e)),
        }
    }

    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        let items = records
            .iter()
            .map(|r| self.put_new(r))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) => {
                let taken = e.as_service_error().and_then(|service| match service {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancel) => cancel
                        .cancellation_reasons()
                        .iter()
                        .position(|r| r.code() == Some("ConditionalCheckFailed")),
                    _ => None,
                });
                match taken {
                    Some(i) => Ok(Some(i)),
                    None => Err(failed(e)),
                }
            }
        }
    }

    async fn update(&self, record: Record) -> Result<(), StoreError> {
        check_size(&record, record.version + 1)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&record, record.version + 1)))
            .condition_expression("v = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(record.version.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Err(StoreError::VersionConflict {
                    pk: record.pk,
                    sk: record.sk,
                })
            }
            Err(e) => Err(failed(e)),
        }
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        let (found, next) = self.query_items(query, options).await?;
        let records = match query {
            Query::Partition { .. } => found.iter().map(from_item).collect::<Result<_, _>>()?,
            // An item that left this listing (or the table) since the index saw it is left out.
            Query::Index { pk } => self
                .items_by_key(&found)
                .await?
                .into_iter()
                .filter(|r| r.index.as_ref().is_some_and(|i| &i.pk == pk))
                .collect(),
        };
        Ok(Page { records, next })
    }

    async fn index_entries(&self, pk: &str, options: &QueryOptions) -> Result<Page, StoreError> {
        let query = Query::Index { pk: pk.to_owned() };
        let (found, next) = self.query_items(&query, options).await?;
        let records = found
            .iter()
            .map(|item| {
                let keys = cursor_of(item);
                Record {
                    index: keys.index,
                    ..Record::new(keys.pk, keys.sk, serde_json::Value::Null)
                }
            })
            .collect();
        Ok(Page { records, next })
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Record>, StoreError> {
        let keys: Vec<Item> = keys
            .iter()
            .map(|(pk, sk)| Item::from([("pk".into(), s(pk)), ("sk".into(), s(sk))]))
            .collect();
        self.items_by_key(&keys).await
    }
}

fn cursor_of(item: &Item) -> Cursor {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Cursor {
        pk: text("pk").unwrap_or_default(),
        sk: text("sk").unwrap_or_default(),
        index: text("gsi1pk")
            .zip(text("gsi1sk"))
            .map(|(pk, sk)| IndexKey { pk, sk }),
    }
}

fn table_key(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| *name == "pk" || *name == "sk")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

impl DynamoStore {
    /// One page of a query's items as the table or index answers them, with where it stopped.
    async fn query_items(
        &self,
        query: &Query,
        options: &QueryOptions,
    ) -> Result<(Vec<Item>, Option<Cursor>), StoreError> {
        let out = self
            .query_request(query, options)
            .send()
            .await
            .map_err(failed)?;
        let mut found = out.items().to_vec();
        let more = found.len() > options.limit || out.last_evaluated_key().is_some();
        found.truncate(options.limit);
        let next = match (more, found.last()) {
            (true, Some(last)) => Some(cursor_of(last)),
            _ => None,
        };
        Ok((found, next))
    }

    /// The items of index entries, in the entries' order (BatchGetItem answers in any order).
    async fn items_by_key(&self, entries: &[Item]) -> Result<Vec<Record>, StoreError> {
        let keys: Vec<Item> = entries.iter().map(table_key).collect();
        let mut fetched: Vec<Item> = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_LIMIT) {
            let mut pending = chunk.to_vec();
            for round in 0..BATCH_GET_ROUNDS {
                if pending.is_empty() {
                    break;
                }
                if round > 0 {
                    // Unprocessed keys mean throttling: back off before asking again.
                    tokio::time::sleep(std::time::Duration::from_millis(25 << round)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .build()
                    .map_err(backend)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(failed)?;
                if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                    fetched.extend(items.iter().cloned());
                }
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .map(|k| k.keys().to_vec())
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable(
                    "the listing's items were throttled".into(),
                ));
            }
        }
        let mut by_key: HashMap<(String, String), Item> = fetched
            .into_iter()
            .map(|item| {
                let c = cursor_of(&item);
                ((c.pk, c.sk), item)
            })
            .collect();
        keys.iter()
            .filter_map(|k| {
                let c = cursor_of(k);
                by_key.remove(&(c.pk, c.sk))
            })
            .map(|item| from_item(&item))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> DynamoStore {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        DynamoStore::new(Client::from_conf(config), "t".to_string())
    }

    #[test]
    fn partition_queries_ask_for_consistency_and_index_queries_cannot() {
        let consistent = QueryOptions {
            consistent: true,
            ..Default::default()
        };
        let partition = Query::Partition {
            pk: "p".into(),
            sk_prefix: "RW#".into(),
        };
        let sent = store().query_request(&partition, &consistent);
        assert_eq!(sent.as_input().get_consistent_read(), &Some(true));
        let lazy = store().query_request(&partition, &QueryOptions::default());
        assert_eq!(lazy.as_input().get_consistent_read(), &Some(false));
        let index = store().query_request(&Query::Index { pk: "i".into() }, &consistent);
        assert_eq!(index.as_input().get_consistent_read(), &Some(false));
        assert_eq!(
            index.as_input().get_index_name().as_deref(),
            Some(INDEX_NAME)
        );
    }
}
