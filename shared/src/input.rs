//! Checks on values that come from outside (API bodies, mapped webhook fields), with errors
//! that name the field.

use crate::domain::validate_key;
use crate::error::AppError;

pub fn email(field: &str, email: &str) -> Result<String, AppError> {
    let email = email.trim();
    if email_address::EmailAddress::is_valid(email) {
        Ok(email.to_string())
    } else {
        Err(AppError::invalid(field, "is not an email address"))
    }
}

pub fn name(field: &str, name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::invalid(field, "must be 1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// An optional key: blank means absent; present means a valid key.
pub fn optional_key(field: &str, key: Option<String>) -> Result<Option<String>, AppError> {
    let key = key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    if let Some(k) = &key {
        validate_key(k).map_err(|m| AppError::invalid(field, m))?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
