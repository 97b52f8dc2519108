//! `serial-verify` as a program: files, standard input, exit codes and what it prints.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{jwks, tamper, Key};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_serial-verify");

/// A file of this test's own under cargo's temporary directory for integration tests.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("serial-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serial-verify runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// The program reads the system clock: payloads valid from now on (the library's tests use
/// a fixed "now" instead).
fn live(mut p: Value) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    p["iat"] = json!(now - 5);
    p["exp"] = json!(now + 86_400);
    p
}

fn payload() -> Value {
    live(common::payload())
}

fn offline_payload() -> Value {
    live(common::offline_payload())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn a_good_answer_prints_its_facts_and_exits_0() {
    let key = Key::new("2026-03");
    let jwks_path = temp_file("good.jwks.json", &jwks(&[&key]));
    let signed = payload();
    let answer = json!({ "status": "active", "license": key.sign(&signed) }).to_string();
    let answer_path = temp_file("good.answer.json", &answer);
    let jwks_arg = jwks_path.to_str().unwrap();
    let at_file = format!("@{}", answer_path.display());
    let out = run(&["--jwks", jwks_arg, "--serial", "SKSN-WR4T-QD", "--nonce", "n-0123456789", &at_file], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "serial: SKSNWR4TQD\nsystem: SAE\nversion: 7.0\nusers: 3\nstatus: active\nvalid_until: null\n\
             next_payment_on: 2026-03-15\ncompany: Comercial Ruiz SA de CV\nnonce: n-0123456789\n\
             installation: null\niat: {}\nexp: {}\nkid: 2026-03\n",
            signed["iat"], signed["exp"]
        )
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn the_license_may_be_the_bare_jws_or_come_on_standard_input() {
    let key = Key::new("k");
    let jwks_path = temp_file("forms.jwks.json", &jwks(&[&key]));
    let jwks_arg = jwks_path.to_str().unwrap();
    let jws = key.sign(&offline_payload());
    let out = run(&["--jwks", jwks_arg, "--installation=inst-7f3a", &jws], None);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("installation: inst-7f3a\n"));
    // A license file on standard input.
    let file = json!({ "license": jws }).to_string();
    let out = run(&["--jwks", jwks_arg, "--installation", "inst-7f3a", "-"], Some(&file));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("serial: SKSNWR4TQD\n"));
    // The bare JWS on standard input, with a trailing newline.
    let out = run(&["--jwks", jwks_arg, "-"], Some(&format!("{jws}\n")));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

#[test]
fn a_refusal_is_one_line_on_stderr_and_exit_1() {
    let key = Key::new("k");
    let jwks_path = temp_file("refusals.jwks.json", &jwks(&[&key]));
    let jwks_arg = jwks_path.to_str().unwrap();
    let jws = key.sign(&payload());
    let cases: [(Vec<&str>, String, &str); 4] = [
        (vec!["--nonce", "other"], jws.clone(), "wrong_nonce"),
        (vec!["--serial", "0000000000"], jws.clone(), "wrong_serial"),
        (vec![], tamper(&jws, 2), "bad_signature"),
        (vec![], Key::new("stranger").sign(&payload()), "unknown_key"),
    ];
    for (options, license, code) in cases {
        let mut args = vec!["--jwks", jwks_arg];
        args.extend(options);
        args.push(&license);
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(1), "{code}");
        assert!(out.stdout.is_empty(), "{code}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("serial-verify: refused ({code}): ")), "{err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let key = Key::new("k");
    let jwks_path = temp_file("usage.jwks.json", &jwks(&[&key]));
    let jwks_arg = jwks_path.to_str().unwrap();
    let jws = key.sign(&payload());
    let missing = format!("@{}", jwks_path.with_extension("missing").display());
    for args in [
        vec![jws.as_str()],                             // no --jwks
        vec!["--jwks", jwks_arg],                       // no LICENSE
        vec!["--jwks", jwks_arg, &jws, &jws],           // two
        vec!["--jwks", jwks_arg, "--colour", &jws],     // unknown option
        vec!["--jwks", jwks_arg, &jws, "--nonce"],      // no value
        vec!["--jwks", "/nonexistent/jwks.json", &jws], // unreadable JWKS
        vec!["--jwks", jwks_arg, &missing],             // unreadable @file
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("usage: serial-verify"), "{args:?}");
    }
    let out = run(&["--help"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("usage: serial-verify"));
}
