//! Incoming webhooks: the record behind a pair of URLs (`/hooks/{id}/{token}[/test]`; the
//! token is the credential), its samples with their field paths, and the mapping from source
//! paths to an action's fields.
//!
//! Field paths are dotted: `customer.email`, `order.details.total`; array elements by index,
//! `items.0.price`.

use crate::crypto::token::random_token;
use crate::domain::error::FieldError;
use crate::domain::excerpt::cut_json;
use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Samples kept per webhook, newest first, and for how long.
pub const MAX_SAMPLES: usize = 5;
pub const SAMPLE_MAX_AGE_MS: Millis = 30 * 24 * 3600 * 1000;
/// Samples larger than this keep their field paths but not their body.
pub const MAX_SAMPLE_BODY_BYTES: usize = 16 * 1024;
/// Field paths listed per sample, at most.
pub const MAX_PATHS: usize = 500;
/// Paths longer than this are not listed (no mapping names such a path).
pub const MAX_PATH_BYTES: usize = 256;
/// A text example is cut to this many bytes as stored.
pub const MAX_EXAMPLE_BYTES: usize = 200;
/// Bytes the samples of a webhook take together as stored (JSON): past it the oldest go, and a
/// newest sample larger on its own drops its body, then its last paths. The record stays far
/// under DynamoDB's 400 KB item limit however large the payloads.
pub const MAX_SAMPLES_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingWebhook {
    pub id: String,
    pub program: String,
    pub name: String,
    /// The URL credential, at least 128 random bits; rotating it retires the old URLs.
    pub token: String,
    pub mapping: Option<Mapping>,
    pub samples: Vec<Sample>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub received_at: Millis,
    pub body: Option<Value>,
    pub paths: Vec<FieldPath>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldPath {
    pub path: String,
    pub example: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    CreatePartner,
    CreateCustomer,
    CreateTransaction,
    RefundTransaction,
}

impl Action {
    /// The fields an action takes, in the seed's order.
    pub fn targets(self) -> &'static [&'static str] {
        match self {
            Self::CreatePartner => &[
                "email",
                "name",
                "partner_id",
                "partner_key",
                "referring_partner_key",
            ],
            Self::CreateCustomer => &[
                "email",
                "name",
                "customer_key",
                "partner_key",
                "partner_id",
                "partner_email",
                "referring_customer_key",
                "referring_customer_email",
                "referring_customer_id",
            ],
            Self::CreateTransaction => &[
                "amount",
                "customer_key",
                "transaction_key",
                "product_id",
                "product_type",
                "currency",
                "customer_email",
                "customer_name",
                "partner_key",
            ],
            Self::RefundTransaction => &["transaction_key", "amount"],
        }
    }

    pub fn required(self) -> &'static [&'static str] {
        match self {
            Self::CreatePartner | Self::CreateCustomer => &["email", "name"],
            Self::CreateTransaction => &["amount"],
            Self::RefundTransaction => &["transaction_key"],
        }
    }
}

/// Which source path feeds which of the action's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub action: Action,
    pub fields: BTreeMap<String, String>,
}

impl Mapping {
    /// Checks targets and required fields; returns warnings for paths no sample contains.
    pub fn validate(&self, samples: &[Sample]) -> Result<Vec<String>, FieldError> {
        let targets = self.action.targets();
        for (target, path) in &self.fields {
            if !targets.contains(&target.as_str()) {
                return Err(FieldError::new(
                    format!("fields.{target}"),
                    format!(
                        "is not a field of {:?}; it takes {}",
                        self.action,
                        targets.join(", ")
                    ),
                ));
            }
            if path.trim().is_empty() || path.len() > 300 {
                return Err(FieldError::new(
                    format!("fields.{target}"),
                    "must be a dotted path such as order.total",
                ));
            }
        }
        for required in self.action.required() {
            if !self.fields.contains_key(*required) {
                return Err(FieldError::new(
                    format!("fields.{required}"),
                    "is required for this action",
                ));
            }
        }
        if self.action == Action::CreateTransaction
            && !self.fields.contains_key("customer_key")
            && !self.fields.contains_key("customer_email")
        {
            return Err(FieldError::new(
                "fields.customer_key",
                "map customer_key, or customer_email to find or create the customer",
            ));
        }
        let warnings = self
            .fields
            .iter()
            .filter(|(_, path)| {
                !samples
                    .iter()
                    .any(|s| s.paths.iter().any(|p| &p.path == *path))
            })
            .map(|(target, path)| format!("no sample contains {path} (mapped to {target})"))
            .collect();
        Ok(warnings)
    }
}

