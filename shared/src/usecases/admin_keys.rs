//! A program's admin keys: created (the secret shown once), revoked (never the last full admin
//! key), and each key's use noted at most every few minutes. The key set is written first and
//! the grant after, so a key set entry whose grant is missing (a crash between the two) is
//! never counted as a full admin key that survives a revocation.

use crate::crypto::token::{hash_api_key, random_token};
use crate::domain::api_key::{
    legacy_key_id, ApiKeyGrant, ApiRole, KeyEntry, KeySet, RevokeRefusal, INITIAL_KEY_NAME,
};
use crate::domain::time::Millis;
use crate::error::AppError;
use crate::repo::codec::Versioned;
use crate::repo::core::Repo;
use crate::store::StoreError;

/// Concurrent changes of the key set a write outlasts before it gives up (a 503).
const ATTEMPTS: usize = 8;

/// A new key as its creator sees it once: the grant and the secret.
pub struct CreatedKey {
    pub grant: ApiKeyGrant,
    pub api_key: String,
}

/// A new id for an admin key.
pub fn new_key_id() -> String {
    random_token("key_", 8)
}

pub async fn create(
    repo: &Repo,
    program: &str,
    name: &str,
    role: ApiRole,
) -> Result<CreatedKey, AppError> {
    let api_key = random_token("phk_", 32);
    let hash = hash_api_key(&api_key);
    let grant = ApiKeyGrant::admin(program, &new_key_id(), name, role, repo.now());
    let id = grant.id.clone().unwrap_or_default();
    add_entry(repo, program, KeyEntry::new(&id, &hash, role)).await?;
    repo.insert_grant(&hash, &grant).await?;
    Ok(CreatedKey { grant, api_key })
}

async fn add_entry(repo: &Repo, program: &str, entry: KeyEntry) -> Result<(), AppError> {
    for _ in 0..ATTEMPTS {
        let mut set = repo.key_set(program).await?.unwrap_or_else(|| Versioned {
            value: KeySet {
                program: program.to_string(),
                entries: Vec::new(),
            },
            version: 0,
        });
        if !set.value.add(entry.clone()) {
            return Ok(());
        }
        match repo.save_key_set(&set).await {
            Err(StoreError::VersionConflict { .. }) => continue,
            done => return Ok(done?),
        }
    }
    Err(busy(program))
}

fn busy(program: &str) -> AppError {
    let (pk, sk) = crate::repo::keys::key_set(program);
    StoreError::VersionConflict { pk, sk }.into()
}

/// Revokes a key: marked in the key set (refused for the last full admin key), then its grant
/// deleted, so it fails at once. A retry finds it marked and deletes the grant again.
pub async fn revoke(repo: &Repo, program: &str, id: &str) -> Result<(), AppError> {
    let unknown = || AppError::NotFound(format!("no API key has the id {id:?}"));
    for _ in 0..ATTEMPTS {
        let mut set = repo.key_set(program).await?.ok_or_else(unknown)?;
        let entry = set.value.entry(id).cloned().ok_or_else(unknown)?;
        let survivor = entry.role != ApiRole::Admin
            || entry.revoked_at.is_some()
            || any_grant_lives(repo, &set.value.other_full_admins(id)).await?;
        match set.value.revoke(id, survivor, repo.now()) {
            Err(RevokeRefusal::UnknownKey) => return Err(unknown()),
            Err(RevokeRefusal::LastFullAdmin) => {
                return Err(AppError::Conflict(
                    "this is the program's last full admin key; create another before revoking it"
                        .into(),
                ))
            }
            Ok(false) => {}
            Ok(true) => match repo.save_key_set(&set).await {
                Err(StoreError::VersionConflict { .. }) => continue,
                saved => saved?,
            },
        }
        repo.delete_grant(&entry.hash).await?;
        return Ok(());
    }
    Err(busy(program))
}

async fn any_grant_lives(repo: &Repo, entries: &[&KeyEntry]) -> Result<bool, StoreError> {
    for entry in entries {
        if repo.get_api_key(&entry.hash).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Notes a request made with an admin key: its last use (at most every
/// `LAST_USED_EVERY_MS`, one conditional write; a concurrent one that won is as good), and a
/// key from before keys had names becomes the program's "initial" key. Returns the key's id
/// and name. Bookkeeping: a failure is logged, never the request's.
pub async fn note_use(
    repo: &Repo,
    hash: &str,
    mut grant: Versioned<ApiKeyGrant>,
    program_created_at: Millis,
) -> (String, String) {
    let now = repo.now();
    let legacy = grant.value.id.is_none();
    let worth_noting = legacy || grant.value.use_is_worth_noting(now);
    if legacy {
        grant.value.id = Some(legacy_key_id(hash));
        grant.value.name = Some(INITIAL_KEY_NAME.to_string());
        grant.value.created_at = Some(program_created_at);
    }
    let who = (
        grant.value.id.clone().unwrap_or_default(),
        grant.value.name.clone().unwrap_or_default(),
    );
    if worth_noting {
        grant.value.last_used_at = Some(now);
        if let Err(e) = note(repo, hash, &grant, legacy).await {
            tracing::warn!(error = %e, key_id = %who.0, "could not note an API key's use");
        }
    }
    who
}

async fn note(
    repo: &Repo,
    hash: &str,
    grant: &Versioned<ApiKeyGrant>,
    legacy: bool,
) -> Result<(), AppError> {
    if legacy {
        let entry = KeyEntry::new(&legacy_key_id(hash), hash, grant.value.role);
        add_entry(repo, &grant.value.program, entry).await?;
    }
    match repo.update_grant(hash, grant).await {
        Ok(()) | Err(StoreError::VersionConflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
