//! scripts/jose_check.py (joserfc, an off-the-shelf JOSE library) verifies what the library
//! verifies, with the JWKS alone, and refuses what it refuses. Needs .tools/venv with joserfc
//! (scripts/tools.sh): skipped with a note where it is missing, failed if so under CI.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{jwks, tamper, Key};
use serde_json::{json, Value};
use serial_verifier::{verify, Expect};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python, if it has joserfc.
fn python() -> Option<PathBuf> {
    let python = root().join(".tools/venv/bin/python");
    let ok = Command::new(&python).args(["-c", "import joserfc"]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(std::env::var_os("CI").is_none(), "{} has no joserfc: run scripts/tools.sh", python.display());
    eprintln!("note: skipped, {} has no joserfc (run scripts/tools.sh)", python.display());
    None
}

fn jose_check(python: &PathBuf, jwks: &str, license: &str) -> Output {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("jose-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, jwks).unwrap();
    let mut child = Command::new(python)
        .arg(root().join("scripts/jose_check.py"))
        .args(["--jwks", jwks_path.to_str().unwrap(), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(license.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn live(mut p: Value) -> Value {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    p["iat"] = json!(now - 5);
    p["exp"] = json!(now + 86_400);
    p
}

#[test]
fn joserfc_agrees_with_the_library() {
    let Some(python) = python() else { return };
    let old = Key::new("2026-01");
    let new = Key::new("2026-03");
    let set = jwks(&[&old, &new]);

    for (key, payload) in [(&old, live(common::payload())), (&new, live(common::offline_payload()))] {
        let jws = key.sign(&payload);
        assert!(verify(&jws, &set, &Expect::default(), SystemTime::now()).is_ok());
        let answer = json!({ "status": "active", "license": jws }).to_string();
        for input in [jws.clone(), answer] {
            let out = jose_check(&python, &set, &input);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            assert!(stderr.is_empty(), "{stderr}");
            let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(printed, payload);
        }
    }

    let good = new.sign(&live(common::payload()));
    let mut expired = live(common::payload());
    expired["exp"] = json!(expired["iat"].as_u64().unwrap() - 3_600);
    let mut foreign = live(common::payload());
    foreign["iss"] = json!("someone-else");
    let refused = [
        ("changed payload", tamper(&good, 1)),
        ("changed signature", tamper(&good, 2)),
        ("unknown kid", Key::new("stranger").sign(&live(common::payload()))),
        ("another key under a known kid", Key::new("x").sign_as("2026-03", &live(common::payload()))),
        ("expired", new.sign(&expired)),
        ("another issuer", new.sign(&foreign)),
    ];
    for (what, jws) in refused {
        assert!(verify(&jws, &set, &Expect::default(), SystemTime::now()).is_err(), "{what}");
        let out = jose_check(&python, &set, &jws);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(out.stdout.is_empty(), "{what}");
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
    }
}

/// The other way round: a license signed by joserfc (its own key, its own JSON) verifies
/// with the library, and its JWKS as joserfc writes it is read.
#[test]
fn the_library_verifies_what_joserfc_signs() {
    let Some(python) = python() else { return };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let program = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
key = OKPKey.generate_key("Ed25519", parameters={"kid": "py-1", "use": "sig", "alg": "EdDSA"})
claims = json.loads(sys.argv[1])
token = jwt.encode({"alg": "EdDSA", "kid": "py-1"}, claims, key, algorithms=["EdDSA"])
print(json.dumps({"jwks": KeySet([key]).as_dict(private=False), "license": token}))
"#;
    let mut payload = common::offline_payload();
    payload["iat"] = json!(now);
    payload["exp"] = json!(now + 600);
    let out = Command::new(&python).args(["-c", program, &payload.to_string()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expect = Expect { installation: Some("inst-7f3a".into()), ..Expect::default() };
    let facts = verify(made["license"].as_str().unwrap(), &made["jwks"].to_string(), &expect, SystemTime::now())
        .expect("joserfc's license verifies");
    assert_eq!((facts.kid.as_str(), facts.serial.as_str(), facts.exp), ("py-1", "SKSNWR4TQD", now + 600));
}
