//! A sale as the custom and incoming webhooks report it: its customer made sure of (created
//! when new), then its transaction recorded.

use crate::app::App;
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::transaction::NewTransaction;
use crate::error::AppError;
use crate::usecases::customers::manage::ensure;
use crate::usecases::ledger::transactions::record_transaction;

pub async fn record_sale(
    app: &App,
    program: &Program,
    sale: NewTransaction,
) -> Result<Outcome, AppError> {
    if let Some(customer) = &sale.customer {
        ensure(app, program, customer).await?;
    }
    record_transaction(app, program, sale).await
}
