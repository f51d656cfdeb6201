//! Partner groups: partners who earn under a plan of their own rather than the program's.

use crate::domain::error::FieldError;
use crate::domain::money::Currency;
use crate::domain::plan::patch::{self, CommissionPatch};
use crate::domain::plan::CommissionPlan;
use crate::domain::time::Millis;
use crate::domain::validate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub key: String,
    pub name: String,
    pub plan: CommissionPlan,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// `POST /v1/groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub key: String,
    pub name: String,
    /// Applied to the default plan (`levels: ["20"]`), as `PATCH /v1/program` applies it.
    #[serde(default)]
    pub commission: CommissionPatch,
}

/// `PATCH /v1/groups/{key}`: the name, and the plan's fields given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub commission: Option<CommissionPatch>,
}

/// Action rewards follow the program's plan alone; a group's plan has none.
fn without_actions(patch: &CommissionPatch) -> Result<(), FieldError> {
    match patch.actions {
        Some(_) => Err(FieldError::new(
            "commission.actions",
            "action rewards follow the program's plan; set them with PATCH /v1/program",
        )),
        None => Ok(()),
    }
}

impl Group {
    /// A new group, checked; flat amounts are in the program's `currency`.
    pub fn create(input: GroupInput, currency: Currency, now: Millis) -> Result<Self, FieldError> {
        without_actions(&input.commission)?;
        Ok(Self {
            key: validate::key("key", &input.key)?,
            name: validate::name("name", &input.name)?,
            plan: patch::apply(&CommissionPlan::default(), input.commission, currency)?,
            created_at: now,
            updated_at: now,
        })
    }

    /// The group with the patch applied, checked whole; nothing changes on an error.
    pub fn patched(&self, given: GroupPatch, currency: Currency) -> Result<Self, FieldError> {
        let mut next = self.clone();
        if let Some(name) = given.name {
            next.name = validate::name("name", &name)?;
        }
        if let Some(commission) = given.commission {
            without_actions(&commission)?;
            next.plan = patch::apply(&self.plan, commission, currency)?;
        }
        Ok(next)
    }
}
