//! Checks shared by the providers' authenticity schemes: HTTP Basic credentials, timestamped
//! HMAC signatures and their replay window. HMAC itself is in [`crate::crypto::signature`].

use crate::crypto::signature::any_secret_matches_hex;
use crate::domain::program::BasicCredential;
use crate::error::AppError;
use axum::http::{header, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Signatures older (or, where the scheme says so, newer) than this are refused as replays.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A header's value as text; a missing header is `MissingCredentials`.
pub fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, AppError> {
    headers
        .get(name)
        .ok_or_else(|| AppError::MissingCredentials(format!("send the {name} header")))?
        .to_str()
        .map_err(|_| AppError::InvalidSignature)
}

/// Checks `Authorization: Basic ...` against any of the configured credentials. The password
/// may contain `:`; only the first one separates it from the user name.
pub fn verify_basic(headers: &HeaderMap, allowed: &[BasicCredential]) -> Result<(), AppError> {
    if allowed.is_empty() {
        return Err(AppError::Unauthorized(
            "no credentials are configured for this provider; set them with PATCH /v1/program"
                .into(),
        ));
    }
    let value = header_text(headers, header::AUTHORIZATION.as_str())?;
    let encoded = value
        .strip_prefix("Basic ")
        .ok_or_else(|| AppError::Unauthorized("expected HTTP Basic credentials".into()))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| AppError::Unauthorized("malformed Basic credentials".into()))?;
    let given = digest(&decoded);
    // Every credential is compared, so timing does not tell which one matched.
    let matched = allowed.iter().fold(subtle::Choice::from(0), |found, c| {
        let expected = digest(format!("{}:{}", c.username, c.password).as_bytes());
        found | expected.ct_eq(&given)
    });
    if bool::from(matched) {
        Ok(())
    } else {
        Err(AppError::Unauthorized("wrong user name or password".into()))
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Refuses a signature timestamp outside the replay window around `now` (both epoch seconds).
/// `future_too` also refuses timestamps from the future (Recurly); Stripe only checks the past.
pub fn check_timestamp(timestamp: i64, now: i64, future_too: bool) -> Result<(), AppError> {
    let age = now.saturating_sub(timestamp);
    if age > TOLERANCE_SECONDS || (future_too && -age > TOLERANCE_SECONDS) {
        return Err(AppError::StaleTimestamp);
    }
    Ok(())
}

/// Verifies a hex HMAC-SHA256 over `"{timestamp}.{body}"` (Stripe, Recurly): true when any
/// candidate matches under any secret.
pub fn timestamped_hmac_matches(
    secrets: &[String],
    timestamp: &str,
    body: &[u8],
    candidates: &[&str],
) -> bool {
    let parts: [&[u8]; 3] = [timestamp.as_bytes(), b".", body];
    candidates.iter().fold(false, |found, candidate| {
        any_secret_matches_hex(secrets, &parts, candidate) | found
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        headers
    }

    fn creds(pairs: &[(&str, &str)]) -> Vec<BasicCredential> {
        pairs
            .iter()
            .map(|(u, p)| BasicCredential {
                username: u.to_string(),
                password: p.to_string(),
            })
            .collect()
    }

    #[test]
    fn basic_auth_accepts_any_configured_pair_and_colons_in_passwords() {
        let allowed = creds(&[("old", "pw"), ("cb", "pa:ss")]);
        assert!(verify_basic(&basic("cb", "pa:ss"), &allowed).is_ok());
        assert!(verify_basic(&basic("old", "pw"), &allowed).is_ok());
        assert!(matches!(
            verify_basic(&basic("cb", "pa"), &allowed),
            Err(AppError::Unauthorized(_))
        ));
        assert!(matches!(
            verify_basic(&HeaderMap::new(), &allowed),
            Err(AppError::MissingCredentials(_))
        ));
        assert!(
            verify_basic(&basic("cb", "pa:ss"), &[]).is_err(),
            "nothing configured, nothing accepted"
        );
    }

    #[test]
    fn timestamps_outside_five_minutes_are_refused() {
        assert!(check_timestamp(1000, 1300, false).is_ok());
        assert!(matches!(
            check_timestamp(1000, 1301, false),
            Err(AppError::StaleTimestamp)
        ));
        assert!(
            check_timestamp(2000, 1000, false).is_ok(),
            "Stripe only checks the past"
        );
        assert!(check_timestamp(2000, 1000, true).is_err());
        assert!(check_timestamp(1300, 1000, true).is_ok());
    }

    #[test]
    fn stripe_and_recurly_vectors_verify() {
        let body = br#"{"id":"evt_test","object":"event"}"#;
        assert!(timestamped_hmac_matches(
            &["whsec_test_secret".into()],
            "1700000000",
            body,
            &["8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"],
        ));
        assert!(timestamped_hmac_matches(
            &["recurly_secret".into()],
            "1700000000000",
            body,
            &[
                "nothex",
                "1df57f1110e832792accc0c1d0e19e95df6ed2d1497e0b7f7766a7a6608b9d23"
            ],
        ));
        assert!(!timestamped_hmac_matches(
            &["whsec_other".into()],
            "1700000000",
            body,
            &["8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"]
        ));
    }
}
