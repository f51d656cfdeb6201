//! Transactions and refunds as the management API takes them (`POST
//! /v1/customers/{key}/transactions`, `POST /v1/transactions/{key}/refunds`): integer amounts in
//! the currency's ISO 4217 minor units, checked here before they become a `NewTransaction` or
//! a `RefundSpec`.

use crate::domain::customer::NewCustomer;
use crate::domain::error::FieldError;
use crate::domain::money::{Currency, MAX_AMOUNT};
use crate::domain::refund::RefundSpec;
use crate::domain::time::Millis;
use crate::domain::transaction::{Amounts, NewTransaction, Product, Transaction};
use crate::domain::validate;
use rust_decimal::Decimal;
use serde::Deserialize;

/// The `source` of transactions the API records.
pub const SOURCE: &str = "api";

/// The body of `POST /v1/customers/{key}/transactions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionInput {
    /// Minor units of `currency` (cents); more than zero.
    pub amount: i64,
    /// ISO 4217; the program's currency when absent.
    #[schema(value_type = Option<String>)]
    pub currency: Option<Currency>,
    /// The transaction's key; the `Idempotency-Key` header when absent.
    pub key: Option<String>,
    pub category_key: Option<String>,
    pub product_key: Option<String>,
    /// RFC 3339; the time of recording when absent.
    pub created_at: Option<String>,
}

/// The body of `POST /v1/transactions/{key}/refunds`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Minor units of the transaction's currency; all that is left when absent.
    pub amount: Option<i64>,
    /// The refund's own id; the `Idempotency-Key` header when absent.
    pub key: Option<String>,
}

/// A positive integer amount in `currency`'s minor units, as an exact decimal within
/// [`MAX_AMOUNT`].
pub fn minor_amount(field: &str, minor: i64, currency: Currency) -> Result<Decimal, FieldError> {
    if minor <= 0 {
        return Err(FieldError::new(
            field,
            "must be a positive integer of minor units (cents); refunds have their own route",
        ));
    }
    let amount = currency.from_minor(minor);
    if amount > MAX_AMOUNT {
        return Err(FieldError::new(
            field,
            format!(
                "is too large: the most Partnerhook takes is 10^12 {currency} ({} minor units)",
                currency.to_minor(MAX_AMOUNT).unwrap_or(i64::MAX)
            ),
        ));
    }
    Ok(amount)
}

/// An RFC 3339 time as epoch milliseconds, from 1970 on.
pub fn rfc3339(field: &str, text: &str) -> Result<Millis, FieldError> {
    let refused = || {
        FieldError::new(
            field,
            "must be an RFC 3339 time such as 2026-05-21T10:00:00Z",
        )
    };
    let time =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| refused())?;
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .filter(|ms| *ms >= 0)
        .ok_or_else(refused)
}

/// The key of a transaction or refund: the body's `key`, else the `Idempotency-Key` header,
/// each checked like every key (the header only when it is used).
pub fn chosen_key(
    own: Option<String>,
    header: Option<String>,
) -> Result<Option<String>, FieldError> {
    match validate::optional_key("key", own)? {
        Some(key) => Ok(Some(key)),
        None => header
            .map(|h| validate::key(IDEMPOTENCY_KEY, &h))
            .transpose(),
    }
}

/// The header a key falls back to, as errors name it.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl TransactionInput {
    /// The key the body gives, else `header` (the `Idempotency-Key`), checked; `None` when
    /// neither gives one.
    pub fn key_or(&self, header: Option<String>) -> Result<Option<String>, FieldError> {
        chosen_key(self.key.clone(), header)
    }

    /// The transaction of customer `customer_key`, recorded under `key`, attributed through
    /// the customer's partner.
    pub fn into_new(
        self,
        customer_key: &str,
        key: String,
        program_currency: Currency,
    ) -> Result<NewTransaction, FieldError> {
        let currency = self.currency.unwrap_or(program_currency);
        let gross = minor_amount("amount", self.amount, currency)?;
        let transaction_date = self
            .created_at
            .as_deref()
            .map(|text| rfc3339("created_at", text))
            .transpose()?;
        let customer = NewCustomer {
            key: customer_key.to_string(),
            email: None,
            name: None,
        };
        Ok(NewTransaction {
            customer: Some(customer),
            product: Product {
                id: validate::optional_key("product_key", self.product_key)?,
                name: None,
                category: validate::optional_key("category_key", self.category_key)?,
            },
            transaction_date,
            ..NewTransaction::provider_payment(SOURCE, key, Amounts::new(currency, gross))
        })
    }
}

impl RefundInput {
    /// The refund of `tx` this asks for. A partial one needs an id (`key`, else `fallback_key`,
    /// the `Idempotency-Key` header), so that a retry is not counted twice; a full one is
    /// idempotent by itself.
    pub fn spec(
        &self,
        tx: &Transaction,
        fallback_key: Option<String>,
    ) -> Result<RefundSpec, FieldError> {
        let Some(minor) = self.amount else {
            // Checked all the same: a bad key is refused whatever the amount.
            validate::optional_key("key", self.key.clone())?;
            return Ok(RefundSpec::Full);
        };
        let amount = minor_amount("amount", minor, tx.amounts.currency)?;
        let id = chosen_key(self.key.clone(), fallback_key)?;
        let id = id.ok_or_else(|| {
            FieldError::new(
                "key",
                "a partial refund needs a key (or an Idempotency-Key header), so that a retry \
                 is not counted twice",
            )
        })?;
        Ok(RefundSpec::Part {
            id,
            amount: amount.into(),
        })
    }
}

