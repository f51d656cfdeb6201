//! Actions: something a partner or a customer did that is not a sale (a signup, a demo
//! booked, a post created), counted by `value`. The body of `POST /v1/actions`, its checks,
//! and the record it becomes. Pure.

use crate::domain::error::FieldError;
use crate::domain::time::Millis;
use crate::domain::validate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most one action may count; keeps `value` far from any integer's edge.
pub const MAX_VALUE: i64 = 1_000_000_000;

/// The body of `POST /v1/actions`: exactly one of `partner_key` and `customer_key`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub partner_key: Option<String>,
    pub customer_key: Option<String>,
    /// The action's type, `signup`: the plan's `commission.actions` names its reward.
    pub key: Option<String>,
    /// How many times it was performed; 1 when absent.
    pub value: Option<i64>,
    pub archived: Option<bool>,
    /// What makes a repeat the same action; the `Idempotency-Key` header when absent.
    pub idempotency_key: Option<String>,
}

/// Who the action is credited to, as the body names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOwner {
    Partner(String),
    Customer(String),
}

/// An input that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAction {
    pub owner: ActionOwner,
    pub kind: String,
    pub value: i64,
    pub archived: bool,
    pub idempotency_key: Option<String>,
}

impl ActionInput {
    pub fn check(self) -> Result<CheckedAction, FieldError> {
        let owner = match (self.partner_key, self.customer_key) {
            (Some(p), None) => ActionOwner::Partner(validate::key("partner_key", &p)?),
            (None, Some(c)) => ActionOwner::Customer(validate::key("customer_key", &c)?),
            _ => {
                return Err(FieldError::new(
                    "partner_key",
                    "give exactly one of partner_key and customer_key",
                ))
            }
        };
        let kind = self.key.ok_or_else(|| {
            FieldError::new("key", "is required: the action's type, e.g. \"signup\"")
        })?;
        let kind = action_type("key", &kind)?;
        let value = self.value.unwrap_or(1);
        if !(0..=MAX_VALUE).contains(&value) {
            return Err(FieldError::new(
                "value",
                format!("must be an integer from 0 to {MAX_VALUE}"),
            ));
        }
        let idempotency_key = self
            .idempotency_key
            .map(|k| validate::key("idempotency_key", &k))
            .transpose()?;
        Ok(CheckedAction {
            owner,
            kind,
            value,
            archived: self.archived.unwrap_or(false),
            idempotency_key,
        })
    }
}

/// An action type (`signup`, `demo_booked`): 1 to 64 lowercase letters, digits, `_` or `-`,
/// since it also names a reward in the plan.
pub fn action_type(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(text.to_string())
    } else {
        Err(FieldError::new(
            field,
            "must be 1 to 64 lowercase letters, digits, '_' or '-'",
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// `act_` and a digest of the idempotency key: a repeat finds the first write.
    pub key: String,
    pub idempotency_key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: i64,
    pub partner_key: String,
    /// The customer named in the body, when it was a customer's action.
    pub customer_key: Option<String>,
    pub archived: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An action listed under its customer (the action itself is listed under its partner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerAction {
    pub action_key: String,
    pub customer_key: String,
    pub created_at: Millis,
}

impl CustomerAction {
    pub fn of(action: &Action) -> Option<Self> {
        Some(Self {
            action_key: action.key.clone(),
            customer_key: action.customer_key.clone()?,
            created_at: action.created_at,
        })
    }
}

/// What a repeat of an action's idempotency key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// The same body: the same action.
    Same,
    /// Only `value` or `archived` changed: an update of the action.
    Update,
    /// Another type or owner under the key: refused.
    Conflict,
}

impl Action {
    pub fn key_for(idempotency_key: &str) -> String {
        let digest = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
        format!("act_{}", &digest[..20])
    }

    pub fn new(
        input: &CheckedAction,
        idempotency_key: String,
        partner_key: String,
        now: Millis,
    ) -> Self {
        let customer_key = match &input.owner {
            ActionOwner::Customer(c) => Some(c.clone()),
            ActionOwner::Partner(_) => None,
        };
        Self {
            key: Self::key_for(&idempotency_key),
            idempotency_key,
            kind: input.kind.clone(),
            value: input.value,
            partner_key,
            customer_key,
            archived: input.archived,
            created_at: now,
            updated_at: now,
        }
    }

    /// How `other` (a new request under this action's idempotency key) relates to it. A
    /// customer's action stays with the partner it was credited to: the same customer is the
    /// same owner even if the customer has moved to another partner since.
    pub fn compare(&self, other: &Action) -> Repeat {
        let same_owner = match (&self.customer_key, &other.customer_key) {
            (Some(mine), Some(theirs)) => mine == theirs,
            (None, None) => self.partner_key == other.partner_key,
            _ => false,
        };
        if self.kind != other.kind || !same_owner {
            Repeat::Conflict
        } else if self.value != other.value || self.archived != other.archived {
            Repeat::Update
        } else {
            Repeat::Same
        }
    }

    /// Updated since it was created: its `action.updated` is due.
    pub fn was_updated(&self) -> bool {
        self.updated_at != self.created_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(body: serde_json::Value) -> Result<CheckedAction, FieldError> {
        serde_json::from_value::<ActionInput>(body)
            .map_err(|e| FieldError::new("body", e.to_string()))?
            .check()
    }

    #[test]
    fn exactly_one_owner_a_type_and_a_bounded_value() {
        let ok = input(json!({"partner_key": "pat", "key": "signup"})).unwrap();
        assert_eq!((ok.value, ok.archived), (1, false));
        assert_eq!(ok.owner, ActionOwner::Partner("pat".into()));
        let field = |body| input(body).unwrap_err().field;
        assert_eq!(field(json!({"key": "signup"})), "partner_key");
        assert_eq!(
            field(json!({"key": "signup", "partner_key": "a", "customer_key": "b"})),
            "partner_key"
        );
        assert_eq!(field(json!({"partner_key": "pat"})), "key");
        assert_eq!(
            field(json!({"partner_key": "pat", "key": "Sign Up"})),
            "key"
        );
        assert_eq!(
            field(json!({"partner_key": "pat", "key": "signup", "value": -1})),
            "value"
        );
        assert_eq!(
            field(json!({"partner_key": "pat", "key": "signup", "value": MAX_VALUE + 1})),
            "value"
        );
        assert!(input(json!({"partner_key": "pat", "key": "signup", "value": 1.5})).is_err());
    }

    #[test]
    fn a_repeat_is_the_same_an_update_or_a_conflict() {
        let checked = input(json!({"customer_key": "c1", "key": "signup"})).unwrap();
        let first = Action::new(&checked, "k1".into(), "pat".into(), 10);
        assert_eq!(first.key, Action::key_for("k1"));
        assert!(first.key.starts_with("act_"));
        let again = Action::new(&checked, "k1".into(), "pat".into(), 20);
        assert_eq!(first.compare(&again), Repeat::Same);
        let more = Action {
            value: 3,
            ..again.clone()
        };
        assert_eq!(first.compare(&more), Repeat::Update);
        let other = Action {
            kind: "demo".into(),
            ..again
        };
        assert_eq!(first.compare(&other), Repeat::Conflict);
    }
}
