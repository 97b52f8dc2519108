//! One line of an import file: its columns (`csv` + serde, by header name) and the checks
//! that need nothing but the line itself and the catalog. Every problem names its line and
//! column; a line may have several.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

use shared::domain::{BillingPeriod, Email, Plan, Serial, SerialFormats, SystemCode, Version};

/// The columns of an import file, in the order the export writes them.
pub const COLUMNS: [&str; 11] = [
    "email",
    "name",
    "company",
    "system",
    "version",
    "users",
    "plan",
    "billing_period",
    "next_payment_on",
    "activated_on",
    "serial",
];

/// Columns the export adds: the import reads the upgrade links and ignores `status`, which
/// is derived from the facts and the day, never stored.
pub const EXPORT_COLUMNS: [&str; 4] = ["status", "valid_until", "supersedes", "superseded_by"];

/// The serial columns: all empty on a line that brings an account without serials.
const SERIAL_COLUMNS: [&str; 8] =
    ["system", "version", "users", "plan", "billing_period", "next_payment_on", "activated_on", "serial"];

/// The most users one serial may have (as `subscription add`).
pub const MAX_USERS: u32 = 10_000;

/// A line as the CSV reader gives it, fields trimmed.
#[derive(Deserialize)]
struct Fields<'a> {
    email: &'a str,
    name: &'a str,
    company: &'a str,
    system: &'a str,
    version: &'a str,
    users: &'a str,
    plan: &'a str,
    billing_period: &'a str,
    next_payment_on: &'a str,
    activated_on: &'a str,
    serial: &'a str,
    #[serde(default)]
    valid_until: &'a str,
    #[serde(default)]
    supersedes: &'a str,
    #[serde(default)]
    superseded_by: &'a str,
}

/// What is wrong with one column of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    /// The column's header name; empty for a problem of the whole line.
    pub column: &'static str,
    pub message: String,
}

impl Problem {
    /// Where the column is in a file's line (problems are listed in that order).
    pub fn position(&self) -> usize {
        COLUMNS.iter().chain(EXPORT_COLUMNS.iter()).position(|c| *c == self.column).map_or(0, |i| i + 1)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
        }
    }
}

/// A serial's facts as the file gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub system: SystemCode,
    pub version: Version,
    pub users: u32,
    pub plan: Plan,
    pub billing_period: Option<BillingPeriod>,
    pub next_payment_on: Option<NaiveDate>,
    pub activated_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub supersedes: Option<Serial>,
    pub superseded_by: Option<Serial>,
}

/// A line that passed its own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub email: Email,
    pub name: String,
    pub company: String,
    /// `None`: a line that brings only the account.
    pub facts: Option<Facts>,
    /// `None`: the portal issues one.
    pub serial: Option<Serial>,
}

/// What the line checks need besides the line.
pub struct Rules<'a> {
    /// Each known system with its latest version.
    pub catalog: &'a HashMap<SystemCode, Version>,
    pub serials: &'a SerialFormats,
    pub today: NaiveDate,
}

