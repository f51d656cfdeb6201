//! Every change to a customer goes through [`edit`], and [`announce`] tells the partners
//! concerned: joining a partnership is `customer.created`, leaving it (moved or deleted)
//! `customer.deleted`, a change within it `customer.updated`.

use crate::app::App;
use crate::domain::customer::Customer;
use crate::domain::event::Event;
use crate::domain::program::Program;
use crate::error::AppError;
use crate::store::StoreError;
use crate::usecases::postbacks::emit::emit;

/// Changes a customer and tells the partners concerned; the customer before and after. The
/// state before is written with the change, and forgotten once the partners were told, so a
/// retry of a request whose announcement failed tells them then (the event ids are the same).
pub async fn edit(
    app: &App,
    program: &Program,
    key: &str,
    mut change: impl FnMut(&mut Customer),
) -> Result<Option<(Customer, Customer)>, AppError> {
    let mut before = None;
    let after = app
        .repo
        .modify::<Customer, AppError>(&program.slug, key, |c| {
            let was = c.shown();
            change(c);
            let changed = c.shown() != was;
            if changed && c.unannounced.is_none() {
                c.unannounced = Some(Box::new(was.clone()));
            }
            before = Some(was);
            Ok(changed)
        })
        .await?;
    let (Some(before), Some(after)) = (before, after) else {
        return Ok(None);
    };
    if let Some(told_from) = after.unannounced.as_deref() {
        announce(app, program, Some(told_from), Some(&after.shown())).await?;
        forget_announced(app, program, &after).await?;
    }
    Ok(Some((before, after.shown())))
}

/// Clears the state an announcement started from, unless another change came meanwhile (that
/// change's own announcement then covers both).
async fn forget_announced(
    app: &App,
    program: &Program,
    announced: &Customer,
) -> Result<(), AppError> {
    let Some(mut current) = app
        .repo
        .get::<Customer>(&program.slug, &announced.key)
        .await?
    else {
        return Ok(());
    };
    if current.value != *announced {
        return Ok(());
    }
    current.value.unannounced = None;
    match app.repo.update(&program.slug, &current).await {
        Ok(()) | Err(StoreError::VersionConflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// What a partner hears of a change to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    Created,
    Updated,
    Deleted,
}

/// Customer events as each partner sees them, with the customer as that partner last sees it:
/// a customer that joins a partnership is created for that partner, one that leaves it (moved
/// or deleted) is deleted, a change within it is an update.
fn heard<'a>(
    before: Option<&'a Customer>,
    after: Option<&'a Customer>,
) -> Vec<(&'a str, Heard, &'a Customer)> {
    let was = before.and_then(|c| Some((c.partner_key.as_deref()?, c)));
    let is = after.and_then(|c| Some((c.partner_key.as_deref()?, c)));
    match (was, is) {
        (Some((old, _)), Some((new, customer))) if old == new => {
            if before == after {
                vec![]
            } else {
                vec![(new, Heard::Updated, customer)]
            }
        }
        (was, is) => was
            .map(|(old, customer)| (old, Heard::Deleted, customer))
            .into_iter()
            .chain(is.map(|(new, customer)| (new, Heard::Created, customer)))
            .collect(),
    }
}

pub async fn announce(
    app: &App,
    program: &Program,
    before: Option<&Customer>,
    after: Option<&Customer>,
) -> Result<(), AppError> {
    for (partner, what, customer) in heard(before, after) {
        let gone;
        let event = match what {
            Heard::Created => Event::CustomerCreated(customer),
            Heard::Updated => Event::CustomerUpdated(customer),
            Heard::Deleted => {
                // It left the partnership when the change was made.
                gone = Customer {
                    updated_at: after.map_or_else(|| app.now(), |c| c.updated_at),
                    ..customer.clone()
                };
                Event::CustomerDeleted(&gone)
            }
        };
        emit(app, program, partner, event).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(partner: Option<&str>) -> Customer {
        Customer {
            partner_key: partner.map(str::to_string),
            ..Customer::new("c".into(), Some("c@example.com".into()), None, 1)
        }
    }

    #[test]
    fn partners_hear_a_customer_join_change_and_leave() {
        let pat = customer(Some("pat"));
        let sam = customer(Some("sam"));
        let nobody = customer(None);
        let renamed = Customer {
            name: Some("New".into()),
            ..pat.clone()
        };
        use Heard::*;
        let heard = |before, after| -> Vec<(&str, Heard)> {
            super::heard(before, after)
                .into_iter()
                .map(|(partner, what, _)| (partner, what))
                .collect()
        };
        assert_eq!(heard(None, Some(&pat)), [("pat", Created)]);
        assert_eq!(heard(None, Some(&nobody)), []);
        assert_eq!(heard(Some(&nobody), Some(&pat)), [("pat", Created)]);
        assert_eq!(heard(Some(&pat), Some(&renamed)), [("pat", Updated)]);
        assert_eq!(heard(Some(&pat), Some(&pat)), []);
        assert_eq!(
            heard(Some(&pat), Some(&sam)),
            [("pat", Deleted), ("sam", Created)]
        );
        assert_eq!(heard(Some(&pat), None), [("pat", Deleted)]);
        assert_eq!(heard(Some(&nobody), None), []);
        assert_eq!(heard(Some(&nobody), Some(&nobody)), []);
        // A moved customer leaves as it was and arrives as it is.
        let moved = super::heard(Some(&pat), Some(&sam));
        assert_eq!(moved[0].2.partner_key.as_deref(), Some("pat"));
        assert_eq!(moved[1].2.partner_key.as_deref(), Some("sam"));
    }
}
