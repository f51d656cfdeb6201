//! The mapped values of one payload: each of an action's fields read from its source path,
//! converted, with errors that name that path.

use crate::domain::hook::lookup;
use crate::domain::money::{parse_decimal, Currency};
use crate::error::AppError;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;

/// The mapped values of one payload, converted with errors that name the source path.
pub struct Mapped<'a> {
    pub fields: &'a BTreeMap<String, String>,
    pub body: &'a Value,
}

impl Mapped<'_> {
    /// The source path mapped to a target, for errors; the target itself when unmapped.
    pub fn path_of<'t>(&'t self, target: &'t str) -> &'t str {
        self.fields
            .get(target)
            .map(String::as_str)
            .unwrap_or(target)
    }

    fn value(&self, target: &str) -> Option<(&str, &Value)> {
        let path = self.fields.get(target)?;
        lookup(self.body, path)
            .filter(|v| !v.is_null())
            .map(|v| (path.as_str(), v))
    }

    /// A mapped field as text; `None` when it is not mapped or the payload lacks it.
    pub fn text(&self, target: &str) -> Result<Option<String>, AppError> {
        let Some((path, value)) = self.value(target) else {
            return Ok(None);
        };
        let text = match value {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(AppError::invalid(
                    path,
                    format!("must be a text or number value for {target}"),
                ))
            }
        };
        Ok((!text.is_empty()).then_some(text))
    }

    /// A required field: a payload that lacks it is refused, naming the path.
    pub fn required(&self, target: &str) -> Result<String, AppError> {
        let path = self.path_of(target);
        self.text(target)?.ok_or_else(|| {
            AppError::invalid(
                path,
                format!("is missing from the payload (mapped to {target})"),
            )
        })
    }

    /// A decimal amount held to `currency`'s minor unit; a finer one is refused.
    pub fn amount(&self, target: &str, currency: Currency) -> Result<Option<Decimal>, AppError> {
        self.amount_in(target, Some(currency))
    }

    /// A decimal amount in `currency`, or as written when the currency is not known yet.
    pub fn amount_in(
        &self,
        target: &str,
        currency: Option<Currency>,
    ) -> Result<Option<Decimal>, AppError> {
        let path = self.path_of(target);
        self.text(target)?
            .map(|text| {
                match currency {
                    Some(currency) => currency.parse_amount(&text),
                    None => parse_decimal(&text),
                }
                .map_err(|e| AppError::invalid(path, e.to_string()))
            })
            .transpose()
    }
}