/// The header's problems: columns missing, unknown or repeated (line 1).
pub fn check_header(header: &csv::StringRecord) -> Vec<Problem> {
    let mut problems = Vec::new();
    let at_line_1 = |message: String| Problem { line: 1, column: "", message };
    let names: Vec<&str> = header.iter().collect();
    let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| !names.contains(c)).collect();
    if !missing.is_empty() {
        problems.push(at_line_1(format!(
            "the header lacks the column(s) {}; an import file has the columns {}",
            missing.join(", "),
            COLUMNS.join(", ")
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if !COLUMNS.contains(name) && !EXPORT_COLUMNS.contains(name) {
            problems.push(at_line_1(format!("unknown column {name:?} in the header")));
        } else if names[..i].contains(name) {
            problems.push(at_line_1(format!("the column {name} appears twice in the header")));
        }
    }
    problems
}

/// A record the CSV reader could not read as a line of the file (wrong number of fields,
/// not UTF-8) as the line's problem.
pub fn unreadable(err: &csv::Error, header: &csv::StringRecord) -> Option<Problem> {
    let line = err.position().map_or(0, |p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header.get(err.field()).unwrap_or("?");
            format!("column {column} is not UTF-8 text")
        }
        _ => return None,
    };
    Some(Problem { line, column: "", message })
}

/// Reads and checks one line.
pub fn read(record: &csv::StringRecord, header: &csv::StringRecord, rules: &Rules) -> Result<Row, Vec<Problem>> {
    let line = record.position().map_or(0, |p| p.line());
    let fields: Fields = record
        .deserialize(Some(header))
        .map_err(|e| vec![Problem { line, column: "", message: format!("cannot be read: {e}") }])?;
    let mut problems = Vec::new();
    let mut bad = |column: &'static str, message: String| problems.push(Problem { line, column, message });

    let email =
        Email::parse(fields.email).map_err(|_| bad("email", format!("{:?} is not an e-mail address", fields.email)));
    let name = text(fields.name, "name").map_err(|m| bad("name", m));
    let company = text(fields.company, "company").map_err(|m| bad("company", m));
    let account_only = SERIAL_COLUMNS.iter().all(|c| field(&fields, c).is_empty())
        && [fields.valid_until, fields.supersedes, fields.superseded_by].iter().all(|v| v.is_empty());
    let facts = if account_only { Ok(None) } else { facts(&fields, rules, &mut bad).map(Some) };
    let serial = match fields.serial {
        "" => Ok(None),
        given => rules.serials.parse(given).map(Some).map_err(|e| bad("serial", format!("{given:?}: {e}"))),
    };
    if let (Ok(Some(facts)), Ok(serial)) = (&facts, &serial) {
        let linked = facts.supersedes.is_some() || facts.superseded_by.is_some();
        if linked && serial.is_none() {
            bad("serial", "a line with an upgrade link (supersedes, superseded_by) names its serial".into());
        }
        for (column, link) in [("supersedes", &facts.supersedes), ("superseded_by", &facts.superseded_by)] {
            if link.is_some() && link == serial {
                bad(column, "a serial cannot be its own upgrade".into());
            }
        }
    }
    match (email, name, company, facts, serial) {
        (Ok(email), Ok(name), Ok(company), Ok(facts), Ok(serial)) if problems.is_empty() => {
            Ok(Row { line, email, name, company, facts, serial })
        }
        _ => Err(problems),
    }
}

fn field<'a>(f: &Fields<'a>, column: &str) -> &'a str {
    match column {
        "system" => f.system,
        "version" => f.version,
        "users" => f.users,
        "plan" => f.plan,
        "billing_period" => f.billing_period,
        "next_payment_on" => f.next_payment_on,
        "activated_on" => f.activated_on,
        "serial" => f.serial,
        _ => "",
    }
}

fn text(value: &str, what: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("the {what} must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("the {what} must not contain control characters"));
    }
    Ok(value.to_string())
}

fn date(value: &str) -> Result<NaiveDate, String> {
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) if value.len() == 10 => Ok(d),
        _ => Err(format!("{value:?} is not a date like 2026-12-10")),
    }
}

fn optional_date(value: &str) -> Result<Option<NaiveDate>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        date(value).map(Some)
    }
}

