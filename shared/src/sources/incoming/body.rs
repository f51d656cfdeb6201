//! An incoming webhook's body as JSON, whether it was sent as JSON or as a form, so form
//! fields take the same dotted paths (`customer.email`, `items.0.price`).

use crate::error::AppError;
use crate::sources::body::{parse_json, require_media_type};
use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// A form body as JSON: `customer[email]=a` becomes `{"customer": {"email": "a"}}`, so form
/// fields take the same dotted paths (`customer.email`, `items.0.price`).
pub fn form_to_json(body: &[u8]) -> Result<Value, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::MalformedBody(format!("not a form-encoded body: {e}")))?;
    let mut root = Map::new();
    'pairs: for (key, value) in pairs {
        let segments: Vec<&str> = key.split(['[', ']']).filter(|s| !s.is_empty()).collect();
        let Some((last, parents)) = segments.split_last() else {
            continue;
        };
        let mut node = &mut root;
        for parent in parents {
            let entry = node
                .entry(parent.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            // A key used both as a value and as a parent: the nested form wins.
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(map) = entry else {
                continue 'pairs;
            };
            node = map;
        }
        node.insert(last.to_string(), Value::String(value));
    }
    Ok(Value::Object(root))
}

/// The body as JSON, whether it was sent as JSON or as a form.
pub fn read_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, AppError> {
    match require_media_type(
        headers,
        &["application/json", "application/x-www-form-urlencoded"],
    )?
    .as_str()
    {
        "application/json" => parse_json(body),
        _ => form_to_json(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hook::lookup;
    use serde_json::json;

    proptest::proptest! {
        #[test]
        fn no_form_body_panics_the_reader(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = form_to_json(&body);
        }
    }

    #[test]
    fn forms_read_as_the_same_paths() {
        let value =
            form_to_json(b"customer[email]=a%40b.c&items[0][price]=9.99&total=99.99").unwrap();
        assert_eq!(lookup(&value, "customer.email"), Some(&json!("a@b.c")));
        assert_eq!(lookup(&value, "items.0.price"), Some(&json!("9.99")));
        assert_eq!(lookup(&value, "total"), Some(&json!("99.99")));
    }
}
