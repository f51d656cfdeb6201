//! The management API (`/v1/...`): admin-key authentication, request validation and the JSON
//! views of records. Field names follow the seeds (`key`, `amount` in minor units,
//! `reward_status`, `created_at` in epoch ms).

use crate::app::App;
use crate::customers::{self, CustomerChange, CustomerInput};
use crate::domain::now_millis;
use crate::domain::{Program, Reward, Transaction, TransactionStatus};
use crate::error::AppError;
use crate::http::{JsonBody, PathParam, QueryParams};
use crate::incoming::{self, IncomingWebhook, Mapping};
use crate::ledger::{enqueue_commission, update_transaction};
use crate::money::Currency;
use crate::partners::{self, PartnerInput};
use crate::postback::{self, deliver, signing, ssrf, Postback};
use crate::program::{apply_patch, view as program_view, ProgramPatch};
use crate::repo::{ApiKeyGrant, ApiRole, Listing};
use crate::token::hash_api_key;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

/// The program and grant behind a request's `Authorization: Bearer` key.
async fn authenticate(parts: &Parts, app: &App) -> Result<(Program, ApiKeyGrant), AppError> {
    let key = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <API key>".into()))?;
    let grant = app
        .repo
        .get_api_key(&hash_api_key(key))
        .await?
        .ok_or_else(|| AppError::Unauthorized("unknown API key".into()))?;
    let program = app
        .repo
        .get_program(&grant.program)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the key's program no longer exists".into()))?;
    Ok((program.value, grant))
}

/// A request made with a program's admin key.
pub struct Admin {
    pub program: Program,
}

impl FromRequestParts<App> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match authenticate(parts, app).await? {
            (program, grant) if grant.role == ApiRole::Admin => Ok(Admin { program }),
            _ => Err(AppError::Forbidden(
                "this route takes the program's admin key".into(),
            )),
        }
    }
}

/// A request made with a partner's own key: it sees that partner's postbacks alone.
pub struct PartnerAuth {
    pub program: Program,
    pub partner_key: String,
}

impl FromRequestParts<App> for PartnerAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match authenticate(parts, app).await? {
            (
                program,
                ApiKeyGrant {
                    role: ApiRole::Partner,
                    partner_key: Some(partner_key),
                    ..
                },
            ) => Ok(PartnerAuth {
                program,
                partner_key,
            }),
            _ => Err(AppError::Forbidden(
                "this route takes a partner API key (POST /v1/partners/{key}/api-keys)".into(),
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    limit: Option<usize>,
    cursor: Option<String>,
}

impl Paging {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(50).clamp(1, 200)
    }
}

fn listing<T>(listing: Listing<T>, view: impl Fn(&T) -> Value) -> Json<Value> {
    Json(json!({
        "data": listing.items.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": listing.next_cursor,
    }))
}

fn minor(currency: Currency, amount: Decimal) -> Option<i64> {
    currency.to_minor(amount).ok()
}

pub fn transaction_view(tx: &Transaction) -> Value {
    let c = tx.amounts.currency;
    json!({
        "key": tx.key,
        "source": tx.source,
        "status": tx.status,
        "unassigned_reason": tx.unassigned_reason,
        "customer_key": tx.customer_key,
        "partner_id": tx.partner_ref,
        "partner_key": tx.partner_key,
        "currency": c,
        "amount": minor(c, tx.amounts.gross),
        "net_amount": tx.amounts.net.and_then(|n| minor(c, n)),
        "tax_amount": tx.amounts.tax.and_then(|t| minor(c, t)),
        "amount_decimal": tx.amounts.gross,
        "net_amount_decimal": tx.amounts.net,
        "tax_amount_decimal": tx.amounts.tax,
        "tax_rate": tx.amounts.tax_rate,
        "refunded_amount": minor(c, tx.amounts.refunded),
        "refunded_amount_decimal": c.round(tx.amounts.refunded),
        "product_id": tx.product.id,
        "product_name": tx.product.name,
        "product_type": tx.product.category,
        "campaign_slug": tx.campaign_slug,
        "is_recurring": tx.is_recurring,
        "recurring_number": tx.recurring_number,
        "transaction_date": tx.transaction_date,
        "created_at": tx.created_at,
        "updated_at": tx.updated_at,
        "refunded_at": tx.refunded_at,
    })
}

pub fn reward_view(reward: &Reward) -> Value {
    json!({
        "key": reward.key,
        "transaction_key": reward.transaction_key,
        "customer_key": reward.customer_key,
        "partner_key": reward.partner_key,
        "level": reward.level,
        "amount": minor(reward.currency, reward.amount),
        "amount_decimal": reward.amount,
        "currency": reward.currency,
        "reward_status": reward.reward_status,
        "created_at": reward.created_at,
        "updated_at": reward.updated_at,
    })
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

// Program settings.

pub async fn get_program(admin: Admin) -> Json<Value> {
    Json(program_view(&admin.program))
}

pub async fn patch_program(
    State(app): State<App>,
    admin: Admin,
    JsonBody(patch): JsonBody<ProgramPatch>,
) -> Result<Json<Value>, AppError> {
    let slug = admin.program.slug;
    let mut current = app
        .repo
        .get_program(&slug)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("program {slug:?}")))?;
    apply_patch(&mut current.value, patch)?;
    app.repo.update(&slug, &current).await?;
    Ok(Json(program_view(&current.value)))
}

