//! The AWS SDK's HTTPS client in the Lambda functions. It trusts the Amazon Trust Services roots
//! built into the binary (`amazon_roots.pem`) instead of the SDK's default, which probes for the
//! system store, reads and parses it (over a hundred certificates) on the first request after a
//! cold start. AWS service endpoints chain to these roots; the CLI keeps the system store.

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};

/// Amazon Root CA 1 to 4 and Starfield Services Root CA G2, in PEM.
pub const AMAZON_ROOTS: &[u8] = include_bytes!("amazon_roots.pem");

/// The SDK's own rustls/aws-lc client, trusting only the roots given in PEM ([`AMAZON_ROOTS`]).
pub fn https_client(roots_pem: &[u8]) -> Result<SharedHttpClient, String> {
    let trust = TrustStore::empty().with_pem_certificate(roots_pem);
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https())
}

#[cfg(test)]
mod tests {
    use super::AMAZON_ROOTS;
    use rustls::pki_types::{pem::PemObject, CertificateDer};

    #[test]
    fn the_built_in_roots_are_five_trust_anchors() {
        let certs = CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("the PEM file parses");
        let mut roots = rustls::RootCertStore::empty();
        assert_eq!(roots.add_parsable_certificates(certs), (5, 0));
    }
}
