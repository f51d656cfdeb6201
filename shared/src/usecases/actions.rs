//! Actions (`POST`/`GET /v1/actions`): recorded for a partnership under a key derived from
//! the idempotency key, with a condition; a repeat with a new `value` or `archived` updates
//! the action. Every request, created or repeated, runs the same idempotent follow-ups: the
//! customer's listing entry, the plan's flat reward, the events. So a retry after a crash
//! finishes what the first try left.

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::action::{Action, ActionInput, ActionOwner, CustomerAction, Repeat};
use crate::domain::customer::Customer;
use crate::domain::event::Event;
use crate::domain::partner::Partner;
use crate::domain::plan::rules::Base;
use crate::domain::program::Program;
use crate::domain::reward::{PaymentStatus, Reward, RewardSource, RewardStatus};
use crate::error::AppError;
use crate::repo::core::{Inserted, Listing};
use crate::repo::keys;
use crate::usecases::postbacks::emit::emit;
use crate::usecases::rewards::record_reward;
use rust_decimal::Decimal;

/// The partnership an action belongs to: the partner named, or the customer's partner. An
/// action of a customer without a partner belongs to no partnership and is refused (422).
async fn partner_of(app: &App, slug: &str, owner: &ActionOwner) -> Result<String, AppError> {
    match owner {
        ActionOwner::Partner(key) => match app.repo.find::<Partner>(slug, key).await? {
            Some(partner) => Ok(partner.key),
            None => Err(AppError::invalid(
                "partner_key",
                format!("no partner has the key {key:?}"),
            )),
        },
        ActionOwner::Customer(key) => {
            let customer = app.repo.find::<Customer>(slug, key).await?.ok_or_else(|| {
                AppError::invalid("customer_key", format!("no customer has the key {key:?}"))
            })?;
            customer.partner_key.ok_or_else(|| {
                AppError::invalid(
                    "customer_key",
                    format!("the customer {key:?} has no partner: its action would belong to no partnership"),
                )
            })
        }
    }
}

/// Records the action, or finds it (the same body) or updates it (a new `value` or
/// `archived`) under the same idempotency key: the body's, else `fallback_key` (the
/// `Idempotency-Key` header), else a new one. Returns it and whether this request created it.
pub async fn record(
    app: &App,
    program: &Program,
    input: ActionInput,
    fallback_key: Option<String>,
) -> Result<(Action, bool), AppError> {
    let checked = input.check()?;
    let slug = program.slug.as_str();
    let partner_key = partner_of(app, slug, &checked.owner).await?;
    let idempotency_key = checked
        .idempotency_key
        .clone()
        .or(fallback_key)
        .unwrap_or_else(|| random_token("idem_", 16));
    let draft = Action::new(&checked, idempotency_key, partner_key, app.now());
    let (action, created) = match app.repo.insert(slug, &draft).await? {
        Inserted::Created => (draft, true),
        Inserted::Exists(existing) => match existing.value.compare(&draft) {
            Repeat::Same => (existing.value, false),
            Repeat::Conflict => {
                return Err(AppError::Conflict(format!(
                "the idempotency key {:?} was used for another action (type, partner or customer)",
                draft.idempotency_key
            )))
            }
            Repeat::Update => {
                let updated = app
                    .repo
                    .modify_from::<Action, AppError>(slug, existing, |stored| {
                        if stored.compare(&draft) != Repeat::Update {
                            return Ok(false);
                        }
                        stored.value = draft.value;
                        stored.archived = draft.archived;
                        Ok(true)
                    })
                    .await?
                    .ok_or_else(|| AppError::Internal("an action vanished".into()))?;
                (updated, false)
            }
        },
    };
    follow_up(app, program, &action).await?;
    Ok((action, created))
}

/// What follows the action's write, on both branches; each step is idempotent.
async fn follow_up(app: &App, program: &Program, action: &Action) -> Result<(), AppError> {
    let slug = program.slug.as_str();
    if let Some(entry) = CustomerAction::of(action) {
        app.repo.insert(slug, &entry).await?;
    }
    emit(
        app,
        program,
        &action.partner_key,
        Event::ActionCreated(action),
    )
    .await?;
    if action.was_updated() {
        emit(
            app,
            program,
            &action.partner_key,
            Event::ActionUpdated(action),
        )
        .await?;
    }
    if let Some(amount) = program.plan.action_reward(&action.kind) {
        let reward = Reward {
            key: Reward::key_for(&action.key, 1),
            source: RewardSource::Action,
            transaction_key: None,
            action_key: Some(action.key.clone()),
            customer_key: action.customer_key.clone(),
            partner_key: action.partner_key.clone(),
            level: 1,
            percent: Decimal::ZERO,
            flat: Some(program.currency.from_minor(amount)),
            rule: format!("action:{}", action.kind),
            base: Base::default(),
            base_amount: None,
            description: format!(
                "{} {} for action {}",
                program.currency.from_minor(amount),
                program.currency,
                action.kind
            ),
            amount: program.currency.from_minor(amount),
            currency: program.currency,
            reward_status: RewardStatus::Pending,
            payment_status: PaymentStatus::Pending,
            payment_date: None,
            payout_id: None,
            reverses: None,
            status_reason: None,
            created_at: action.created_at,
            updated_at: action.created_at,
        };
        // A repeat finds the first reward and announces that one; its event id is the same.
        record_reward(app, program, reward, program.plan.holding_days).await?;
    }
    Ok(())
}

/// An action's reward, if it earned one.
pub async fn reward_of(
    app: &App,
    program: &str,
    action: &Action,
) -> Result<Option<Reward>, AppError> {
    let location = keys::action_reward(program, &action.key, 1);
    Ok(app.repo.get_at::<Reward>(location).await?.map(|v| v.value))
}

/// Who a listing is for.
pub enum ActionsOf {
    Partner(String),
    Customer(String),
}

/// One page of a partner's or a customer's actions, oldest first (404 for an unknown one).
pub async fn list(
    app: &App,
    program: &str,
    of: &ActionsOf,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing<Action>, AppError> {
    match of {
        ActionsOf::Partner(key) => {
            if app.repo.find::<Partner>(program, key).await?.is_none() {
                return Err(AppError::NotFound(format!(
                    "no partner has the key {key:?}"
                )));
            }
            let index = keys::actions_of_partner(program, key);
            Ok(app.repo.list::<Action>(index, limit, cursor, false).await?)
        }
        ActionsOf::Customer(key) => {
            if app.repo.find::<Customer>(program, key).await?.is_none() {
                return Err(AppError::UnknownCustomer(key.clone()));
            }
            let index = keys::actions_of_customer(program, key);
            let page = app
                .repo
                .list::<CustomerAction>(index, limit, cursor, false)
                .await?;
            let mut items = Vec::with_capacity(page.items.len());
            for entry in page.items {
                // The entry is written after its action, so the action is there to read.
                if let Some(action) = app.repo.find::<Action>(program, &entry.action_key).await? {
                    items.push(action);
                }
            }
            Ok(Listing {
                items,
                next_cursor: page.next_cursor,
            })
        }
    }
}
