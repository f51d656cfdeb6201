//! The key layout of the one table. Partition keys are entity-scoped (`{program}#TX#{key}`), so
//! no program becomes one hot partition; listings go through the `gsi1` index. A transaction's
//! partition also holds its rewards (`RW#{level}`) and a refund that arrived before it
//! (`REFUND#...`). docs/ARCHITECTURE.md has the table of listings.

use crate::domain::customer::EmailKind;
use sha2::{Digest, Sha256};

pub fn program(slug: &str) -> (String, String) {
    (format!("PROGRAM#{slug}"), "PROGRAM".into())
}
pub fn api_key(hash: &str) -> (String, String) {
    (format!("APIKEY#{hash}"), "APIKEY".into())
}
/// A request made with an `Idempotency-Key`, by the digest of the caller and the key.
pub fn idempotency(id: &str) -> (String, String) {
    (format!("IDEMPOTENCY#{id}"), "IDEMPOTENCY".into())
}
pub fn partner(program: &str, key: &str) -> (String, String) {
    (format!("{program}#PARTNER#{key}"), "PARTNER".into())
}
pub fn partner_id(program: &str, id: &str) -> (String, String) {
    (format!("{program}#PARTNERID#{id}"), "PARTNERID".into())
}
/// The first partner or customer (`kind`) with an email address, for lookups by email.
pub fn email(program: &str, kind: EmailKind, email: &str) -> (String, String) {
    (
        format!("{program}#{}EMAIL#{}", kind.as_str(), email.to_lowercase()),
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
    in_customer(program, customer_key, CUSTOMER_REFUND_PREFIX, source, id)
}
/// Which payment a customer-named refund went to: written once, so it goes to one alone.
pub fn customer_refund_assignment(
    program: &str,
    customer_key: &str,
    source: &str,
    id: &str,
) -> (String, String) {
    in_customer(program, customer_key, "REFUNDTO#", source, id)
}
fn in_customer(
    program: &str,
    customer_key: &str,
    prefix: &str,
    source: &str,
    id: &str,
) -> (String, String) {
    (
        customer(program, customer_key).0,
        format!("{prefix}{source}#{id}"),
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
/// Every parked payment of a program, oldest first (index partition).
pub fn parked(program: &str) -> String {
    format!("{program}#PARKED")
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
/// A clawback of a paid reward, in its transaction's partition beside the reward it reverses.
pub const CLAWBACK_PREFIX: &str = "CB#";
pub fn clawback(program: &str, transaction_key: &str, key: &str) -> (String, String) {
    (
        transaction_partition(program, transaction_key),
        format!("{CLAWBACK_PREFIX}{key}"),
    )
}
/// A pending reward's entry in the listing of rewards by payment date, so the sweeper finds
/// the due ones without reading every reward. Keyed by the reward's own record keys.
pub fn reward_due(program: &str, reward_pk: &str, reward_sk: &str) -> (String, String) {
    (
        format!("{program}#RWDUE#{reward_pk}#{reward_sk}"),
        "RWDUE".into(),
    )
}
pub fn payout_partition(program: &str, id: &str) -> String {
    format!("{program}#PAYOUT#{id}")
}
pub fn payout(program: &str, id: &str) -> (String, String) {
    (payout_partition(program, id), "PAYOUT".into())
}
/// A reward a payout set out to claim.
pub const PAYOUT_ITEM_PREFIX: &str = "ITEM#";
pub fn payout_item(program: &str, id: &str, reward_key: &str) -> (String, String) {
    (
        payout_partition(program, id),
        format!("{PAYOUT_ITEM_PREFIX}{reward_key}"),
    )
}
/// A reward earned by an action lives in the action's partition: it has no transaction.
pub fn action_reward(program: &str, action_key: &str, level: u8) -> (String, String) {
    (
        action_partition(program, action_key),
        format!("{REWARD_PREFIX}{level:02}"),
    )
}
pub fn action_partition(program: &str, key: &str) -> String {
    format!("{program}#ACTION#{key}")
}
pub fn action(program: &str, key: &str) -> (String, String) {
    (action_partition(program, key), "ACTION".into())
}
/// A customer's action, listed by the customer: a second entry, since an action's own index
/// entry lists it by partner.
pub fn customer_action(program: &str, key: &str) -> (String, String) {
    (action_partition(program, key), "BYCUSTOMER".into())
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
/// An import's head (`IMPORT`) and the parts of its results (`PART#{n}`), one partition.
pub fn import(program: &str, id: &str) -> (String, String) {
    (format!("{program}#IMPORT#{id}"), "IMPORT".into())
}
pub fn import_part(program: &str, id: &str, part: usize) -> (String, String) {
    (format!("{program}#IMPORT#{id}"), format!("PART#{part:05}"))
}
pub fn group(program: &str, key: &str) -> (String, String) {
    (format!("{program}#GROUP#{key}"), "GROUP".into())
}
/// A counter of sales that decide rewards (tiers, duration): one item each, written with a
/// version condition.
pub fn counter(program: &str, id: &str) -> (String, String) {
    (format!("{program}#COUNTER#{id}"), "COUNTER".into())
}
pub fn event(program: &str, id: &str) -> (String, String) {
    (format!("{program}#EVENT#{id}"), "EVENT".into())
}

// Index partitions of the listings.

/// How many index partitions a busy listing (partners, customers, transactions by status, the
/// inbox) spreads its entries over. Their sort keys only grow, so each would otherwise take all
/// of a program's writes on one partition (1,000 WCU/s); a listing page costs one query each.
pub const LISTING_SHARDS: u8 = 4;

/// The index partition of a busy listing that holds the entry of the item with `key`: chosen
/// from the key alone, so an item whose entry moves (a status change) keeps its shard.
pub fn listing_shard(listing: &str, key: &str) -> String {
    shard(listing, Sha256::digest(key.as_bytes())[0] % LISTING_SHARDS)
}

/// Every index partition of a listing: its shards for a busy listing, else itself.
pub fn listing_partitions(listing: &str) -> Vec<String> {
    let count = if is_spread(listing) {
        LISTING_SHARDS
    } else {
        1
    };
    (0..count).map(|n| shard(listing, n)).collect()
}

/// Shard 0 keeps the listing's own name, so entries written before the spreading stay listed.
fn shard(listing: &str, n: u8) -> String {
    match n {
        0 => listing.to_owned(),
        _ => format!("{listing}#{n}"),
    }
}

/// Whether `listing` is one of the busy listings (slugs hold no `#`, so the program is the text
/// before the first one).
fn is_spread(listing: &str) -> bool {
    let Some((program, rest)) = listing.split_once('#') else {
        return false;
    };
    [partners(program), customers(program), events(program)].contains(&listing.to_owned())
        || rest
            .strip_prefix("TXSTATUS#")
            .is_some_and(|status| !status.contains('#'))
}
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
/// Pending rewards by payment date (index partition).
pub fn rewards_due(program: &str) -> String {
    format!("{program}#RWDUE")
}
pub fn payouts_of_partner(program: &str, partner: &str) -> String {
    format!("{program}#PARTNER#{partner}#PAYOUTS")
}
/// Payouts still open (index partition), for the sweeper to complete.
pub fn open_payouts(program: &str) -> String {
    format!("{program}#PAYOUTS#OPEN")
}
pub fn actions_of_partner(program: &str, partner: &str) -> String {
    format!("{program}#PARTNER#{partner}#ACTIONS")
}
pub fn actions_of_customer(program: &str, customer: &str) -> String {
    format!("{program}#CUSTOMER#{customer}#ACTIONS")
}
pub fn groups(program: &str) -> String {
    format!("{program}#GROUPS")
}
pub fn events(program: &str) -> String {
    format!("{program}#EVENTS")
}

// Admin keys and the audit log: a separate block, so layout changes elsewhere merge cleanly.
/// A program's admin keys, one record written with a version check (see `domain::api_key`).
pub fn key_set(program: &str) -> (String, String) {
    (format!("{program}#KEYSET"), "KEYSET".into())
}
/// A program's admin keys, listed by creation (index partition; the grants themselves).
pub fn admin_keys(program: &str) -> String {
    format!("{program}#APIKEYS")
}
/// An audit entry (`AUDIT`) and its copy listed under the key that made the change (`BYKEY`).
pub fn audit_entry(program: &str, id: &str) -> (String, String) {
    (format!("{program}#AUDIT#{id}"), "AUDIT".into())
}
pub fn audit_entry_by_key(program: &str, id: &str) -> (String, String) {
    (format!("{program}#AUDIT#{id}"), "BYKEY".into())
}
/// Every audit entry of a program (index partition; UUIDv7 ids sort by time).
pub fn audit(program: &str) -> String {
    format!("{program}#AUDIT")
}
/// The audit entries of one admin key (index partition).
pub fn audit_of_key(program: &str, key_id: &str) -> String {
    format!("{program}#APIKEY#{key_id}#AUDIT")
}

// Throttling of webhooks refused before their sender was verified.
/// A program's allowance of refused webhooks: one item, written only when one is refused.
pub fn refusals(program: &str) -> (String, String) {
    (format!("{program}#REFUSALS"), "REFUSALS".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_listings_spread_evenly_and_keep_their_old_name_as_shard_zero() {
        for listing in [
            partners("acme"),
            customers("acme"),
            events("acme"),
            transactions_with_status("acme", "recorded"),
        ] {
            let partitions = listing_partitions(&listing);
            assert_eq!(partitions.len(), usize::from(LISTING_SHARDS), "{listing}");
            assert_eq!(partitions[0], listing);
            let mut counts = vec![0; partitions.len()];
            for i in 0..4000 {
                let chosen = listing_shard(&listing, &format!("key-{i}"));
                let at = partitions.iter().position(|p| *p == chosen);
                counts[at.expect("a shard of the listing")] += 1;
            }
            // 1,000 each expected; a skewed or constant choice fails.
            assert!(
                counts.iter().all(|&c| (850..1150).contains(&c)),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn an_item_keeps_its_shard_when_its_entry_changes_listing() {
        let recorded = transactions_with_status("acme", "recorded");
        let refunded = transactions_with_status("acme", "refunded");
        for key in ["tx-1", "tx-2", "tx-3", "tx-4", "tx-5"] {
            let before = listing_shard(&recorded, key);
            let after = listing_shard(&refunded, key);
            assert_eq!(
                before.strip_prefix(&recorded),
                after.strip_prefix(&refunded)
            );
        }
    }

    #[test]
    fn other_listings_stay_in_one_partition_whatever_the_keys_hold() {
        for key in ["p", "#PARTNERS", "x#TXSTATUS#recorded", "EVENTS"] {
            for listing in [
                rewards_of_partner("acme", key),
                actions_of_customer("acme", key),
                postbacks_of_partner("acme", key),
                groups("acme"),
                rewards_due("acme"),
                PROGRAMS.to_owned(),
            ] {
                assert_eq!(listing_partitions(&listing), vec![listing.clone()]);
            }
        }
    }
}
