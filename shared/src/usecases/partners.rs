//! Creating partners (API, incoming webhooks) and finding them by key, id or email.

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::customer::EmailKind;
use crate::domain::partner::{Partner, PartnerInput, PartnerRef};
use crate::domain::program::Program;
use crate::domain::validate;
use crate::error::AppError;
use crate::repo::partners::PartnerInsert;

/// Creates a partner; the same partner again is returned as it is (`false`), the same key or
/// id with other details is a conflict.
pub async fn create(
    app: &App,
    program: &Program,
    input: PartnerInput,
) -> Result<(Partner, bool), AppError> {
    let slug = program.slug.as_str();
    let key = validate::optional_key("key", input.key)?.unwrap_or_else(|| random_token("part_", 8));
    let referring_partner_key =
        validate::optional_key("referring_partner_key", input.referring_partner_key)?;
    if let Some(referrer) = &referring_partner_key {
        if *referrer == key {
            return Err(AppError::invalid(
                "referring_partner_key",
                "a partner cannot refer themselves",
            ));
        }
        if app.repo.find::<Partner>(slug, referrer).await?.is_none() {
            return Err(AppError::invalid(
                "referring_partner_key",
                format!("no partner has the key {referrer:?}"),
            ));
        }
    }
    let partner = Partner {
        key,
        id: validate::optional_key("id", input.id)?,
        email: validate::email("email", &input.email)?,
        name: validate::name("name", &input.name)?,
        referring_partner_key,
        group_key: None,
        created_at: app.now(),
        postback_ids: Some(Vec::new()),
    };
    match app.repo.insert_partner(slug, &partner).await? {
        PartnerInsert::Created => {
            app.repo
                .claim_email(slug, EmailKind::Partner, &partner.email, &partner.key)
                .await?;
            Ok((partner, true))
        }
        PartnerInsert::KeyExists(existing) => {
            // The group is changed apart (`PATCH /v1/partners/{key}`).
            let same = Partner {
                created_at: existing.created_at,
                group_key: existing.group_key.clone(),
                postback_ids: existing.postback_ids.clone(),
                ..partner
            } == existing;
            if same {
                // The first try may have failed before claiming the address.
                app.repo
                    .claim_email(slug, EmailKind::Partner, &existing.email, &existing.key)
                    .await?;
                Ok((existing, false))
            } else {
                Err(AppError::Conflict(format!(
                    "a partner with key {:?} exists with other details",
                    existing.key
                )))
            }
        }
        PartnerInsert::IdTaken => Err(AppError::Conflict(format!(
            "another partner has the id {:?}",
            partner.id.unwrap_or_default()
        ))),
    }
}

pub async fn find(
    app: &App,
    program: &str,
    reference: PartnerRef<'_>,
) -> Result<Option<Partner>, AppError> {
    Ok(match reference {
        PartnerRef::Key(key) => app.repo.find::<Partner>(program, key).await?,
        PartnerRef::Id(id) => app.repo.find_partner_by_id(program, id).await?,
        PartnerRef::Email(email) => {
            match app
                .repo
                .email_owner(program, EmailKind::Partner, email)
                .await?
            {
                Some(key) => app.repo.find::<Partner>(program, &key).await?,
                None => None,
            }
        }
    })
}