impl IncomingWebhook {
    pub fn new(program: &str, name: &str, now: Millis) -> Self {
        Self {
            id: random_token("hook_", 8),
            program: program.to_string(),
            name: name.to_string(),
            token: new_token(),
            mapping: None,
            samples: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Keeps a sample first in line, dropping the expired and the oldest beyond the bounds of
    /// number and bytes.
    pub fn keep_sample(&mut self, mut sample: Sample) {
        // The list's brackets take two bytes, each sample one more for its comma.
        sample.fit(MAX_SAMPLES_BYTES - 2);
        let oldest = sample.received_at - SAMPLE_MAX_AGE_MS;
        self.samples.insert(0, sample);
        self.samples.retain(|s| s.received_at >= oldest);
        self.samples.truncate(MAX_SAMPLES);
        let mut total = 1;
        let fitting = self
            .samples
            .iter()
            .take_while(|s| {
                total += stored_size(s) + 1;
                total <= MAX_SAMPLES_BYTES
            })
            .count();
        self.samples.truncate(fitting.max(1));
    }

    /// Every path the samples show, with the newest example of each.
    pub fn field_paths(&self) -> Vec<FieldPath> {
        let mut seen = BTreeMap::new();
        for sample in self.samples.iter().rev() {
            for p in &sample.paths {
                seen.insert(p.path.clone(), p.example.clone());
            }
        }
        seen.into_iter()
            .map(|(path, example)| FieldPath { path, example })
            .collect()
    }
}

impl Sample {
    /// Drops the body, then the last paths, until the sample takes at most `budget` bytes.
    fn fit(&mut self, budget: usize) {
        if stored_size(self) <= budget {
            return;
        }
        self.body = None;
        let paths = std::mem::take(&mut self.paths);
        let mut used = stored_size(self);
        let kept = paths
            .iter()
            .take_while(|p| {
                used += stored_size(p) + 1;
                used <= budget
            })
            .count();
        self.paths = paths;
        self.paths.truncate(kept);
    }
}

/// Bytes a value takes as stored JSON text.
fn stored_size(value: &impl Serialize) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |json| json.len())
}

/// An example as listed: a long text cut.
fn example_of(leaf: &Value) -> Value {
    match leaf {
        Value::String(text) => Value::String(cut_json(text, MAX_EXAMPLE_BYTES).0.to_string()),
        other => other.clone(),
    }
}

pub fn new_token() -> String {
    random_token("", 32)
}

/// Whether a token matches the webhook's, compared in constant time.
pub fn token_matches(hook: &IncomingWebhook, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let (a, b) = (
        Sha256::digest(hook.token.as_bytes()),
        Sha256::digest(token.as_bytes()),
    );
    bool::from(a.ct_eq(&b))
}

