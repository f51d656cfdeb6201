//! Incoming webhooks: a program admin creates one and gets a test URL and a production URL
//! (`/hooks/{id}/{token}[/test]`; the token is the credential). Samples sent to the test URL are
//! kept with their field paths and create nothing; the admin maps paths to an action's fields;
//! the production URL applies the mapping.
//!
//! Field paths are dotted: `customer.email`, `order.details.total`; array elements by index,
//! `items.0.price`. Form-encoded bodies (`customer[email]=...`) map to the same paths.

use crate::app::App;
use crate::customers::{self, CustomerInput};
use crate::domain::{now_millis, Millis, Product, Program};
use crate::error::AppError;
use crate::http::parse_json;
use crate::ledger::{
    record_refund, record_transaction, NewCustomer, NewTransaction, Outcome, RefundSpec,
};
use crate::money::Currency;
use crate::partners::{self, PartnerInput, PartnerRef};
use crate::token::random_token;
use crate::webhook::{require_media_type, Accepted};
use axum::http::HeaderMap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Samples kept per webhook, newest first, and for how long.
pub const MAX_SAMPLES: usize = 5;
pub const SAMPLE_MAX_AGE_MS: Millis = 30 * 24 * 3600 * 1000;
/// Samples larger than this keep their field paths but not their body.
pub const MAX_SAMPLE_BODY_BYTES: usize = 16 * 1024;
/// Field paths listed per sample, at most.
pub const MAX_PATHS: usize = 500;

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

    fn required(self) -> &'static [&'static str] {
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
    pub fn validate(&self, samples: &[Sample]) -> Result<Vec<String>, AppError> {
        let targets = self.action.targets();
        for (target, path) in &self.fields {
            if !targets.contains(&target.as_str()) {
                return Err(AppError::invalid(
                    format!("fields.{target}"),
                    format!(
                        "is not a field of {:?}; it takes {}",
                        self.action,
                        targets.join(", ")
                    ),
                ));
            }
            if path.trim().is_empty() || path.len() > 300 {
                return Err(AppError::invalid(
                    format!("fields.{target}"),
                    "must be a dotted path such as order.total",
                ));
            }
        }
        for required in self.action.required() {
            if !self.fields.contains_key(*required) {
                return Err(AppError::invalid(
                    format!("fields.{required}"),
                    "is required for this action",
                ));
            }
        }
        if self.action == Action::CreateTransaction
            && !self.fields.contains_key("customer_key")
            && !self.fields.contains_key("customer_email")
        {
            return Err(AppError::invalid(
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
    pub fn new(program: &str, name: &str) -> Self {
        let now = now_millis();
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

    /// Keeps a sample first in line, dropping the oldest beyond the bound and the expired.
    pub fn keep_sample(&mut self, sample: Sample) {
        let oldest = sample.received_at - SAMPLE_MAX_AGE_MS;
        self.samples.insert(0, sample);
        self.samples.retain(|s| s.received_at >= oldest);
        self.samples.truncate(MAX_SAMPLES);
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
            leaf if !prefix.is_empty() => out.push(FieldPath {
                path: prefix.to_string(),
                example: leaf.clone(),
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

/// A form body as JSON: `customer[email]=a` becomes `{"customer": {"email": "a"}}`, so form
/// fields take the same dotted paths (`customer.email`, `items.0.price`).
pub fn form_to_json(body: &[u8]) -> Result<Value, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::MalformedBody(format!("not a form-encoded body: {e}")))?;
    let mut root = Map::new();
    'pairs: for (key, value) in pairs {
        let segments: Vec<&str> = key.split(['[', ']']).filter(|s| !s.is_empty()).collect();
        let Some((last, parents)) = segments.split_last() else {
            continue;
        };
        let mut node = &mut root;
        for parent in parents {
            let entry = node
                .entry(parent.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            // A key used both as a value and as a parent: the nested form wins.
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(map) = entry else {
                continue 'pairs;
            };
            node = map;
        }
        node.insert(last.to_string(), Value::String(value));
    }
    Ok(Value::Object(root))
}

/// The body as JSON, whether it was sent as JSON or as a form.
pub fn read_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, AppError> {
    match require_media_type(
        headers,
        &["application/json", "application/x-www-form-urlencoded"],
    )?
    .as_str()
    {
        "application/json" => parse_json(body),
        _ => form_to_json(body),
    }
}

/// Test URL: keeps the sample (the caller stores it) and creates nothing.
pub fn sample(headers: &HeaderMap, body: &[u8]) -> Result<Sample, AppError> {
    let value = read_body(headers, body)?;
    Ok(Sample {
        received_at: now_millis(),
        paths: field_paths(&value),
        body: (body.len() <= MAX_SAMPLE_BODY_BYTES).then_some(value),
    })
}

/// The mapped values of one payload, converted with errors that name the source path.
struct Mapped<'a> {
    fields: &'a BTreeMap<String, String>,
    body: &'a Value,
}

impl Mapped<'_> {
    fn value(&self, target: &str) -> Option<(&str, &Value)> {
        let path = self.fields.get(target)?;
        lookup(self.body, path)
            .filter(|v| !v.is_null())
            .map(|v| (path.as_str(), v))
    }

    /// A mapped field as text; `None` when it is not mapped or the payload lacks it.
    fn text(&self, target: &str) -> Result<Option<String>, AppError> {
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
    fn required(&self, target: &str) -> Result<String, AppError> {
        let path = self
            .fields
            .get(target)
            .map(String::as_str)
            .unwrap_or(target);
        self.text(target)?.ok_or_else(|| {
            AppError::invalid(
                path,
                format!("is missing from the payload (mapped to {target})"),
            )
        })
    }

    fn amount(&self, target: &str, currency: Currency) -> Result<Option<Decimal>, AppError> {
        let path = self
            .fields
            .get(target)
            .map(String::as_str)
            .unwrap_or(target);
        self.text(target)?
            .map(|text| {
                currency
                    .parse_amount(&text)
                    .map_err(|e| AppError::invalid(path, e.to_string()))
            })
            .transpose()
    }
}

fn digest_key(prefix: &str, hook: &IncomingWebhook, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(hook.id.as_bytes());
    hasher.update(body);
    format!("{prefix}{}", &hex::encode(hasher.finalize())[..32])
}

/// Production URL: applies the mapping to the payload.
pub async fn apply(
    app: &App,
    program: &Program,
    hook: &IncomingWebhook,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, AppError> {
    let mapping = hook.mapping.as_ref().ok_or_else(|| {
        AppError::Conflict(format!(
            "incoming webhook {} has no mapping yet: send samples to its test URL, then PUT /v1/incoming-webhooks/{}/mapping",
            hook.id, hook.id
        ))
    })?;
    let value = read_body(headers, body)?;
    let mapped = Mapped {
        fields: &mapping.fields,
        body: &value,
    };
    for required in mapping.action.required() {
        mapped.required(required)?;
    }
    let slug = program.slug.as_str();
    let (outcome, key) = match mapping.action {
        Action::CreatePartner => {
            let input = PartnerInput {
                email: mapped.required("email")?,
                name: mapped.required("name")?,
                key: mapped.text("partner_key")?,
                id: mapped.text("partner_id")?,
                referring_partner_key: mapped.text("referring_partner_key")?,
            };
            let (partner, created) = partners::create(app, program, input).await?;
            (
                if created {
                    Outcome::Created
                } else {
                    Outcome::Skipped
                },
                partner.key,
            )
        }
        Action::CreateCustomer => {
            let partner_key = partner_named(app, slug, &mapped).await?;
            let referring_customer_key = customer_named(app, slug, &mapped).await?;
            let input = CustomerInput {
                email: mapped.required("email")?,
                name: mapped.required("name")?,
                key: mapped.text("customer_key")?,
                partner_key,
                referring_customer_key,
            };
            let (customer, created) = customers::create(app, program, input).await?;
            (
                if created {
                    Outcome::Created
                } else {
                    Outcome::Skipped
                },
                customer.key,
            )
        }
        Action::CreateTransaction => create_transaction(app, program, hook, &mapped, body).await?,
        Action::RefundTransaction => {
            let key = mapped.required("transaction_key")?;
            let refund = match mapped.amount("amount", program.currency)? {
                Some(amount) => RefundSpec::Part {
                    id: digest_key("inc_", hook, body),
                    amount,
                },
                None => RefundSpec::Full,
            };
            (record_refund(app, slug, &key, refund).await?, key)
        }
    };
    Ok(Accepted {
        outcome,
        transaction_key: Some(key),
        reason: None,
        details: None,
    })
}

/// The partner a customer mapping names by key, id or email; an unknown one is refused.
async fn partner_named(
    app: &App,
    program: &str,
    mapped: &Mapped<'_>,
) -> Result<Option<String>, AppError> {
    for target in ["partner_key", "partner_id", "partner_email"] {
        let Some(text) = mapped.text(target)? else {
            continue;
        };
        let reference = match target {
            "partner_key" => PartnerRef::Key(&text),
            "partner_id" => PartnerRef::Id(&text),
            _ => PartnerRef::Email(&text),
        };
        return match partners::find(app, program, reference).await? {
            Some(partner) => Ok(Some(partner.key)),
            None => Err(AppError::invalid(
                mapped
                    .fields
                    .get(target)
                    .map(String::as_str)
                    .unwrap_or(target),
                format!("no partner matches {text:?} ({target})"),
            )),
        };
    }
    Ok(None)
}

/// Refer-a-friend: the referring customer by key, id (its key) or email.
async fn customer_named(
    app: &App,
    program: &str,
    mapped: &Mapped<'_>,
) -> Result<Option<String>, AppError> {
    for target in [
        "referring_customer_key",
        "referring_customer_id",
        "referring_customer_email",
    ] {
        let Some(text) = mapped.text(target)? else {
            continue;
        };
        let found = if target == "referring_customer_email" {
            customers::find_by_email(app, program, &text)
                .await?
                .map(|c| c.key)
        } else {
            app.repo.get_customer(program, &text).await?.map(|c| c.key)
        };
        return found.map(Some).ok_or_else(|| {
            AppError::invalid(
                mapped
                    .fields
                    .get(target)
                    .map(String::as_str)
                    .unwrap_or(target),
                format!("no customer matches {text:?} ({target})"),
            )
        });
    }
    Ok(None)
}

/// The seed's complete flow: find or create the customer, link it to the partner, record the
/// transaction (its commission follows through the queue).
async fn create_transaction(
    app: &App,
    program: &Program,
    hook: &IncomingWebhook,
    mapped: &Mapped<'_>,
    body: &[u8],
) -> Result<(Outcome, String), AppError> {
    let slug = program.slug.as_str();
    let currency = match mapped.text("currency")? {
        Some(code) => Currency::parse(&code).map_err(|e| {
            AppError::invalid(
                mapped
                    .fields
                    .get("currency")
                    .map(String::as_str)
                    .unwrap_or("currency"),
                e.to_string(),
            )
        })?,
        None => program.currency,
    };
    let amount = mapped
        .amount("amount", currency)?
        .ok_or_else(|| AppError::invalid("amount", "is required"))?;
    let email = mapped.text("customer_email")?;
    let name = mapped.text("customer_name")?;
    let partner_key = mapped.text("partner_key")?;
    let partner = match &partner_key {
        Some(key) => partners::find(app, slug, PartnerRef::Key(key)).await?,
        None => None,
    };
    let mut customer_key = mapped.text("customer_key")?;
    if customer_key.is_none() {
        if let Some(email) = &email {
            customer_key = customers::find_by_email(app, slug, email)
                .await?
                .map(|c| c.key);
        }
    }
    let existing = match &customer_key {
        Some(key) => app.repo.get_customer(slug, key).await?,
        None => None,
    };
    let customer_key = match existing {
        Some(customer) => {
            if let Some(partner) = &partner {
                customers::adopt(app, slug, &customer.key, &partner.key).await?;
            }
            customer.key
        }
        None => match &email {
            Some(email) => {
                let input = CustomerInput {
                    email: email.clone(),
                    name: name.clone().unwrap_or_else(|| email.clone()),
                    key: customer_key.clone(),
                    partner_key: partner.as_ref().map(|p| p.key.clone()),
                    referring_customer_key: None,
                };
                customers::create(app, program, input).await?.0.key
            }
            None => customer_key.ok_or_else(|| AppError::invalid("customer_key", "is required"))?,
        },
    };
    let key = match mapped.text("transaction_key")? {
        Some(key) => key,
        // Without a key of the sender's, the same payload sent again must still dedupe.
        None => digest_key("inc_", hook, body),
    };
    let transaction = NewTransaction {
        key: key.clone(),
        source: "incoming".into(),
        customer: Some(NewCustomer {
            key: customer_key,
            email,
            name,
        }),
        // A partner the payload names but the program lacks leaves the sale unassigned.
        partner_ref: partner_key.filter(|_| partner.is_none()),
        by_customer: true,
        amounts: crate::domain::Amounts::new(currency, amount),
        product: Product {
            id: mapped.text("product_id")?,
            name: None,
            category: mapped.text("product_type")?,
        },
        campaign_slug: None,
        is_recurring: false,
        recurring_number: None,
        transaction_date: None,
    };
    crate::domain::validate_key(&transaction.key).map_err(|m| {
        AppError::invalid(
            mapped
                .fields
                .get("transaction_key")
                .map(String::as_str)
                .unwrap_or("transaction_key"),
            m,
        )
    })?;
    Ok((record_transaction(app, program, transaction).await?, key))
}

/// How the API shows a webhook: absolute URLs from `base`, samples and their paths.
pub fn view(hook: &IncomingWebhook, base: &str) -> Value {
    serde_json::json!({
        "id": hook.id,
        "name": hook.name,
        "test_url": format!("{base}/hooks/{}/{}/test", hook.id, hook.token),
        "production_url": format!("{base}/hooks/{}/{}", hook.id, hook.token),
        "mapping": hook.mapping,
        "field_paths": hook.field_paths(),
        "samples": hook.samples,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
    })
}

/// `POST /hooks/{id}/{token}[/test]`: finds the webhook by id and token, then runs the shared
/// ingest path with the test step (keep a sample) or the production step (apply the mapping).
pub async fn receive(
    app: &App,
    id: &str,
    token: &str,
    test: bool,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let started = std::time::Instant::now();
    let source = if test { "incoming-test" } else { "incoming" };
    let hook = match app.repo.get_hook(id).await {
        Ok(Some(hook)) if token_matches(&hook.value, token) => hook.value,
        // A wrong token answers like a missing webhook: the URL is the credential.
        Ok(_) => {
            tracing::info!(
                hook = id,
                source,
                verdict = "rejected",
                "incoming webhook not found"
            );
            return AppError::NotFound(
                "no incoming webhook has this URL (was its token rotated?)".into(),
            )
            .into_response();
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    let program = match app.repo.get_program(&hook.program).await {
        Ok(Some(program)) => program.value,
        Ok(None) => return AppError::UnknownProgram(hook.program).into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let (program, hook) = (&program, &hook);
    crate::webhook::receive(
        app,
        source,
        program,
        headers,
        body,
        started,
        move |bytes| async move {
            if test {
                let sample = sample(headers, &bytes)?;
                let paths = serde_json::to_value(&sample.paths).unwrap_or_default();
                keep_sample(app, &hook.id, sample).await?;
                Ok(Accepted {
                    outcome: Outcome::SampleCaptured,
                    transaction_key: None,
                    reason: Some("test URL: the sample is kept and nothing is created".into()),
                    details: Some(serde_json::json!({ "paths": paths })),
                })
            } else {
                apply(app, program, hook, headers, &bytes).await
            }
        },
    )
    .await
}

async fn keep_sample(app: &App, id: &str, sample: Sample) -> Result<(), AppError> {
    for _ in 0..8 {
        let mut hook = app
            .repo
            .get_hook(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("incoming webhook {id} vanished")))?;
        hook.value.keep_sample(sample.clone());
        hook.value.updated_at = now_millis();
        match app.repo.update(&hook.value.program.clone(), &hook).await {
            Ok(()) => return Ok(()),
            Err(crate::store::StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the webhook is changing too often; send the sample again".into(),
    ))
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

        #[test]
        fn no_form_body_panics_the_reader(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = form_to_json(&body);
        }
    }

    #[test]
    fn forms_read_as_the_same_paths() {
        let value =
            form_to_json(b"customer[email]=a%40b.c&items[0][price]=9.99&total=99.99").unwrap();
        assert_eq!(lookup(&value, "customer.email"), Some(&json!("a@b.c")));
        assert_eq!(lookup(&value, "items.0.price"), Some(&json!("9.99")));
        assert_eq!(lookup(&value, "total"), Some(&json!("99.99")));
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
        let mut hook = IncomingWebhook::new("acme", "Shop");
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
    fn tokens_are_long_and_compared_exactly() {
        let hook = IncomingWebhook::new("acme", "Shop");
        assert!(hook.token.len() >= 32, "at least 128 bits in hex");
        assert!(token_matches(&hook, &hook.token.clone()));
        assert!(!token_matches(&hook, "guess"));
    }
}
