//! Who a transaction's commission goes to: the partner it is attributed to, and the referral
//! chain above them.

use crate::app::App;
use crate::domain::customer::Customer;
use crate::domain::partner::Partner;
use crate::domain::transaction::{Transaction, UnassignedReason};
use crate::error::AppError;
use std::collections::HashSet;

/// The partner a transaction belongs to: one assigned by an admin, else the one the sender
/// named by its `id` (or key), else (payment providers) the customer's partner.
pub async fn attribute(
    app: &App,
    program: &str,
    transaction: &Transaction,
) -> Result<Result<Partner, UnassignedReason>, AppError> {
    if let Some(key) = &transaction.partner_key {
        return Ok(app
            .repo
            .find::<Partner>(program, key)
            .await?
            .ok_or(UnassignedReason::UnknownPartnerId));
    }
    let Some(reference) = &transaction.partner_ref else {
        if !transaction.by_customer {
            return Ok(Err(UnassignedReason::NoPartnerId));
        }
        let customer = match &transaction.customer_key {
            Some(key) => app.repo.find::<Customer>(program, key).await?,
            None => None,
        };
        let partner = match customer.and_then(|c| c.partner_key) {
            Some(key) => app.repo.find::<Partner>(program, &key).await?,
            None => None,
        };
        return Ok(partner.ok_or(UnassignedReason::CustomerWithoutPartner));
    };
    if let Some(partner) = app.repo.find_partner_by_id(program, reference).await? {
        return Ok(Ok(partner));
    }
    Ok(app
        .repo
        .find::<Partner>(program, reference)
        .await?
        .ok_or(UnassignedReason::UnknownPartnerId))
}

/// The partner, their referrer, and so on, up to `levels` long; a cycle ends the chain.
pub async fn referral_chain(
    app: &App,
    program: &str,
    partner: Partner,
    levels: usize,
) -> Result<Vec<String>, AppError> {
    let mut chain = vec![partner.key.clone()];
    let mut seen: HashSet<String> = chain.iter().cloned().collect();
    let mut next = partner.referring_partner_key;
    while chain.len() < levels {
        let Some(key) = next.take() else { break };
        if !seen.insert(key.clone()) {
            break;
        }
        let Some(referrer) = app.repo.find::<Partner>(program, &key).await? else {
            break;
        };
        chain.push(referrer.key);
        next = referrer.referring_partner_key;
    }
    Ok(chain)
}
