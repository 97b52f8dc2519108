//! `serial-verify`: verifies a signed answer or license file of the serial portal against a
//! JWKS, prints its facts (exit 0) or why it is refused (one line on stderr, exit 1).
//! Usage errors, unreadable files included, exit 2.

use std::io::Read;
use std::process::ExitCode;
use std::time::SystemTime;

use serial_verifier::{license_of, Expect, Facts, Jwks};

const USAGE: &str = "\
usage: serial-verify --jwks FILE [--serial S] [--nonce N] [--installation I] LICENSE

LICENSE is the JWS itself, @FILE, or - (standard input); it may also be a whole
validation answer or license file (JSON with a \"license\" field).
Prints the signed facts, one `key: value` a line, and exits 0; or prints why the
license is refused, one line on standard error, and exits 1. Usage errors exit 2.";

struct Args {
    jwks: String,
    expect: Expect,
    license: String,
}

enum Parsed {
    Run(Args),
    Help,
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(why) => return usage_error(&why),
    };
    let jwks = match std::fs::read_to_string(&args.jwks) {
        Ok(text) => text,
        Err(e) => return usage_error(&format!("cannot read the JWKS {}: {e}", args.jwks)),
    };
    let text = match read_license(&args.license) {
        Ok(text) => text,
        Err(why) => return usage_error(&why),
    };
    let verified =
        license_of(&text).and_then(|license| Jwks::parse(&jwks)?.verify(&license, &args.expect, SystemTime::now()));
    match verified {
        Ok(facts) => {
            print!("{}", render(&facts));
            ExitCode::SUCCESS
        }
        Err(refusal) => {
            eprintln!("serial-verify: refused ({}): {}", refusal.code(), one_line(&refusal.to_string()));
            ExitCode::from(1)
        }
    }
}

fn usage_error(why: &str) -> ExitCode {
    eprintln!("serial-verify: {}\n{USAGE}", one_line(why));
    ExitCode::from(2)
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let (mut jwks, mut license) = (None, None);
    let mut expect = Expect::default();
    let mut options_done = false;
    while let Some(arg) = argv.next() {
        if options_done || arg == "-" || !arg.starts_with('-') {
            if license.replace(arg).is_some() {
                return Err("more than one LICENSE".into());
            }
            continue;
        }
        if arg == "--" {
            options_done = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let slot = match name.as_str() {
            "--jwks" => &mut jwks,
            "--serial" => &mut expect.serial,
            "--nonce" => &mut expect.nonce,
            "--installation" => &mut expect.installation,
            _ => return Err(format!("unknown option {name}")),
        };
        let value = match inline.or_else(|| argv.next()) {
            Some(value) => value,
            None => return Err(format!("{name} needs a value")),
        };
        if slot.replace(value).is_some() {
            return Err(format!("{name} given twice"));
        }
    }
    let jwks = jwks.ok_or("--jwks FILE is required")?;
    let license = license.ok_or("LICENSE is required")?;
    Ok(Parsed::Run(Args { jwks, expect, license }))
}

fn read_license(arg: &str) -> Result<String, String> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(text)
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
    } else {
        Ok(arg.to_string())
    }
}

fn render(facts: &Facts) -> String {
    let opt = |v: &Option<String>| v.as_deref().map_or("null".to_string(), one_line);
    let date = |d: &Option<serial_verifier::Date>| d.map_or("null".to_string(), |d| d.to_string());
    let lines = [
        ("serial", one_line(&facts.serial)),
        ("system", one_line(&facts.system)),
        ("version", one_line(&facts.version)),
        ("users", facts.users.to_string()),
        ("status", facts.status.to_string()),
        ("valid_until", date(&facts.valid_until)),
        ("next_payment_on", date(&facts.next_payment_on)),
        ("company", one_line(&facts.company)),
        ("nonce", opt(&facts.nonce)),
        ("installation", opt(&facts.installation)),
        ("iat", facts.iat.to_string()),
        ("exp", facts.exp.to_string()),
        ("kid", one_line(&facts.kid)),
    ];
    lines.iter().map(|(key, value)| format!("{key}: {value}\n")).collect()
}

/// The text itself, or JSON-quoted when it holds a line break or another control character,
/// so that every fact stays on its line.
fn one_line(s: &str) -> String {
    if s.chars().any(char::is_control) {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}
