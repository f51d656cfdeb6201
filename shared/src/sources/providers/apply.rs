//! Applying what a provider's webhook asks for, the same way for every provider.

use crate::app::App;
use crate::domain::customer::CustomerRef;
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::refund::{refunds_by_customer, CustomerRefund, RefundSpec};
use crate::error::AppError;
use crate::sources::providers::event::ProviderEvent;
use crate::sources::step::Accepted;
use crate::usecases::customers::parking::{link, record_payment};
use crate::usecases::ledger::customer_refunds::record_customer_refund;
use crate::usecases::ledger::disputes::record_dispute;
use crate::usecases::ledger::refunds::{apply_refund, record_refund, RefundApplied};

/// Applies a provider event: dedupe on the provider's event id, then the ledger or the customer
/// matching; the event id is marked only after the work is done.
pub async fn apply(
    app: &App,
    program: &Program,
    provider: &str,
    event: ProviderEvent,
) -> Result<Accepted, AppError> {
    let slug = program.slug.as_str();
    let mut transaction_key = event.transaction_key();
    let event_id = event.event_id().map(str::to_string);
    if let Some(id) = &event_id {
        if app.repo.provider_event_seen(slug, provider, id).await? {
            return Ok(Accepted {
                outcome: Outcome::Skipped,
                transaction_key,
                reason: Some(format!("event {id} was handled before")),
                details: None,
            });
        }
    }
    let (outcome, reason) = match event {
        ProviderEvent::Payment {
            customer, payment, ..
        } => {
            let outcome = record_payment(app, program, provider, &customer, *payment).await?;
            let reason = (outcome == Outcome::CustomerUnknown).then(|| {
                format!(
                    "no customer is known for {}; the payment waits in GET /v1/parked-payments and is recorded when the customer is created or linked",
                    describe(&customer)
                )
            });
            (outcome, reason)
        }
        ProviderEvent::Refund {
            transaction_key,
            refund,
            ..
        } => {
            let outcome = record_refund(app, program, &transaction_key, refund).await?;
            let reason = (outcome == Outcome::RefundPending).then(|| {
                format!("transaction {transaction_key:?} is not known yet; the refund is applied when it arrives")
            });
            (outcome, reason)
        }
        ProviderEvent::Lapsed {
            transaction_key, ..
        } => match apply_refund(app, program, &transaction_key, &RefundSpec::Full).await? {
            RefundApplied::NoTransaction => (
                Outcome::Ignored,
                Some(format!("the authorization {transaction_key:?} lapsed uncaptured; nothing was counted for it")),
            ),
            RefundApplied::Before => (
                Outcome::Skipped,
                Some(format!("transaction {transaction_key:?} counts nothing already")),
            ),
            _ => (
                Outcome::Refunded,
                Some(format!("the authorization {transaction_key:?} lapsed uncaptured; what was counted for it is taken back")),
            ),
        },
        ProviderEvent::Dispute {
            transaction_key,
            dispute_id,
            change,
            ..
        } => {
            let (outcome, reason) =
                record_dispute(app, program, &transaction_key, &dispute_id, change).await?;
            (outcome, Some(reason))
        }
        ProviderEvent::CustomerRefund {
            customer_key,
            refund_id,
            amount,
            ..
        } => {
            // Payments of other sources never look for refunds kept under their customer.
            if !refunds_by_customer(provider) {
                return Err(AppError::Internal(format!(
                    "{provider} sent a refund naming only its customer, which its payments never look for"
                )));
            }
            let refund = CustomerRefund {
                source: provider.to_string(),
                refund_id,
                amount,
            };
            let (outcome, key) =
                record_customer_refund(app, program, &customer_key, refund).await?;
            transaction_key = key;
            let reason = (outcome == Outcome::RefundPending).then(|| {
                format!("no payment of customer {customer_key:?} fits this refund yet; it is applied when one arrives")
            });
            (outcome, reason)
        }
        ProviderEvent::CustomerLink {
            provider_customer_id,
            customer_key,
            ..
        } => {
            let outcome =
                link(app, program, provider, &provider_customer_id, &customer_key).await?;
            (outcome, None)
        }
        ProviderEvent::Ignored { reason } => (Outcome::Ignored, Some(reason)),
    };
    // Marked after the work, so a crash in between is healed by the provider's retry.
    if let Some(id) = &event_id {
        app.repo.mark_provider_event(slug, provider, id).await?;
    }
    Ok(Accepted {
        outcome,
        transaction_key,
        reason,
        details: None,
    })
}

fn describe(customer: &CustomerRef) -> String {
    match (&customer.key, &customer.provider_id) {
        (Some(key), _) => format!("customer key {key:?}"),
        (None, Some(id)) => format!("provider customer {id:?}"),
        (None, None) => "this payment".into(),
    }
}
