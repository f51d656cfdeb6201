//! Checks on values that come from outside (webhooks, API bodies, mapped fields): keys, slugs,
//! email addresses and names, with errors that name the field.

use crate::domain::error::FieldError;

/// Keys come from senders; they become parts of storage keys, so they are bounded and printable.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty".into());
    }
    if key.len() > 200 {
        return Err("must be at most 200 bytes".into());
    }
    if key.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Program slugs appear in URLs and key prefixes: lowercase letters, digits and dashes.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    let ok = (2..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err("must be 2 to 63 lowercase letters, digits or dashes, not starting or ending with a dash".into())
    }
}

/// A key, trimmed and checked like every key.
pub fn key(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    validate_key(value).map_err(|m| FieldError::new(field, m))?;
    Ok(value.to_string())
}

pub fn email(field: &str, email: &str) -> Result<String, FieldError> {
    let email = email.trim();
    if email_address::EmailAddress::is_valid(email) {
        Ok(email.to_string())
    } else {
        Err(FieldError::new(field, "is not an email address"))
    }
}

pub fn name(field: &str, name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(FieldError::new(field, "must be 1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// For `#[serde(default, deserialize_with = "present")]`: a field given, even as `null`
/// (`Some(None)`), told apart from one left out (`None`).
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// An optional key: blank means absent; present means a valid key.
pub fn optional_key(field: &str, key: Option<String>) -> Result<Option<String>, FieldError> {
    let key = key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    if let Some(k) = &key {
        validate_key(k).map_err(|m| FieldError::new(field, m))?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_slugs_are_validated() {
        assert!(validate_key("ext-tx-12345").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("a\u{0}b").is_err());
        assert!(validate_key(&"x".repeat(201)).is_err());
        assert!(validate_slug("acme").is_ok());
        assert!(validate_slug("acme-2").is_ok());
        for bad in ["A", "a", "acme_", "-acme", "acme-", "ac me", "ACME"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_trimmed_and_checked() {
        assert_eq!(email("email", " a@example.com ").unwrap(), "a@example.com");
        assert!(email("email", "nope").is_err());
        assert!(name("name", "  ").is_err());
        assert_eq!(optional_key("key", Some("  ".into())).unwrap(), None);
        assert_eq!(
            optional_key("key", Some(" k1 ".into())).unwrap().as_deref(),
            Some("k1")
        );
        assert!(optional_key("key", Some("a\nb".into())).is_err());
        assert_eq!(key("id", " cus_1 ").unwrap(), "cus_1");
    }
}
