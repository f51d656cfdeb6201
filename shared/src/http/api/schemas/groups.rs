//! Answers and bodies about partner groups, and the commission plan a group (or the program)
//! earns under: the plan's answer mirrors `domain::plan::CommissionPlan`, its body
//! `domain::plan::patch::CommissionPatch`.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A partner group: partners who earn under its plan rather than the program's.
#[derive(Serialize, ToSchema)]
pub struct GroupView {
    pub key: String,
    pub name: String,
    pub commission: CommissionView,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /v1/groups`.
#[derive(Serialize, ToSchema)]
pub struct GroupInputDoc {
    pub key: String,
    pub name: String,
    /// Applied to the default plan (`levels: ["20"]`); `actions` are refused (they follow the
    /// program's plan).
    #[schema(required = false)]
    pub commission: CommissionPatchDoc,
}

/// `PATCH /v1/groups/{key}`: the fields given change, the others stay.
#[derive(Serialize, ToSchema)]
pub struct GroupPatchDoc {
    pub name: Option<String>,
    /// Each plan field given replaces the group's; `actions` are refused.
    pub commission: Option<CommissionPatchDoc>,
}

/// A commission plan. A sale takes the first rule that matches it, else the highest monthly
/// tier the partner reached, else `levels`.
#[derive(Serialize, ToSchema)]
pub struct CommissionView {
    /// What percentages are taken of: `net` (the gross amount when a sale has no net) or
    /// `gross`.
    pub base: String,
    /// Percent per level of the referral chain (the attributed partner first), as decimal
    /// strings.
    pub levels: Vec<String>,
    /// Tried in order; absent when there are none.
    #[schema(required = false)]
    pub rules: Vec<RuleView>,
    /// By `min_sales`, ascending; absent when there are none.
    #[schema(required = false)]
    pub tiers: Vec<TierView>,
    /// Absent: a customer's payments earn for their lifetime.
    #[schema(required = false)]
    pub duration: DurationDoc,
    /// A flat reward per action type, in minor units.
    pub actions: BTreeMap<String, i64>,
    /// Days a new reward stays `pending` before it is approved.
    pub holding_days: u32,
}

/// A rule: what a sale matching `when` pays, `levels` (percent) or `flat` (decimal amounts
/// in the program's currency) per level.
#[derive(Serialize, ToSchema)]
pub struct RuleView {
    pub name: String,
    pub when: WhenDoc,
    pub levels: Option<Vec<String>>,
    pub flat: Option<Vec<String>>,
}

/// A rule's conditions: every one given must hold.
#[derive(Serialize, ToSchema)]
pub struct WhenDoc {
    pub product_key: Option<String>,
    pub category_key: Option<String>,
    pub campaign: Option<String>,
    pub recurring: Option<bool>,
    /// `custom`, `stripe`, `chargebee`, `recurly`, `chargify`, `incoming` or `api`.
    pub source: Option<String>,
}

/// The partner's percentages once their sales this calendar month (UTC) reach `min_sales`.
#[derive(Serialize, ToSchema)]
pub struct TierView {
    pub min_sales: u64,
    pub levels: Vec<String>,
}

/// How long a customer's payments earn: exactly one of `payments` (their first N
/// commissioned payments) or `months` (N calendar months from their first).
#[derive(Serialize, ToSchema)]
pub struct DurationDoc {
    pub payments: Option<u32>,
    pub months: Option<u32>,
}

/// A plan as `PATCH /v1/program` and `/v1/groups` take it: each field given replaces the
/// plan's, the others stay; the result is checked whole.
#[derive(Serialize, ToSchema)]
pub struct CommissionPatchDoc {
    /// `net` or `gross`.
    pub base: Option<String>,
    /// Percent per level: `["20", 5]`.
    pub levels: Option<Vec<DecimalText>>,
    pub rules: Option<Vec<RuleInputDoc>>,
    pub tiers: Option<Vec<TierInputDoc>>,
    /// `null` removes it: rewards for the customer's lifetime.
    pub duration: Option<DurationDoc>,
    /// Program only: a flat reward per action type, `{"signup": 500}` in minor units or
    /// `{"signup": ["5.00"]}` (per level) in the program's currency.
    #[schema(value_type = Option<Object>)]
    pub actions: Option<Value>,
    /// Days a new reward is held before it is approved (0 to 365).
    pub holding_days: Option<u32>,
}

/// A rule: a `name`, its conditions, and exactly one of `levels` or `flat`.
#[derive(Serialize, ToSchema)]
pub struct RuleInputDoc {
    pub name: String,
    pub when: Option<WhenDoc>,
    pub levels: Option<Vec<DecimalText>>,
    pub flat: Option<Vec<DecimalText>>,
}

#[derive(Serialize, ToSchema)]
pub struct TierInputDoc {
    pub min_sales: u64,
    pub levels: Vec<DecimalText>,
}

/// A decimal, as a string (`"12.5"`) or a JSON number (`12.5`).
#[derive(Serialize)]
pub struct DecimalText;

impl PartialSchema for DecimalText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Number]))
            .description(Some("A decimal, as a string (`\"12.5\"`) or a number"))
            .into()
    }
}

impl ToSchema for DecimalText {}