/// The serial columns of a line that has a serial; problems go to `bad`.
fn facts(f: &Fields, rules: &Rules, bad: &mut impl FnMut(&'static str, String)) -> Result<Facts, ()> {
    let mut ok = true;
    let mut fail = |column: &'static str, message: String| {
        ok = false;
        bad(column, message)
    };
    let system = match SystemCode::parse(f.system) {
        Ok(code) if rules.catalog.contains_key(&code) => Some(code),
        Ok(code) => {
            fail("system", format!("unknown system {code}: add it first with `portal-admin product set`"));
            None
        }
        Err(e) => {
            fail("system", e.to_string());
            None
        }
    };
    let version = match Version::parse(f.version) {
        Ok(v) => {
            let latest = system.as_ref().and_then(|s| rules.catalog.get(s));
            match latest {
                Some(latest) if v > *latest => {
                    fail(
                        "version",
                        format!("{v} is newer than the catalog's latest version of {}, {latest}", f.system),
                    );
                    None
                }
                _ => Some(v),
            }
        }
        Err(e) => {
            fail("version", e.to_string());
            None
        }
    };
    let users = match f.users.parse::<u32>() {
        Ok(n) if (1..=MAX_USERS).contains(&n) => Some(n),
        _ => {
            fail("users", format!("{:?} is not a number of users from 1 to {MAX_USERS}", f.users));
            None
        }
    };
    let plan = Plan::parse(f.plan);
    if plan.is_none() {
        fail("plan", format!("{:?} is not a plan: subscription or license", f.plan));
    }
    let mut billing_period = None;
    let mut next_payment_on = None;
    match plan {
        Some(Plan::Subscription) => {
            match (f.billing_period, BillingPeriod::parse(f.billing_period)) {
                ("", _) => {
                    fail("billing_period", "a subscription has a billing period: monthly, semiannual or annual".into())
                }
                (_, Some(b)) => billing_period = Some(b),
                (other, None) => {
                    fail("billing_period", format!("{other:?} is not a billing period: monthly, semiannual or annual"))
                }
            }
            match f.next_payment_on {
                "" => fail("next_payment_on", "a subscription has a next payment date".into()),
                v => match date(v) {
                    Ok(d) => next_payment_on = Some(d),
                    Err(m) => fail("next_payment_on", m),
                },
            }
        }
        Some(Plan::License) => {
            if !f.billing_period.is_empty() {
                fail("billing_period", "a license is paid once: its billing period is empty".into());
            }
            if !f.next_payment_on.is_empty() {
                fail("next_payment_on", "a license is paid once: its next payment date is empty".into());
            }
        }
        None => {
            // The plan is wrong already; the other columns are still checked on their own.
            if !f.billing_period.is_empty() && BillingPeriod::parse(f.billing_period).is_none() {
                fail(
                    "billing_period",
                    format!("{:?} is not a billing period: monthly, semiannual or annual", f.billing_period),
                );
            }
            if let Err(m) = optional_date(f.next_payment_on) {
                fail("next_payment_on", m);
            }
        }
    }
    let activated_on = match optional_date(f.activated_on) {
        Ok(Some(d)) if d > rules.today => {
            fail("activated_on", format!("{d} is in the future"));
            None
        }
        Ok(d) => d,
        Err(m) => {
            fail("activated_on", m);
            None
        }
    };
    let valid_until = optional_date(f.valid_until).unwrap_or_else(|m| {
        fail("valid_until", m);
        None
    });
    let mut link = |column: &'static str, value: &str| -> Option<Serial> {
        if value.is_empty() {
            return None;
        }
        rules.serials.parse(value).map_err(|e| fail(column, format!("{value:?}: {e}"))).ok()
    };
    let supersedes = link("supersedes", f.supersedes);
    let superseded_by = link("superseded_by", f.superseded_by);
    if f.valid_until.is_empty() != f.superseded_by.is_empty() {
        fail(
            if f.valid_until.is_empty() { "valid_until" } else { "superseded_by" },
            "an upgraded serial has both superseded_by and valid_until (its last day of use)".into(),
        );
    }
    match (ok, system, version, users, plan) {
        (true, Some(system), Some(version), Some(users), Some(plan)) => Ok(Facts {
            system,
            version,
            users,
            plan,
            billing_period,
            next_payment_on,
            activated_on,
            valid_until,
            supersedes,
            superseded_by,
        }),
        _ => Err(()),
    }
}
