//! The compiled-in root certificates (`webpki-root-certs`) as one PEM bundle, written once
//! at build time: the SDK's TLS settings take PEM only, and encoding the bundle at every
//! cold start was a measurable share of a function's start (BENCHMARKS.md, "Cold start").

use base64::Engine;

fn main() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = Vec::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2048);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in b64.encode(cert.as_ref()).as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("roots.pem"), pem).expect("write the roots' PEM bundle");
    println!("cargo::rerun-if-changed=build.rs");
}
