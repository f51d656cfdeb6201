//! Records as the store keeps them, weighed by DynamoDB's item size rules.

use super::Env;
use partnerhook::store::dynamodb::record_size;
use partnerhook::store::Query;

/// The size of the item stored at `pk`/`sk`, as DynamoDB counts it.
pub async fn stored_item_size(env: &Env, (pk, sk): (String, String)) -> usize {
    let records = env
        .app
        .repo
        .all_records(Query::Partition {
            pk: pk.clone(),
            sk_prefix: sk.clone(),
        })
        .await
        .expect("read the partition");
    let record = records
        .iter()
        .find(|r| r.sk == sk)
        .unwrap_or_else(|| panic!("no record at {pk}/{sk}"));
    record_size(record, record.version)
}
