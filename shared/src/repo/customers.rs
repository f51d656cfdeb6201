//! What hangs off a customer: its transactions (newest first, for refunds that name only the
//! customer), those refunds while they wait, the provider ids that point at it, and the
//! payments parked until it is known.

use crate::domain::refund::CustomerRefund;
use crate::domain::transaction::{ParkedPayment, Transaction};
use crate::repo::codec::{decode, encode_at};
use crate::repo::core::{Listing, Repo};
use crate::repo::keys;
use crate::store::{Cursor, Insert, Query, QueryOptions, StoreError};
use serde::{Deserialize, Serialize};

/// A transaction listed under its customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerTransaction {
    pub transaction_key: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RefundAssignment {
    transaction_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProviderCustomer {
    customer_key: String,
}

impl Repo {
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
            consistent: true,
        };
        let page = self.store.query(&query, &options).await?;
        page.records
            .into_iter()
            .map(|r| decode(r).map(|v| v.value))
            .collect()
    }

    /// One page of the customer's transactions, newest first, read consistently; a cursor
    /// another listing handed out is refused.
    pub async fn customer_transactions_page(
        &self,
        program: &str,
        customer_key: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing<CustomerTransaction>, StoreError> {
        let pk = keys::customer(program, customer_key).0;
        let cursor = match cursor {
            None => None,
            Some(text) => match Cursor::decode(text) {
                Some(c)
                    if c.pk == pk
                        && c.index.is_none()
                        && c.sk.starts_with(keys::CUSTOMER_TX_PREFIX) =>
                {
                    Some(c)
                }
                _ => return Err(StoreError::InvalidCursor),
            },
        };
        let query = Query::Partition {
            pk,
            sk_prefix: keys::CUSTOMER_TX_PREFIX.into(),
        };
        let options = QueryOptions {
            limit,
            newest_first: true,
            cursor,
            consistent: true,
        };
        let page = self.store.query(&query, &options).await?;
        let items = page
            .records
            .into_iter()
            .map(|r| decode(r).map(|v| v.value))
            .collect::<Result<_, _>>()?;
        Ok(Listing {
            items,
            next_cursor: page.next.map(|c| c.encode()),
        })
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

    /// Assigns a customer-named refund to a payment unless it went to one already; the
    /// payment it goes to, for every caller alike.
    pub async fn assign_customer_refund(
        &self,
        program: &str,
        customer_key: &str,
        refund: &CustomerRefund,
        transaction_key: &str,
    ) -> Result<String, StoreError> {
        let location = keys::customer_refund_assignment(
            program,
            customer_key,
            &refund.source,
            &refund.refund_id,
        );
        let assignment = RefundAssignment {
            transaction_key: transaction_key.to_string(),
        };
        match self.store.insert(encode_at(&assignment, location)?).await? {
            Insert::Created => Ok(assignment.transaction_key),
            Insert::Exists(record) => Ok(decode::<RefundAssignment>(record)?.value.transaction_key),
        }
    }

    /// The payment a customer-named refund was assigned to, if it was.
    pub async fn customer_refund_assignment(
        &self,
        program: &str,
        customer_key: &str,
        refund: &CustomerRefund,
    ) -> Result<Option<String>, StoreError> {
        let location = keys::customer_refund_assignment(
            program,
            customer_key,
            &refund.source,
            &refund.refund_id,
        );
        Ok(self
            .get_at::<RefundAssignment>(location)
            .await?
            .map(|v| v.value.transaction_key))
    }

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

    /// Keeps a payment in the slot it waits in (`payment.waiting_for`), listed in the
    /// program's parked payments for the sweeper and the API.
    pub async fn park_payment(
        &self,
        program: &str,
        payment: &ParkedPayment,
    ) -> Result<(), StoreError> {
        let location = (
            keys::parked_partition(program, &payment.waiting_for),
            payment.transaction.key.clone(),
        );
        let listed = format!(
            "{:015}#{}#{}",
            payment.received_at, payment.waiting_for, payment.transaction.key
        );
        let record = encode_at(payment, location)?.indexed(keys::parked(program), listed);
        self.store.insert(record).await?;
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
}
