//! Random credentials (API keys, webhook secrets) and how API keys are stored: as SHA-256
//! digests, so a leaked table does not leak working keys.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// `prefix` followed by `bytes` random bytes in hex.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    format!("{prefix}{}", hex::encode(buf))
}

pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token("phk_", 32);
        assert!(a.starts_with("phk_") && a.len() == 4 + 64);
        assert_ne!(a, random_token("phk_", 32));
        assert_eq!(hash_api_key("k"), hash_api_key("k"));
        assert_ne!(hash_api_key("k"), hash_api_key("K"));
    }
}
