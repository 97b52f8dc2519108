//! The roots the AWS clients trust, as one PEM bundle written once at build time: the
//! SDK's TLS settings take PEM only, and encoding a bundle at every cold start was a
//! measurable share of a function's start (BENCHMARKS.md, "Cold start").
//!
//! Only the five roots of Amazon Trust Services, taken from Mozilla's set
//! (`webpki-root-certs`): every AWS service endpoint chains to one of them, and they are
//! the five that Amazon Trust Services recommends a custom trust store holds
//! (<https://www.amazontrust.com/repository/>). Parsing these five on the first request
//! instead of Mozilla's 118 was a fifth of an event function's cold start, and a CA
//! outside them cannot vouch for an AWS endpoint.

use base64::Engine;

/// The subjects' common names, as they appear verbatim in the certificates' DER.
const AMAZON_TRUST_SERVICES_ROOTS: [&str; 5] = [
    "Amazon Root CA 1",
    "Amazon Root CA 2",
    "Amazon Root CA 3",
    "Amazon Root CA 4",
    "Starfield Services Root Certificate Authority - G2",
];

fn names(der: &[u8], name: &str) -> bool {
    der.windows(name.len()).any(|w| w == name.as_bytes())
}

fn main() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = Vec::with_capacity(AMAZON_TRUST_SERVICES_ROOTS.len() * 2048);
    for root in AMAZON_TRUST_SERVICES_ROOTS {
        // Exactly one certificate per root: a crate update that drops or doubles one
        // fails the build instead of shipping a trust store that cannot reach AWS.
        let found: Vec<_> =
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter(|c| names(c.as_ref(), root)).collect();
        assert_eq!(found.len(), 1, "webpki-root-certs holds {} certificates named {root:?}", found.len());
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in b64.encode(found[0].as_ref()).as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("roots.pem"), pem).expect("write the roots' PEM bundle");
    println!("cargo::rerun-if-changed=build.rs");
}
