//! `portal-admin import` and `export` run as an operator runs them, against DynamoDB
//! Local: a file with bad lines (each named, nothing written), the corrected file (all
//! written), the same again (nothing written), an import stopped half way and finished by
//! the next run, and export then import into an empty table.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Days, Utc};
use shared::domain::{Email, Plan, Serial, SerialStatus};
use shared::store::{
    keys, AccountDirectory, Accounts, DynamoStore, Logins, SerialValidation, SubscriptionReader, DIRECTORY_SHARDS,
};
use shared::testing::{legacy_serial, LEGACY_PATTERN};

static TABLES: AtomicU32 = AtomicU32::new(0);

const HEADER: &str = "email,name,company,system,version,users,plan,billing_period,next_payment_on,activated_on,serial";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self, what: &str) -> Run {
        assert_eq!(self.code, Some(0), "{what} failed: {}\n{}", self.stderr, self.stdout);
        self
    }
}

/// `portal-admin` on a table of its own, with files under the temporary directory.
struct Admin {
    table: String,
}

impl Admin {
    fn new() -> Admin {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let n = TABLES.fetch_add(1, Ordering::Relaxed);
        Admin { table: format!("portal-import-{}-{n}-{nanos}", std::process::id()) }
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_portal-admin"))
            .args(args)
            .env("TABLE_NAME", &self.table)
            .env_remove("RUST_LOG")
            .env_remove("LEGACY_SERIAL_PATTERN")
            .stdin(Stdio::null())
            .output()
            .expect("run portal-admin");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("{}-{name}", self.table))
    }

    fn file(&self, name: &str, lines: &[String]) -> TempFile {
        let path = self.path(name);
        std::fs::write(&path, format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
        TempFile(path)
    }

    fn import(&self, file: &TempFile, extra: &[&str]) -> Run {
        let mut args = vec!["import", file.path(), "--legacy-serials", LEGACY_PATTERN];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `init` and the catalog's SAE (latest 8.0) and NOI (latest 11.0).
    fn ready(&self) {
        self.run(&["init"]).ok("init");
        let terms = TempFile(self.path("terms.txt"));
        std::fs::write(&terms.0, "1. Dejarás de usar la versión anterior.\n").unwrap();
        for (system, name, version) in [("SAE", "Aspel SAE", "8.0"), ("NOI", "Aspel NOI", "11.0")] {
            self.run(&[
                "product",
                "set",
                "--system",
                system,
                "--name",
                name,
                "--version",
                version,
                "--terms-version",
                "2022-10",
                "--terms-file",
                terms.path(),
            ])
            .ok("product set");
        }
    }

    async fn store(&self) -> DynamoStore {
        let sdk = shared::aws::sdk_config().await;
        DynamoStore::new(shared::aws::dynamodb(&sdk), &self.table)
    }
}

struct TempFile(PathBuf);

impl TempFile {
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Every account id in the directory.
async fn directory(store: &DynamoStore) -> Vec<shared::domain::AccountId> {
    let mut all = Vec::new();
    for shard in 0..DIRECTORY_SHARDS as u8 {
        let mut after = None;
        loop {
            let (ids, next) = store.directory_page(shard, after.as_ref()).await.unwrap();
            all.extend(ids);
            match next {
                Some(id) => after = Some(id),
                None => break,
            }
        }
    }
    all
}

/// How many items one partition holds (a Query, as `invite --all-pending` reads it).
async fn partition_size(store: &DynamoStore, pk: &str) -> usize {
    let out = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .send()
        .await
        .unwrap();
    out.items.unwrap_or_default().len()
}

/// Serials per e-mail, as the table has them.
async fn serials_by_email(
    store: &DynamoStore,
    emails: &[String],
) -> BTreeMap<String, Vec<shared::domain::Subscription>> {
    let mut out = BTreeMap::new();
    for email in emails {
        let Some(login) = store.credentials(&Email::parse(email).unwrap()).await.unwrap() else { continue };
        out.insert(email.clone(), store.subscriptions(&login.account).await.unwrap());
    }
    out
}

/// The lines of `email` that bring a serial.
fn serial_lines(lines: &[String], email: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(&format!("{email},")) && !l.ends_with(",,,,,,,,")).count()
}

fn day(days_from_today: i64) -> String {
    let today = Utc::now().date_naive();
    let d = if days_from_today >= 0 {
        today.checked_add_days(Days::new(days_from_today as u64))
    } else {
        today.checked_sub_days(Days::new(days_from_today.unsigned_abs()))
    };
    d.unwrap().to_string()
}

/// A customer base: account `i` has an SAE 7.0 monthly subscription (serial issued by the
/// import); every third also an NOI licence with a portal serial; every fourth an SAE 8.0
/// annual subscription with a legacy serial. The first account has two identical NOI
/// licences without serials; the last one comes without any serial.
struct Base {
    lines: Vec<String>,
    emails: Vec<String>,
    /// E-mail, serial and its line for the serials the file names.
    given: Vec<(String, Serial)>,
    serials: usize,
}

fn customer_base(accounts: usize) -> Base {
    let mut base = Base { lines: Vec::new(), emails: Vec::new(), given: Vec::new(), serials: 0 };
    for i in 0..accounts {
        let email = format!("cliente{i:04}@example.com");
        let who = format!("{email},Cliente {i:04},Comercial {i:04} SA de CV");
        base.emails.push(email.clone());
        if i == accounts - 1 {
            base.lines.push(format!("{who},,,,,,,,"));
            continue;
        }
        base.lines.push(format!("{who},SAE,7.0,1,subscription,monthly,{},{},", day(10 + i as i64), day(-400)));
        base.serials += 1;
        if i % 3 == 0 {
            let serial = Serial::generate().unwrap();
            base.lines.push(format!("{who},NOI,11.0,3,license,,,{},{serial}", day(-30)));
            base.given.push((email.clone(), serial));
            base.serials += 1;
        }
        if i % 4 == 0 {
            let serial = legacy_serial(i as u32);
            base.lines.push(format!(
                "{who},SAE,8.0,2,subscription,annual,{},,{}",
                day(200),
                serial.as_str().to_lowercase()
            ));
            base.given.push((email.clone(), serial));
            base.serials += 1;
        }
        if i == 0 {
            for _ in 0..2 {
                base.lines.push(format!("{who},NOI,10.0,1,license,,,,"));
                base.serials += 1;
            }
        }
    }
    base
}

#[tokio::test]
async fn bad_lines_are_each_named_and_nothing_written_then_the_corrected_file_imports_once() {
    let admin = Admin::new();
    admin.ready();
    let base = customer_base(16);
    let taken = base.given[0].1.clone();
    let mistyped = {
        let s = Serial::generate().unwrap().to_string();
        let last = s.chars().last().unwrap();
        format!("{}{}", &s[..9], if last == '0' { '1' } else { '0' })
    };
    let who = |n: u32| format!("extra{n}@example.com,Extra {n},Extra {n} SA");
    let sub = "subscription,monthly";
    let next = day(30);
    // Each bad line with what is wrong (the column) and its corrected form.
    let cases: Vec<(String, &str, String)> = vec![
        (
            format!("extra1@,Extra 1,Extra 1 SA,SAE,7.0,1,{sub},{next},,"),
            "email",
            format!("{},SAE,7.0,1,{sub},{next},,", who(1)),
        ),
        (format!("{},XYZ,7.0,1,{sub},{next},,", who(2)), "system", format!("{},SAE,7.0,1,{sub},{next},,", who(2))),
        (format!("{},SAE,7.x,1,{sub},{next},,", who(3)), "version", format!("{},SAE,7.0,1,{sub},{next},,", who(3))),
        (format!("{},SAE,9.0,1,{sub},{next},,", who(4)), "version", format!("{},SAE,8.0,1,{sub},{next},,", who(4))),
        (format!("{},SAE,7.0,0,{sub},{next},,", who(5)), "users", format!("{},SAE,7.0,1,{sub},{next},,", who(5))),
        (format!("{},SAE,7.0,1,rent,monthly,{next},,", who(6)), "plan", format!("{},SAE,7.0,1,{sub},{next},,", who(6))),
        (
            format!("{},SAE,7.0,1,subscription,,{next},,", who(7)),
            "billing_period",
            format!("{},SAE,7.0,1,{sub},{next},,", who(7)),
        ),
        (
            format!("{},NOI,11.0,1,license,,{next},,", who(8)),
            "next_payment_on",
            format!("{},NOI,11.0,1,license,,,,", who(8)),
        ),
        (
            format!("{},SAE,7.0,1,{sub},{next},2024-02-30,", who(9)),
            "activated_on",
            format!("{},SAE,7.0,1,{sub},{next},2024-02-28,", who(9)),
        ),
        (
            format!("{},SAE,7.0,1,{sub},{next},,{mistyped}", who(10)),
            "serial",
            format!("{},SAE,7.0,1,{sub},{next},,", who(10)),
        ),
        (
            format!("{},SAE,7.0,1,{sub},{next},,{taken}", who(11)),
            "serial",
            format!("{},SAE,7.0,1,{sub},{next},,", who(11)),
        ),
        (
            format!("{},SAE,7.0,1,{sub},{next},,OLD-12", who(12)),
            "serial",
            format!("{},SAE,7.0,1,{sub},{next},,OLD-00000999", who(12)),
        ),
        (
            format!("cliente0001@example.com,Cliente 0001,Otra SA,SAE,7.0,1,{sub},{next},,"),
            "company",
            format!("cliente0001@example.com,Cliente 0001,Comercial 0001 SA de CV,SAE,7.0,1,{sub},{next},,"),
        ),
        (format!("{},SAE,7.0", who(14)), "", format!("{},SAE,7.0,1,{sub},{next},,", who(14))),
    ];
    let mut bad_file = base.lines.clone();
    bad_file.extend(cases.iter().map(|c| c.0.clone()));
    let bad = admin.file("bad.csv", &bad_file);
    let run = admin.import(&bad, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    for (i, (_, column, _)) in cases.iter().enumerate() {
        // Line 1 is the header.
        let line = base.lines.len() + i + 2;
        let at = if column.is_empty() { format!("line {line}: ") } else { format!("line {line}, column {column}: ") };
        let named: Vec<&str> = run.stderr.lines().filter(|l| l.contains(&at)).collect();
        assert_eq!(named.len(), 1, "line {line} ({column}) is named once:\n{}", run.stderr);
    }
    let problems = run.stderr.lines().filter(|l| l.contains(": line ")).count();
    assert_eq!(problems, cases.len(), "one problem per bad line, none on the good ones:\n{}", run.stderr);
    assert!(run.stderr.lines().last().unwrap().ends_with("nothing was written"), "{}", run.stderr);

    let store = admin.store().await;
    assert!(directory(&store).await.is_empty(), "no account was written");
    assert_eq!(partition_size(&store, "INVITATION").await, 0);
    for (email, serial) in &base.given {
        assert!(store.credentials(&Email::parse(email).unwrap()).await.unwrap().is_none(), "{email}");
        assert!(store.serial_with_account(serial).await.unwrap().is_none(), "{serial}");
    }

    // The corrected file: every line written.
    let mut fixed_lines = base.lines.clone();
    fixed_lines.extend(cases.iter().map(|c| c.2.clone()));
    let fixed = admin.file("fixed.csv", &fixed_lines);
    let dry = admin.import(&fixed, &["--dry-run"]).ok("dry run");
    assert!(dry.stdout.starts_with("dry run:"), "{}", dry.stdout);
    assert!(directory(&store).await.is_empty(), "a dry run writes nothing");

    let accounts = base.emails.len() + 13; // extra1..extra14 but 13 is not used; cliente0001 is not new
    let serials = base.serials + cases.len();
    let run = admin.import(&fixed, &[]).ok("import");
    let summary = format!("{accounts} new account(s), {serials} new serial(s)");
    assert!(run.stdout.contains(&summary), "{summary} in {}", run.stdout);
    assert_eq!(directory(&store).await.len(), accounts);
    assert_eq!(partition_size(&store, "INVITATION").await, accounts, "every new account awaits its invitation");

    let table = serials_by_email(&store, &base.emails).await;
    assert_eq!(table.len(), base.emails.len());
    for (i, email) in base.emails.iter().enumerate() {
        assert_eq!(table[email].len(), serial_lines(&fixed_lines, email), "{email}");
        let login = store.credentials(&Email::parse(email).unwrap()).await.unwrap().unwrap();
        assert!(!login.has_password(), "an imported account has no password");
        let pending = store.raw_item(&keys::pending_invitation(&login.account)).await.unwrap().expect("its invitation");
        assert_eq!(pending["email"], AttributeValue::S(email.clone()));
        let profile = store.account(&login.account).await.unwrap().unwrap();
        assert_eq!(profile.company, format!("Comercial {i:04} SA de CV"));
    }
    let first = &table["cliente0000@example.com"];
    let licences: Vec<&Serial> = first.iter().filter(|s| s.version.as_str() == "10.0").map(|s| &s.serial).collect();
    assert_eq!(licences.len(), 2, "two identical lines are two serials");
    assert_ne!(licences[0], licences[1]);
    let monthly = first.iter().find(|s| s.version.as_str() == "7.0").unwrap();
    assert_eq!(
        (monthly.plan, monthly.users, monthly.next_payment_on.unwrap().to_string()),
        (Plan::Subscription, 1, day(10))
    );
    assert_eq!(monthly.activated_on.unwrap().to_string(), day(-400));
    assert!(!monthly.serial.is_legacy(), "an issued serial is a portal serial");
    for (email, serial) in &base.given {
        let (sub, owner) = store.serial_with_account(serial).await.unwrap().expect("the named serial");
        assert_eq!(owner.email.as_str(), email);
        assert_eq!(sub.serial.is_legacy(), serial.as_str().starts_with("OLD-"));
    }
    // A validation finds a legacy serial's facts and company in its claim, as for any serial.
    let legacy = legacy_serial(0);
    let facts = store.validation_facts(&legacy, "203.0.113.1", Utc::now()).await.unwrap().expect("the claim");
    assert_eq!(
        (facts.company.as_str(), facts.subscription.status(Utc::now().date_naive())),
        ("Comercial 0000 SA de CV", SerialStatus::Active)
    );

    // The same file again: nothing to write, nothing written.
    let again = admin.import(&fixed, &[]).ok("second import");
    assert!(again.stdout.starts_with("nothing to write"), "{}", again.stdout);
    assert_eq!(serials_by_email(&store, &base.emails).await, table);
    assert_eq!(directory(&store).await.len(), accounts);
}

#[tokio::test]
async fn an_import_stopped_half_way_finishes_with_exact_counts_when_run_again() {
    let admin = Admin::new();
    admin.ready();
    let base = customer_base(400);
    let file = admin.file("base.csv", &base.lines);
    let store = admin.store().await;

    // Stopped among the accounts (25 to a transaction), then among the serials (50 to one).
    let run = admin.import(&file, &["--stop-after", "2"]);
    assert_eq!(run.code, Some(3), "{}\n{}", run.stderr, run.stdout);
    let some = directory(&store).await.len();
    assert!((50..400).contains(&some), "{some} accounts written before the stop");
    let accounts_left = (400 - some).div_ceil(25);
    let run = admin.import(&file, &["--stop-after", &(accounts_left + 3).to_string()]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(directory(&store).await.len(), 400, "the second run wrote the other accounts");
    let written: usize = serials_by_email(&store, &base.emails).await.values().map(Vec::len).sum();
    assert!(written > 0 && written < base.serials, "{written} of {} serials written before the stop", base.serials);

    let run = admin.import(&file, &[]).ok("the run that finishes");
    let summary = format!("0 new account(s), {} new serial(s)", base.serials - written);
    assert!(run.stdout.contains(&summary), "{summary} in {}", run.stdout);
    let before = format!("{} account(s) and {written} serial(s) were in the table already", base.emails.len());
    assert!(run.stdout.contains(&before), "{before} in {}", run.stdout);
    let table = serials_by_email(&store, &base.emails).await;
    let total: usize = table.values().map(Vec::len).sum();
    assert_eq!(total, base.serials, "every serial once: the issued ones came out the same in every run");
    assert_eq!(directory(&store).await.len(), base.emails.len());
    assert_eq!(partition_size(&store, "INVITATION").await, base.emails.len());
    for email in &base.emails {
        assert_eq!(table.get(email).map_or(0, Vec::len), serial_lines(&base.lines, email), "{email}");
    }
    let again = admin.import(&file, &[]).ok("once more");
    assert!(again.stdout.starts_with("nothing to write"), "{}", again.stdout);
}

#[tokio::test]
async fn export_then_import_into_an_empty_table_gives_the_same_data() {
    let source = Admin::new();
    source.ready();
    let empty = source.run(&["export"]).ok("export of an empty table");
    assert_eq!(
        empty.stdout.lines().collect::<Vec<_>>(),
        [format!("{HEADER},status,valid_until,supersedes,superseded_by")]
    );

    let mut base = customer_base(12);
    // An upgrade the older system made: a legacy serial superseded by a portal serial.
    let old = legacy_serial(5000);
    let new = Serial::generate().unwrap();
    let who = "upgrader@example.com,Uriel Upgrade,Upgrade SA";
    base.lines.push(format!("{who},SAE,7.0,1,subscription,monthly,{},{},{old}", day(20), day(-100)));
    base.lines.push(format!("{who},SAE,8.0,1,subscription,monthly,{},,{new}", day(20)));
    let mut with_links = vec![format!("{HEADER},valid_until,supersedes,superseded_by")];
    for (i, line) in base.lines.iter().enumerate() {
        let links = match i {
            _ if i == base.lines.len() - 2 => format!(",{},,{new}", day(20)),
            _ if i == base.lines.len() - 1 => format!(",,{old},"),
            _ => ",,,".to_string(),
        };
        with_links.push(format!("{line}{links}"));
    }
    let file = TempFile(source.path("links.csv"));
    std::fs::write(&file.0, with_links.join("\n")).unwrap();
    source.import(&file, &[]).ok("import with upgrade links");
    let exported = TempFile(source.path("export.csv"));
    let run = source.run(&["export", "--out", exported.path()]).ok("export");
    assert!(run.stdout.contains(&format!("{} serial(s)", base.serials + 2)), "{}", run.stdout);

    let target = Admin::new();
    target.ready();
    target.import(&exported, &[]).ok("import of the export");
    let again = TempFile(target.path("export.csv"));
    target.run(&["export", "--out", again.path()]).ok("export again");
    let lines = |f: &TempFile| {
        let text = std::fs::read_to_string(&f.0).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let header = lines.remove(0);
        lines.sort();
        (header, lines)
    };
    let (first, second) = (lines(&exported), lines(&again));
    assert_eq!(first.1.len(), base.serials + 2 + 1, "a line per serial, and one for the account without serials");
    assert_eq!(first, second, "the same accounts and serials, links and statuses");
    let superseded = first.1.iter().find(|l| l.contains(old.as_str()) && l.starts_with("upgrader@")).unwrap();
    assert!(superseded.contains(",superseded,"), "{superseded}");

    let store = target.store().await;
    let (sub, _) = store.serial_with_account(&old).await.unwrap().unwrap();
    assert_eq!(sub.superseded_by, Some(new.clone()));
    let (successor, _) = store.serial_with_account(&new).await.unwrap().unwrap();
    assert_eq!(successor.upgraded_from, Some(old));
}
