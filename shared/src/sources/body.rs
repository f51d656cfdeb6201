//! Reading webhook and API bodies: the declared media type, and JSON with errors that name the
//! failing field (syntax errors are 400, wrong values 422).

use crate::error::AppError;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

/// The media type of the body, without parameters, lowercased.
pub fn media_type(headers: &HeaderMap) -> String {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Refuses bodies whose declared content type is not one of `accepted`.
pub fn require_media_type(headers: &HeaderMap, accepted: &[&str]) -> Result<String, AppError> {
    let media_type = media_type(headers);
    if accepted.contains(&media_type.as_str()) {
        Ok(media_type)
    } else {
        Err(AppError::UnsupportedMediaType {
            given: media_type,
            expected: accepted.join(" or "),
        })
    }
}

/// Refuses bodies that are not JSON, by their declared content type.
pub fn require_json(headers: &HeaderMap) -> Result<(), AppError> {
    require_media_type(headers, &["application/json"]).map(|_| ())
}

/// Parses JSON naming the failing field: syntax errors are 400, wrong values 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let starts_as_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !starts_as_object {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => AppError::invalid("body", "must be a JSON object"),
                Err(e) => AppError::MalformedJson(e.to_string()),
            },
        );
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                AppError::invalid(field, inner.to_string())
            }
            _ => AppError::MalformedJson(inner.to_string()),
        }
    })
}

/// Reads a part of an already parsed body; errors name the field under `prefix`.
pub fn parse_json_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        AppError::invalid(field, e.into_inner().to_string())
    })
}