/// Refuses a refund of more than is left of `tx`; the repeat of one applied before passes.
pub fn check_refund(spec: &RefundSpec, tx: &Transaction) -> Result<(), FieldError> {
    let RefundSpec::Part { id, amount } = spec else {
        return Ok(());
    };
    if tx.refund_ids.contains(id) {
        return Ok(());
    }
    let currency = tx.amounts.currency;
    let left = tx
        .amounts
        .gross
        .checked_sub(tx.amounts.refunded)
        .unwrap_or(Decimal::ZERO)
        .max(Decimal::ZERO);
    match amount.in_currency(currency) {
        Some(asked) if asked <= left => Ok(()),
        _ => Err(FieldError::new(
            "amount",
            format!(
                "is more than is left to refund: {} minor units of {currency}",
                currency.to_minor(left).unwrap_or(0)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::transaction::TransactionStatus;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn input(body: serde_json::Value) -> TransactionInput {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn amounts_are_positive_minor_units_within_the_bound() {
        assert_eq!(
            minor_amount("amount", 4900, usd()).unwrap().to_string(),
            "49.00"
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            minor_amount("amount", 4900, jpy).unwrap().to_string(),
            "4900"
        );
        for bad in [0, -1, i64::MIN] {
            assert_eq!(
                minor_amount("amount", bad, usd()).unwrap_err().field,
                "amount"
            );
        }
        assert!(minor_amount("amount", 100_000_000_000_000, usd()).is_ok());
        assert!(minor_amount("amount", 100_000_000_000_001, usd()).is_err());
        assert!(minor_amount("amount", i64::MAX, jpy).is_err());
    }

    #[test]
    fn a_body_becomes_a_payment_attributed_through_its_customer() {
        let body = serde_json::json!({"amount": 4900, "currency": "usd", "key": " inv_123 ",
            "category_key": "monthly", "product_key": "basic_plan",
            "created_at": "2026-05-21T10:00:00Z"});
        let given = input(body);
        let key = given.key_or(Some("header".into())).unwrap().unwrap();
        assert_eq!(key, "inv_123");
        let eur = Currency::parse("EUR").unwrap();
        let new = given.into_new("cus_1", key, eur).unwrap();
        assert_eq!(new.source, "api");
        assert!(new.by_customer);
        assert_eq!(new.customer.unwrap().key, "cus_1");
        assert_eq!(new.amounts.currency, usd());
        assert_eq!(new.amounts.gross.to_string(), "49.00");
        assert_eq!(new.product.id.as_deref(), Some("basic_plan"));
        assert_eq!(new.product.category.as_deref(), Some("monthly"));
        assert_eq!(new.transaction_date, Some(1_779_357_600_000));
        let plain = input(serde_json::json!({"amount": 1}))
            .into_new("c", "k".into(), eur)
            .unwrap();
        assert_eq!(
            (plain.amounts.currency, plain.transaction_date),
            (eur, None)
        );
        let late = input(serde_json::json!({"amount": 1, "created_at": "yesterday"}));
        assert_eq!(
            late.into_new("c", "k".into(), eur).unwrap_err().field,
            "created_at"
        );
    }

    #[test]
    fn bodies_of_the_wrong_shape_do_not_read() {
        for body in [
            serde_json::json!({"amount": 49.5}),
            serde_json::json!({"amount": "4900"}),
            serde_json::json!({}),
            serde_json::json!({"amount": 1, "currency": "XYZ"}),
            serde_json::json!({"amount": 1, "extra": true}),
        ] {
            assert!(serde_json::from_value::<TransactionInput>(body).is_err());
        }
    }

    fn recorded(gross_cents: i64) -> Transaction {
        let new = input(serde_json::json!({"amount": gross_cents}))
            .into_new("c", "t".into(), usd())
            .unwrap();
        Transaction::recorded(new, 1)
    }

    #[test]
    fn partial_refunds_need_a_key_and_fit_what_is_left() {
        let mut tx = recorded(4900);
        let full = RefundInput::default();
        assert_eq!(full.spec(&tx, None).unwrap(), RefundSpec::Full);
        let part = RefundInput {
            amount: Some(1000),
            key: None,
        };
        assert_eq!(part.spec(&tx, None).unwrap_err().field, "key");
        let spec = part.spec(&tx, Some("r1".into())).unwrap();
        assert!(check_refund(&spec, &tx).is_ok());
        assert!(spec.apply(&mut tx, 2));
        assert!(check_refund(&spec, &tx).is_ok(), "a repeat passes");
        let rest = RefundInput {
            amount: Some(3901),
            key: Some("r2".into()),
        };
        let too_much = rest.spec(&tx, None).unwrap();
        assert_eq!(check_refund(&too_much, &tx).unwrap_err().field, "amount");
        let exact = RefundInput {
            amount: Some(3900),
            key: Some("r2".into()),
        };
        let spec = exact.spec(&tx, None).unwrap();
        assert!(check_refund(&spec, &tx).is_ok());
        assert!(spec.apply(&mut tx, 3));
        assert_eq!(tx.status, TransactionStatus::Refunded);
        let zero = RefundInput {
            amount: Some(0),
            key: Some("r3".into()),
        };
        assert_eq!(zero.spec(&tx, None).unwrap_err().field, "amount");
    }
}
