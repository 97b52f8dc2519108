//! TOTP codes computed by another implementation than the portal's: Python's pyotp
//! (`scripts/totp_code.py`, in the tools' venv), standing for an authenticator app. A test
//! that logs in with one of these shows that the portal agrees with the apps, not just
//! with itself.

use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, Utc};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The code an app that scanned `otpauth_uri` shows at `at`.
pub fn app_code(otpauth_uri: &str, at: DateTime<Utc>) -> String {
    let python = root().join(".tools/venv/bin/python");
    let out = Command::new(&python)
        .arg(root().join("scripts/totp_code.py"))
        .arg("--uri")
        .arg(otpauth_uri)
        .arg(at.timestamp().to_string())
        .output()
        .unwrap_or_else(|e| panic!("run {} (scripts/tools.sh installs it): {e}", python.display()));
    assert!(out.status.success(), "totp_code.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(code.len(), 6, "a 6-digit code: {code:?}");
    code
}