/// The leaves of a JSON document with their dotted paths.
pub fn field_paths(value: &Value) -> Vec<FieldPath> {
    fn walk(value: &Value, prefix: &str, depth: usize, out: &mut Vec<FieldPath>) {
        if out.len() >= MAX_PATHS || depth > 16 {
            return;
        }
        let join = |segment: &str| {
            if prefix.is_empty() {
                segment.to_string()
            } else {
                format!("{prefix}.{segment}")
            }
        };
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, &join(k), depth + 1, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &join(&i.to_string()), depth + 1, out);
                }
            }
            leaf if !prefix.is_empty() && prefix.len() <= MAX_PATH_BYTES => out.push(FieldPath {
                path: prefix.to_string(),
                example: example_of(leaf),
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", 0, &mut out);
    out
}

/// The value at a dotted path; array elements by index.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(value, |current, segment| match current {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SEED: &str = r#"{"event":"order_completed","customer":{"email":"buyer@partnero.com","name":"Jane Smith"},"order":{"id":"ORD-789","amount":149.99,"product":"pro_plan"},"referral_code":"PARTNER123"}"#;

    #[test]
    fn paths_are_dotted_with_array_indexes() {
        let value = json!({"customer": {"email": "a@b.c"}, "items": [{"price": 5}], "n": null});
        let paths: Vec<_> = field_paths(&value)
            .into_iter()
            .map(|p| (p.path, p.example))
            .collect();
        assert_eq!(
            paths,
            [
                ("customer.email".to_string(), json!("a@b.c")),
                ("items.0.price".to_string(), json!(5)),
                ("n".to_string(), Value::Null),
            ]
        );
        assert_eq!(lookup(&value, "items.0.price"), Some(&json!(5)));
        assert_eq!(lookup(&value, "items.1.price"), None);
        assert_eq!(lookup(&value, "customer.email.x"), None);
    }

    fn json_documents() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::from),
            "[a-z0-9 ]{0,8}".prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{1,6}", inner, 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn every_listed_path_finds_its_example(doc in json_documents()) {
            for p in field_paths(&doc) {
                proptest::prop_assert_eq!(lookup(&doc, &p.path), Some(&p.example));
            }
        }
    }

    #[test]
    fn the_seed_mapping_validates_and_unknown_targets_do_not() {
        let value: Value = serde_json::from_str(SEED).unwrap();
        let samples = vec![Sample {
            received_at: 0,
            body: None,
            paths: field_paths(&value),
        }];
        let fields: BTreeMap<String, String> = [
            ("customer_email", "customer.email"),
            ("customer_name", "customer.name"),
            ("transaction_key", "order.id"),
            ("amount", "order.amount"),
            ("product_id", "order.product"),
            ("partner_key", "referral_code"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let mapping = Mapping {
            action: Action::CreateTransaction,
            fields: fields.clone(),
        };
        assert_eq!(mapping.validate(&samples).unwrap(), Vec::<String>::new());

        let mut typo = fields.clone();
        typo.insert("amount".into(), "order.total".into());
        let warnings = Mapping {
            action: Action::CreateTransaction,
            fields: typo,
        }
        .validate(&samples)
        .unwrap();
        assert_eq!(
            warnings,
            ["no sample contains order.total (mapped to amount)"]
        );

        let mut unknown = fields.clone();
        unknown.insert("coupon".into(), "x".into());
        assert!(Mapping {
            action: Action::CreateTransaction,
            fields: unknown
        }
        .validate(&samples)
        .is_err());
        let mut missing = fields;
        missing.remove("amount");
        assert!(Mapping {
            action: Action::CreateTransaction,
            fields: missing
        }
        .validate(&samples)
        .is_err());
        let partner = Mapping {
            action: Action::CreatePartner,
            fields: BTreeMap::from([("email".to_string(), "e".to_string())]),
        };
        assert!(partner.validate(&samples).is_err(), "name is required");
    }

    #[test]
    fn samples_are_bounded_in_number_and_age() {
        let mut hook = IncomingWebhook::new("acme", "Shop", 0);
        for i in 0..8 {
            hook.keep_sample(Sample {
                received_at: SAMPLE_MAX_AGE_MS + i,
                body: None,
                paths: vec![],
            });
        }
        assert_eq!(hook.samples.len(), MAX_SAMPLES);
        assert_eq!(hook.samples[0].received_at, SAMPLE_MAX_AGE_MS + 7);
        hook.keep_sample(Sample {
            received_at: 3 * SAMPLE_MAX_AGE_MS,
            body: None,
            paths: vec![],
        });
        assert_eq!(
            hook.samples.len(),
            1,
            "samples older than the age bound are dropped"
        );
    }

    #[test]
    fn samples_are_bounded_in_bytes_however_large_the_payloads() {
        let mut hook = IncomingWebhook::new("acme", "Shop", 0);
        let mut payload = serde_json::Map::new();
        payload.insert("note".into(), Value::String("x".repeat(300_000)));
        payload.insert(format!("k{}", "y".repeat(300)), Value::from(1));
        for i in 0..600 {
            payload.insert(format!("field_{i:03}"), Value::String("z".repeat(1_000)));
        }
        let payload = Value::Object(payload);
        for at in 0..MAX_SAMPLES as i64 {
            hook.keep_sample(Sample {
                received_at: at,
                body: Some(payload.clone()),
                paths: field_paths(&payload),
            });
        }
        let stored = stored_size(&hook.samples);
        assert!(stored <= MAX_SAMPLES_BYTES, "{stored} bytes");
        let newest = &hook.samples[0];
        assert_eq!(newest.received_at, MAX_SAMPLES as i64 - 1);
        assert_eq!(newest.body, None, "too large to keep whole");
        assert!(newest.paths.len() > 100, "{} paths", newest.paths.len());
        assert!(newest
            .paths
            .iter()
            .all(|p| p.path.len() <= MAX_PATH_BYTES
                && stored_size(&p.example) <= MAX_EXAMPLE_BYTES + 2));

        // Small samples are all kept, bodies and all.
        let mut small = IncomingWebhook::new("acme", "Shop", 0);
        let body = serde_json::json!({"order": {"total": 10}});
        for at in 0..MAX_SAMPLES as i64 {
            small.keep_sample(Sample {
                received_at: at,
                body: Some(body.clone()),
                paths: field_paths(&body),
            });
        }
        assert_eq!(small.samples.len(), MAX_SAMPLES);
        assert!(small.samples.iter().all(|s| s.body.is_some()));
    }

    #[test]
    fn tokens_are_long_and_compared_exactly() {
        let hook = IncomingWebhook::new("acme", "Shop", 0);
        assert!(hook.token.len() >= 32, "at least 128 bits in hex");
        assert!(token_matches(&hook, &hook.token.clone()));
        assert!(!token_matches(&hook, "guess"));
    }
}