// Partners.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    email: String,
    name: String,
    key: Option<String>,
    id: Option<String>,
    referring_partner_key: Option<String>,
}

fn created_or_found<T: serde::Serialize>((value, created): (T, bool)) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(to_value(&value))).into_response()
}

pub async fn create_partner(
    State(app): State<App>,
    admin: Admin,
    JsonBody(body): JsonBody<NewPartner>,
) -> Result<Response, AppError> {
    let input = PartnerInput {
        email: body.email,
        name: body.name,
        key: body.key,
        id: body.id,
        referring_partner_key: body.referring_partner_key,
    };
    Ok(created_or_found(
        partners::create(&app, &admin.program, input).await?,
    ))
}

pub async fn list_partners(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let page = app
        .repo
        .list_partners(
            &admin.program.slug,
            paging.limit(),
            paging.cursor.as_deref(),
        )
        .await?;
    Ok(listing(page, to_value))
}

pub async fn get_partner(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let partner = app
        .repo
        .get_partner(&admin.program.slug, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no partner has the key {key:?}")))?;
    Ok(Json(to_value(&partner)))
}

// Customers.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    email: String,
    name: String,
    key: Option<String>,
    partner_key: Option<String>,
    referring_customer_key: Option<String>,
}

pub async fn create_customer(
    State(app): State<App>,
    admin: Admin,
    JsonBody(body): JsonBody<NewCustomer>,
) -> Result<Response, AppError> {
    let input = CustomerInput {
        email: body.email,
        name: body.name,
        key: body.key,
        partner_key: body.partner_key,
        referring_customer_key: body.referring_customer_key,
    };
    Ok(created_or_found(
        customers::create(&app, &admin.program, input).await?,
    ))
}

pub async fn list_customers(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let page = app
        .repo
        .list_customers(
            &admin.program.slug,
            paging.limit(),
            paging.cursor.as_deref(),
        )
        .await?;
    Ok(listing(page, to_value))
}

