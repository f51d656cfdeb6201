//! Partner groups: created, changed and deleted by an admin; partners moved between them.

use crate::app::App;
use crate::domain::group::{Group, GroupInput, GroupPatch};
use crate::domain::partner::Partner;
use crate::domain::program::Program;
use crate::error::AppError;
use crate::repo::core::Inserted;
use crate::repo::keys;
use crate::store::Query;

fn not_found(key: &str) -> AppError {
    AppError::NotFound(format!("no group has the key {key:?}"))
}

/// Creates a group; the same group again is answered as it is (`false`), the same key with
/// another name or plan is a conflict.
pub async fn create(
    app: &App,
    program: &Program,
    input: GroupInput,
) -> Result<(Group, bool), AppError> {
    let group = Group::create(input, program.currency, app.now())?;
    match app.repo.insert(&program.slug, &group).await? {
        Inserted::Created => Ok((group, true)),
        Inserted::Exists(existing) => {
            let existing = existing.value;
            if existing.name == group.name && existing.plan == group.plan {
                Ok((existing, false))
            } else {
                Err(AppError::Conflict(format!(
                    "a group with key {:?} exists with another name or plan",
                    group.key
                )))
            }
        }
    }
}

pub async fn get(app: &App, program: &str, key: &str) -> Result<Group, AppError> {
    app.repo
        .find::<Group>(program, key)
        .await?
        .ok_or_else(|| not_found(key))
}

/// Applies a patch, checked whole before anything is written; a concurrent change is a 503
/// the caller retries.
pub async fn update(
    app: &App,
    program: &Program,
    key: &str,
    patch: GroupPatch,
) -> Result<Group, AppError> {
    let mut current = app
        .repo
        .get::<Group>(&program.slug, key)
        .await?
        .ok_or_else(|| not_found(key))?;
    current.value = current.value.patched(patch, program.currency)?;
    current.value.updated_at = app.now();
    app.repo.update(&program.slug, &current).await?;
    Ok(current.value)
}

/// Deletes a group no partner is in; one in use is a conflict naming how many are in it. A
/// partner moved into it meanwhile earns under the program's plan until moved again.
pub async fn delete(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    get(app, program, key).await?;
    let members = app
        .repo
        .all::<Partner>(Query::Index {
            pk: keys::partners(program),
        })
        .await?
        .into_iter()
        .filter(|p| p.group_key.as_deref() == Some(key))
        .count();
    if members > 0 {
        return Err(AppError::Conflict(format!(
            "{members} partner(s) are in group {key:?}: move them out first"
        )));
    }
    app.repo.delete::<Group>(program, key).await?;
    Ok(())
}

/// Puts a partner in a group, or (`None`) back under the program's plan. Their next sales
/// follow it; rewards already granted stay as they are.
pub async fn set_partner_group(
    app: &App,
    program: &str,
    partner_key: &str,
    group_key: Option<String>,
) -> Result<Partner, AppError> {
    if let Some(group) = &group_key {
        if app.repo.find::<Group>(program, group).await?.is_none() {
            return Err(AppError::invalid(
                "group_key",
                format!("no group has the key {group:?}"),
            ));
        }
    }
    app.repo
        .modify::<Partner, AppError>(program, partner_key, |p| {
            let changed = p.group_key != group_key;
            p.group_key = group_key.clone();
            Ok(changed)
        })
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no partner has the key {partner_key:?}")))
}
