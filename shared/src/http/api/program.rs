//! `/v1/program`: the program's settings; secrets are write-only.

use crate::app::App;
use crate::domain::program::{custom_webhook_path, provider_webhook_path, Program};
use crate::domain::settings::{apply_patch, ProgramPatch};
use crate::error::AppError;
use crate::http::api::schemas::{ProgramPatchDoc, ProgramView};
use crate::http::auth::Admin;
use crate::http::extract::JsonBody;
use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_program, patch_program))
}

#[utoipa::path(
    get,
    path = "/v1/program",
    tag = "program",
    summary = "The program's settings (never its secrets)",
    responses(
        (status = 200, description = "The program", body = ProgramView),
    )
)]
async fn get_program(admin: Admin) -> Json<Value> {
    Json(view(&admin.program))
}

#[utoipa::path(
    patch,
    path = "/v1/program",
    tag = "program",
    summary = "Change settings, rotate secrets",
    request_body = ProgramPatchDoc,
    responses(
        (status = 200, description = "The program after the change", body = ProgramView),
    )
)]
async fn patch_program(
    State(app): State<App>,
    admin: Admin,
    JsonBody(patch): JsonBody<ProgramPatch>,
) -> Result<Json<Value>, AppError> {
    let slug = admin.program.slug;
    let mut current = app
        .repo
        .get_program(&slug)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("program {slug:?}")))?;
    apply_patch(&mut current.value, patch, app.now())?;
    app.repo.update(&slug, &current).await?;
    Ok(Json(view(&current.value)))
}