pub async fn get_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let customer = app
        .repo
        .get_customer(&admin.program.slug, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer has the key {key:?}")))?;
    Ok(Json(to_value(&customer)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    email: Option<String>,
    name: Option<String>,
    partner_key: Option<String>,
}

pub async fn patch_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(body): JsonBody<CustomerPatch>,
) -> Result<Json<Value>, AppError> {
    let change = CustomerChange {
        email: body.email,
        name: body.name,
        partner_key: body.partner_key,
    };
    let customer = customers::update(&app, &admin.program, &key, change).await?;
    Ok(Json(to_value(&customer)))
}

pub async fn delete_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<StatusCode, AppError> {
    customers::delete(&app, &admin.program, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Transactions.

#[derive(Debug, Deserialize)]
pub struct TransactionFilter {
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub async fn list_transactions(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<TransactionFilter>,
) -> Result<Json<Value>, AppError> {
    let wanted = filter.status.as_deref().unwrap_or("");
    let status = TransactionStatus::parse(wanted).ok_or_else(|| {
        AppError::BadRequest(
            "give ?status= one of recorded, commissioned, unassigned, refunded".into(),
        )
    })?;
    let paging = Paging {
        limit: filter.limit,
        cursor: filter.cursor,
    };
    let page = app
        .repo
        .list_transactions(
            &admin.program.slug,
            status,
            paging.limit(),
            paging.cursor.as_deref(),
        )
        .await?;
    Ok(listing(page, transaction_view))
}

pub async fn get_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let tx = app
        .repo
        .get_transaction(&admin.program.slug, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no transaction has the key {key:?}")))?;
    Ok(Json(transaction_view(&tx.value)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    partner_key: String,
}

/// Assigns an unassigned transaction to a partner and queues its commission.
pub async fn assign_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<Json<Value>, AppError> {
    let slug = admin.program.slug.as_str();
    let partner = app
        .repo
        .get_partner(slug, body.partner_key.trim())
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "partner_key",
                format!("no partner has the key {:?}", body.partner_key),
            )
        })?;
    let updated = update_transaction(&app, slug, &key, |tx| match tx.status {
        TransactionStatus::Unassigned => {
            tx.status = TransactionStatus::Recorded;
            tx.partner_key = Some(partner.key.clone());
            tx.unassigned_reason = None;
            Ok(true)
        }
        // Assigning again to the same partner is a retry, not a change.
        TransactionStatus::Recorded | TransactionStatus::Commissioned
            if tx.partner_key.as_deref() == Some(partner.key.as_str()) =>
        {
            Ok(false)
        }
        other => Err(AppError::Conflict(format!(
            "only unassigned transactions can be assigned; this one is {}",
            other.as_str()
        ))),
    })
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no transaction has the key {key:?}")))?;
    if updated.status == TransactionStatus::Recorded {
        enqueue_commission(&app, slug, &key).await?;
    }
    Ok(Json(transaction_view(&updated)))
}

// Rewards.

#[derive(Debug, Deserialize)]
pub struct RewardFilter {
    transaction_key: Option<String>,
    partner_key: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub async fn list_rewards(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<RewardFilter>,
) -> Result<Json<Value>, AppError> {
    let slug = admin.program.slug.as_str();
    match (filter.transaction_key, filter.partner_key) {
        (Some(tx), None) => {
            let rewards = app.repo.rewards_of_transaction(slug, &tx).await?;
            let data: Vec<Value> = rewards.iter().map(|r| reward_view(&r.value)).collect();
            Ok(Json(json!({ "data": data, "next_cursor": null })))
        }
        (None, Some(partner)) => {
            let paging = Paging {
                limit: filter.limit,
                cursor: filter.cursor,
            };
            let page = app
                .repo
                .rewards_of_partner(slug, &partner, paging.limit(), paging.cursor.as_deref())
                .await?;
            Ok(listing(page, reward_view))
        }
        _ => Err(AppError::BadRequest(
            "give exactly one of ?transaction_key= or ?partner_key=".into(),
        )),
    }
}

// The inbox.

pub async fn list_events(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let page = app
        .repo
        .list_events(
            &admin.program.slug,
            paging.limit(),
            paging.cursor.as_deref(),
        )
        .await?;
    Ok(listing(page, to_value))
}

pub async fn get_event(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let entry = app
        .repo
        .get_event(&admin.program.slug, &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no event has the id {id:?}")))?;
    Ok(Json(to_value(&entry)))
}

// Incoming webhooks.

/// The public base URL of this deployment, taken from the request, so the URLs handed out are
/// absolute.
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Under Lambda the URI carries API Gateway's domain; a local server sees only Host.
        if let (Some(scheme), Some(authority)) = (parts.uri.scheme_str(), parts.uri.authority()) {
            return Ok(BaseUrl(format!("{scheme}://{authority}")));
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let host = header("host")
            .ok_or_else(|| AppError::BadRequest("the request has no Host header".into()))?;
        let proto = header("x-forwarded-proto").unwrap_or("http");
        Ok(BaseUrl(format!("{proto}://{host}")))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHook {
    name: String,
}

async fn own_hook(
    app: &App,
    admin: &Admin,
    id: &str,
) -> Result<crate::repo::Versioned<IncomingWebhook>, AppError> {
    app.repo
        .get_hook(id)
        .await?
        .filter(|hook| hook.value.program == admin.program.slug)
        .ok_or_else(|| AppError::NotFound(format!("no incoming webhook has the id {id:?}")))
}

pub async fn create_hook(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    JsonBody(body): JsonBody<NewHook>,
) -> Result<Response, AppError> {
    let name = crate::input::name("name", &body.name)?;
    let hook = IncomingWebhook::new(&admin.program.slug, &name);
    app.repo.insert(&admin.program.slug, &hook).await?;
    Ok((StatusCode::CREATED, Json(incoming::view(&hook, &base))).into_response())
}

pub async fn list_hooks(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let page = app
        .repo
        .list_hooks(
            &admin.program.slug,
            paging.limit(),
            paging.cursor.as_deref(),
        )
        .await?;
    Ok(listing(page, |hook| incoming::view(hook, &base)))
}

pub async fn get_hook(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let hook = own_hook(&app, &admin, &id).await?;
    Ok(Json(incoming::view(&hook.value, &base)))
}

/// Saves the mapping after checking it; warns about paths no sample contains.
pub async fn put_hook_mapping(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    PathParam(id): PathParam<String>,
    JsonBody(mapping): JsonBody<Mapping>,
) -> Result<Json<Value>, AppError> {
    let mut hook = own_hook(&app, &admin, &id).await?;
    let warnings = mapping.validate(&hook.value.samples)?;
    hook.value.mapping = Some(mapping);
    hook.value.updated_at = now_millis();
    app.repo.update(&admin.program.slug, &hook).await?;
    let mut view = incoming::view(&hook.value, &base);
    view["warnings"] = json!(warnings);
    Ok(Json(view))
}

/// A new token: the old test and production URLs stop working at once.
pub async fn rotate_hook_token(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let mut hook = own_hook(&app, &admin, &id).await?;
    hook.value.token = incoming::new_token();
    hook.value.updated_at = now_millis();
    app.repo.update(&admin.program.slug, &hook).await?;
    Ok(Json(incoming::view(&hook.value, &base)))
}

pub async fn delete_hook(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, AppError> {
    own_hook(&app, &admin, &id).await?;
    app.repo.delete_hook(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Partner keys and postbacks.

/// Issues a partner its API key; shown once, stored as a digest.
pub async fn create_partner_api_key(
    State(app): State<App>,
    admin: Admin,
    PathParam(partner_key): PathParam<String>,
) -> Result<Response, AppError> {
    let slug = admin.program.slug.as_str();
    app.repo
        .get_partner(slug, &partner_key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no partner has the key {partner_key:?}")))?;
    let api_key = crate::token::random_token("phk_p_", 32);
    app.repo
        .create_partner_key(slug, &partner_key, &hash_api_key(&api_key))
        .await?;
    let body = json!({ "api_key": api_key, "partner_key": partner_key });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPostback {
    url: String,
    name: String,
    events: Vec<String>,
}

async fn own_postback(
    app: &App,
    auth: &PartnerAuth,
    id: &str,
) -> Result<crate::repo::Versioned<Postback>, AppError> {
    app.repo
        .get_postback(&auth.program.slug, id)
        .await?
        .filter(|p| p.value.partner_key == auth.partner_key)
        .ok_or_else(|| AppError::NotFound(format!("no postback has the id {id:?}")))
}

pub async fn create_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    JsonBody(body): JsonBody<NewPostback>,
) -> Result<Response, AppError> {
    let url = ssrf::check_endpoint(body.url.trim(), app.endpoints).await?;
    postback::validate_events(&body.events)?;
    let now = now_millis();
    let secret = signing::new_secret();
    let created = Postback {
        id: crate::token::random_token("pb_", 8),
        program: auth.program.slug.clone(),
        partner_key: auth.partner_key.clone(),
        url: url.to_string(),
        name: crate::input::name("name", &body.name)?,
        events: body.events,
        secrets: vec![secret.clone()],
        disabled: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    app.repo.insert(&auth.program.slug, &created).await?;
    let mut view = postback::view(&created);
    view["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub async fn list_postbacks(
    State(app): State<App>,
    auth: PartnerAuth,
) -> Result<Json<Value>, AppError> {
    let all = app
        .repo
        .postbacks_of_partner(&auth.program.slug, &auth.partner_key)
        .await?;
    let data: Vec<Value> = all.iter().map(postback::view).collect();
    Ok(Json(json!({ "data": data, "next_cursor": null })))
}

pub async fn get_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(postback::view(
        &own_postback(&app, &auth, &id).await?.value,
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostbackPatch {
    url: Option<String>,
    name: Option<String>,
    events: Option<Vec<String>>,
    /// `true` turns a disabled postback back on.
    enabled: Option<bool>,
}

pub async fn patch_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
    JsonBody(patch): JsonBody<PostbackPatch>,
) -> Result<Json<Value>, AppError> {
    let mut current = own_postback(&app, &auth, &id).await?;
    let p = &mut current.value;
    if let Some(url) = patch.url {
        p.url = ssrf::check_endpoint(url.trim(), app.endpoints)
            .await?
            .to_string();
    }
    if let Some(name) = patch.name {
        p.name = crate::input::name("name", &name)?;
    }
    if let Some(events) = patch.events {
        postback::validate_events(&events)?;
        p.events = events;
    }
    match patch.enabled {
        Some(true) => {
            p.disabled = None;
            p.failing_since = None;
        }
        Some(false) => {
            p.disabled = Some(postback::Disabled {
                at: now_millis(),
                reason: "disabled by the partner".into(),
            })
        }
        None => {}
    }
    p.updated_at = now_millis();
    app.repo.update(&auth.program.slug, &current).await?;
    Ok(Json(postback::view(&current.value)))
}

pub async fn delete_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, AppError> {
    own_postback(&app, &auth, &id).await?;
    app.repo.delete_postback(&auth.program.slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the test event now and reports the endpoint's answer.
pub async fn test_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let current = own_postback(&app, &auth, &id).await?;
    let attempt = deliver::send_test(&app, &current.value).await?;
    let success = attempt.status_code.is_some_and(|c| (200..300).contains(&c));
    let mut body = json!(attempt);
    body["success"] = json!(success);
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
pub struct Rotation {
    /// Stop signing with the earlier secret at once instead of sending both.
    #[serde(default)]
    expire_previous: bool,
}

/// A new signing secret, shown once; the previous one keeps signing beside it unless expired.
pub async fn rotate_postback_secret(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
    QueryParams(rotation): QueryParams<Rotation>,
) -> Result<Json<Value>, AppError> {
    let mut current = own_postback(&app, &auth, &id).await?;
    let secret = signing::new_secret();
    let p = &mut current.value;
    let previous = p
        .secrets
        .last()
        .cloned()
        .filter(|_| !rotation.expire_previous);
    p.secrets = previous.into_iter().chain([secret.clone()]).collect();
    p.updated_at = now_millis();
    app.repo.update(&auth.program.slug, &current).await?;
    let mut view = postback::view(&current.value);
    view["secret"] = json!(secret);
    Ok(Json(view))
}

pub async fn list_deliveries(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    own_postback(&app, &auth, &id).await?;
    let page = app
        .repo
        .list_deliveries(
            &auth.program.slug,
            &id,
            paging.limit(),
            paging.cursor.as_deref(),
        )
        .await?;
    Ok(listing(page, postback::delivery_view))
}

pub async fn retry_delivery(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam((id, delivery_id)): PathParam<(String, String)>,
) -> Result<Json<Value>, AppError> {
    own_postback(&app, &auth, &id).await?;
    let mut delivery = app
        .repo
        .get_delivery(&auth.program.slug, &delivery_id)
        .await?
        .filter(|d| d.value.postback_id == id)
        .ok_or_else(|| AppError::NotFound(format!("no delivery has the id {delivery_id:?}")))?;
    deliver::retry_by_hand(&app, &auth.program.slug, &mut delivery).await?;
    Ok(Json(postback::delivery_view(&delivery.value)))
}
