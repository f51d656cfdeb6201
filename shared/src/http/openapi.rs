//! The API's OpenAPI 3.1 document, generated from the routes themselves, so it cannot drift.
//!
//! Every documented route is registered once, through `utoipa_axum`: a resource module's
//! `routes()` returns an `OpenApiRouter` built with `.routes(routes!(handler, ...))`, and each
//! handler carries `#[utoipa::path(...)]` with its method, path, parameters, body and answers.
//! That one call adds the handler to the axum router *and* its operation to the document, so a
//! route cannot be served without being documented, nor documented without being served.
//! What is left to check is that nobody goes around it; the e2e tests in `tests/e2e/openapi.rs`
//! do, both ways:
//! - no file under `shared/src/http` registers a route with axum's plain `.route(` (two
//!   exceptions, in `http/mod.rs`, both not part of the API: the provider webhooks, generic over
//!   their source, and the console's static files), and on every documented path each
//!   undocumented method answers 405;
//! - every documented (method, path) reaches a handler on the local router, not the
//!   `no such route` fallback nor 405;
//! - `docs/openapi.json` equals `http::openapi_json()` (regenerate with `UPDATE_OPENAPI=1 cargo
//!   test -p partnerhook-e2e openapi`), and `openapi-spec-validator` accepts both it and the
//!   served document;
//! - real answers have the fields of their documented schemas (`tests/e2e/openapi_answers.rs`;
//!   the `json!` views' shapes are structs in `http/api/schemas/`).

use crate::app::App;
use crate::http::error::{ErrorBody, ErrorDetail};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{self, ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Partnerhook API",
        description = "Partner programs: partners, customers, transactions, rewards, actions, \
            payouts, balances, postbacks and incoming webhooks. Authenticate with \
            `Authorization: Bearer <key>`: the program's admin key, or a partner's own key on \
            `/v1/postbacks` and `/v1/me/...`. Every `POST` is idempotent under an \
            `Idempotency-Key` header. Amounts are integer minor units (cents); \
            `created_at`/`updated_at` are epoch milliseconds.",
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    security(("api_key" = []))
)]
struct ApiDoc;

/// The bearer scheme, and the error answers every operation can give.
struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Error")))
                        .build(),
                )
                .build()
        };
        let shared = [
            (
                "4XX",
                "Refused",
                "Refused: see `error.code` (and `error.field`)",
            ),
            ("5XX", "Failed", "Failed; a 503 is transient: retry"),
        ];
        for (_, name, description) in shared {
            components
                .responses
                .insert(name.into(), error(description).into());
        }
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                for (status, name, _) in shared {
                    let shared = Ref::new(format!("#/components/responses/{name}"));
                    op.responses
                        .responses
                        .entry(status.into())
                        .or_insert(RefOr::Ref(shared));
                }
            }
        }
    }
}

fn operations(item: &mut openapi::PathItem) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The document of every route `documented` registers, as served and checked in
/// (`docs/openapi.json`): pretty JSON, one final newline.
pub fn document_json(documented: OpenApiRouter<App>) -> String {
    let mut doc = ApiDoc::openapi().merge_from(documented.into_openapi());
    Common.modify(&mut doc);
    let mut json = doc.to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