/// How the API shows a program: settings, never secrets.
fn view(program: &Program) -> Value {
    let p = &program.providers;
    serde_json::json!({
        "slug": program.slug,
        "name": program.name,
        "currency": program.currency,
        "commission": program.plan,
        "custom_webhook": {
            "path": custom_webhook_path(&program.slug),
            "secrets_configured": program.custom_webhook_secrets.len(),
        },
        "providers": {
            "stripe": {
                "path": provider_webhook_path(&program.slug, "stripe"),
                "signing_secrets_configured": p.stripe_signing_secrets.len(),
            },
            "chargebee": {
                "path": provider_webhook_path(&program.slug, "chargebee"),
                "credentials_configured": p.chargebee_credentials.len(),
            },
            "recurly": {
                "path": provider_webhook_path(&program.slug, "recurly"),
                "credentials_configured": p.recurly_credentials.len(),
                "signing_keys_configured": p.recurly_signing_keys.len(),
            },
            "chargify": {
                "path": provider_webhook_path(&program.slug, "chargify"),
                "site_shared_keys_configured": p.chargify_site_shared_keys.len(),
            },
        },
        "usd_rates": program.usd_rates,
        "min_payout": program.min_payout,
        "created_at": program.created_at,
        "updated_at": program.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::FieldError;
    use crate::domain::money::Currency;
    use crate::domain::plan::CommissionPlan;
    use rust_decimal::Decimal;

    fn program() -> Program {
        Program {
            slug: "acme".into(),
            name: "Acme".into(),
            currency: Currency::parse("EUR").unwrap(),
            plan: CommissionPlan::default(),
            custom_webhook_secrets: vec!["a".repeat(20)],
            providers: Default::default(),
            usd_rates: Default::default(),
            min_payout: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn patch(json: serde_json::Value) -> ProgramPatch {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn patches_change_settings_and_rotate_secrets() {
        let mut p = program();
        apply_patch(
            &mut p,
            patch(serde_json::json!({
                "name": "Acme GmbH",
                "commission": {"levels": ["20", 5]},
                "custom_webhook": {"secrets": ["a".repeat(20), "b".repeat(20)]}
            })),
            0,
        )
        .unwrap();
        assert_eq!(p.name, "Acme GmbH");
        assert_eq!(p.plan.levels, vec![Decimal::from(20), Decimal::from(5)]);
        assert_eq!(p.custom_webhook_secrets.len(), 2);
        let shown = view(&p).to_string();
        assert!(!shown.contains(&"b".repeat(20)), "secrets are never shown");
        // Action rewards alone leave the levels as they are; the map given replaces the last.
        let actions = serde_json::json!({"commission": {"actions": {"signup": 500, "demo": 0}}});
        apply_patch(&mut p, patch(actions), 0).unwrap();
        assert_eq!(p.plan.levels, vec![Decimal::from(20), Decimal::from(5)]);
        assert_eq!(p.plan.action_reward("signup"), Some(500));
        assert_eq!(view(&p)["commission"]["actions"]["demo"], 0);
    }

    #[test]
    fn provider_credentials_are_set_rotated_and_never_shown() {
        let mut p = program();
        apply_patch(
            &mut p,
            patch(serde_json::json!({"providers": {
                "stripe": {"signing_secret": ["whsec_old", "whsec_new"]},
                "chargebee": {"username": "cb", "password": ["pw1", "pw2"]},
                "recurly": {"signing_key": "rk"},
                "chargify": {"site_shared_key": "sk"}
            }})),
            0,
        )
        .unwrap();
        assert_eq!(
            p.providers.stripe_signing_secrets,
            ["whsec_old", "whsec_new"]
        );
        let users: Vec<_> = p
            .providers
            .chargebee_credentials
            .iter()
            .map(|c| (c.username.as_str(), c.password.as_str()))
            .collect();
        assert_eq!(users, [("cb", "pw1"), ("cb", "pw2")]);
        assert_eq!(p.providers.recurly_signing_keys, ["rk"]);
        assert!(p.providers.recurly_credentials.is_empty());
        let shown = view(&p).to_string();
        for secret in ["whsec_old", "whsec_new", "pw1", "pw2", "\"rk\"", "\"sk\""] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert_eq!(
            view(&p)["providers"]["stripe"]["signing_secrets_configured"],
            2
        );

        let mut q = program();
        let half = apply_patch(
            &mut q,
            patch(serde_json::json!({"providers": {"recurly": {"username": "u"}}})),
            0,
        );
        assert!(half.is_err());
        let three = apply_patch(
            &mut q,
            patch(
                serde_json::json!({"providers": {"stripe": {"signing_secret": ["a", "b", "c"]}}}),
            ),
            0,
        );
        assert!(three.is_err());
    }

    #[test]
    fn bad_patches_change_nothing_and_name_the_field() {
        for (json, field) in [
            (
                serde_json::json!({"commission": {"levels": ["abc"]}}),
                "commission.levels[0]",
            ),
            (
                serde_json::json!({"commission": {"levels": ["120"]}}),
                "commission.levels[0]",
            ),
            (
                serde_json::json!({"commission": {"levels": []}}),
                "commission.levels",
            ),
            (
                serde_json::json!({"commission": {"levels": ["60", 30, "10.01"]}}),
                "commission.levels",
            ),
            (
                serde_json::json!({"commission": {"actions": {"signup": -1}}}),
                "commission.actions.signup",
            ),
            (
                serde_json::json!({"commission": {"actions": {"signup": 2.5}}}),
                "commission.actions.signup",
            ),
            (
                serde_json::json!({"commission": {"actions": {"Sign Up": 5}}}),
                "commission.actions.Sign Up",
            ),
            (
                serde_json::json!({"usd_rates": {"EUR": "10000.01"}}),
                "usd_rates.EUR",
            ),
            (
                serde_json::json!({"usd_rates": {"EUR": "0"}}),
                "usd_rates.EUR",
            ),
            (
                serde_json::json!({"custom_webhook": {"secrets": ["short"]}}),
                "custom_webhook.secrets",
            ),
            (
                serde_json::json!({"custom_webhook": {"secrets": []}}),
                "custom_webhook.secrets",
            ),
            (serde_json::json!({"currency": "EURO"}), "currency"),
            (serde_json::json!({"name": " "}), "name"),
        ] {
            let mut p = program();
            match apply_patch(&mut p, patch(json), 0) {
                Err(FieldError { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected an error on {field}, got {other:?}"),
            }
        }
    }
}
