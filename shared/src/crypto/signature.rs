//! HMAC-SHA256 signing and constant-time verification, shared by every scheme that uses it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    mac(key, parts).finalize().into_bytes().into()
}

/// Whether `tag` is the HMAC-SHA256 of `parts` under `key`, compared in constant time.
pub fn hmac_sha256_matches(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    mac(key, parts).verify_slice(tag).is_ok()
}

/// Whether a hex-encoded tag (either case) matches under any of the secrets (rotation).
pub fn any_secret_matches_hex(secrets: &[String], parts: &[&[u8]], hex_tag: &str) -> bool {
    let Ok(tag) = hex::decode(hex_tag.trim()) else {
        return false;
    };
    // Every secret is tried, so timing does not reveal which one matched.
    secrets.iter().fold(false, |found, secret| {
        hmac_sha256_matches(secret.as_bytes(), parts, &tag) | found
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    #[test]
    fn matches_the_rfc_4231_vector() {
        let tag = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verification_accepts_any_current_secret_and_rejects_others() {
        let secrets = vec!["old".to_string(), "new".to_string()];
        let tag = hex::encode(hmac_sha256(b"new", &[b"body"]));
        assert!(any_secret_matches_hex(&secrets, &[b"body"], &tag));
        assert!(any_secret_matches_hex(
            &secrets,
            &[b"body"],
            &tag.to_uppercase()
        ));
        assert!(!any_secret_matches_hex(&secrets, &[b"body!"], &tag));
        assert!(!any_secret_matches_hex(&["other".into()], &[b"body"], &tag));
        assert!(!any_secret_matches_hex(&secrets, &[b"body"], "zz"));
        assert!(!any_secret_matches_hex(&secrets, &[b"body"], &tag[..10]));
        assert!(!any_secret_matches_hex(&[], &[b"body"], &tag));
    }
}
