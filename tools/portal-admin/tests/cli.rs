//! `portal-admin` run as an operator runs it, against DynamoDB Local. Each test has a
//! table of its own (`TABLE_NAME`); the AWS settings come from the environment. What the
//! commands wrote is checked through the store the functions read with.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{BillingMode, TimeToLiveStatus};
use chrono::NaiveDate;
use shared::domain::{Account, BillingPeriod, Credentials, Email, Plan, Serial, Subscription, SystemCode, Version};
use shared::store::table::TableDefinition;
use shared::store::{Accounts, CatalogReader, DynamoStore, Logins, SerialValidation, SubscriptionReader};
use shared::testing::hasher;

/// The store looked up by e-mail, as an operator names accounts.
trait ByEmail {
    async fn login_of(&self, email: &str) -> Option<Credentials>;
    async fn account_of(&self, email: &str) -> Option<Account>;
    async fn serials_of(&self, email: &str) -> Vec<Subscription>;
    async fn serial_of(&self, email: &str, serial: &Serial) -> Option<Subscription>;
}

impl ByEmail for DynamoStore {
    async fn login_of(&self, email: &str) -> Option<Credentials> {
        let email = Email::parse(email).ok()?;
        self.credentials(&email).await.unwrap()
    }

    async fn account_of(&self, email: &str) -> Option<Account> {
        let login = self.login_of(email).await?;
        self.account(&login.account).await.unwrap()
    }

    async fn serials_of(&self, email: &str) -> Vec<Subscription> {
        match self.login_of(email).await {
            Some(login) => self.subscriptions(&login.account).await.unwrap(),
            None => vec![],
        }
    }

    async fn serial_of(&self, email: &str, serial: &Serial) -> Option<Subscription> {
        let login = self.login_of(email).await?;
        self.subscription(&login.account, serial).await.unwrap()
    }
}

const PASSWORD: &str = "Comercial-2026";
const ANA: &str = "ana@example.com";
const LUIS: &str = "luis@example.com";
const DEMO_PASSWORD: &str = "portal-demo-2026";

static TABLES: AtomicU32 = AtomicU32::new(0);

/// The result of one run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self, what: &str) -> Run {
        assert_eq!(self.code, Some(0), "{what} failed: {}", self.stderr);
        self
    }

    /// Exits non-zero with exactly one line on stderr and nothing on stdout; returns that line.
    fn fails_with_one_line(&self, what: &str) -> &str {
        assert!(matches!(self.code, Some(c) if c != 0), "{what}: expected a failure, got {:?}", self.code);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: expected one line on stderr, got {:?}", self.stderr);
        assert!(!lines[0].trim().is_empty(), "{what}: the line says something");
        assert_eq!(self.stdout, "", "{what}: nothing on stdout");
        lines[0]
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// `portal-admin` on a table of its own.
struct Admin {
    table: String,
}

impl Admin {
    fn new() -> Admin {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let n = TABLES.fetch_add(1, Ordering::Relaxed);
        Admin { table: format!("portal-cli-{}-{n}-{nanos}", std::process::id()) }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal-admin"));
        cmd.args(args).env("TABLE_NAME", &self.table).env_remove("RUST_LOG");
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.command(args).stdin(Stdio::null()).output().expect("run portal-admin").into()
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start portal-admin");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().expect("run portal-admin").into()
    }

    /// The store the functions would use on this table.
    async fn store(&self) -> DynamoStore {
        let sdk = shared::aws::sdk_config().await;
        DynamoStore::new(shared::aws::dynamodb(&sdk), &self.table)
    }

    /// A terms file under the temporary directory, removed when the test ends.
    fn terms_file(&self, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("{}-terms.txt", self.table));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    fn add_account(&self, email: &str, password: &str) -> Run {
        self.run_with_stdin(
            &[
                "account",
                "add",
                "--email",
                email,
                "--name",
                "Ana Ruiz",
                "--company",
                "Comercial Ruiz SA de CV",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    }

    /// `init`, the SAE product and Ana's account.
    fn ready(&self) -> TempFile {
        self.run(&["init"]).ok("init");
        let terms = self.terms_file("1. Dejarás de usar la versión anterior.\n");
        self.set_sae(&terms, "8.0").ok("product set");
        self.add_account(ANA, PASSWORD).ok("account add");
        terms
    }

    fn set_sae(&self, terms: &TempFile, version: &str) -> Run {
        self.run(&[
            "product",
            "set",
            "--system",
            "SAE",
            "--name",
            "Aspel SAE",
            "--version",
            version,
            "--terms-version",
            "2022-10",
            "--terms-file",
            terms.path(),
        ])
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

/// `subscription add` for Ana: SAE 7.0, one user, monthly, with `extra` arguments.
fn sae_subscription<'a>(email: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "subscription",
        "add",
        "--email",
        email,
        "--system",
        "SAE",
        "--version",
        "7.0",
        "--users",
        "1",
        "--plan",
        "subscription",
        "--billing",
        "monthly",
        "--next-payment-on",
        "2026-12-10",
    ];
    args.extend_from_slice(extra);
    args
}

/// The serial `subscription add` printed: one line, the serial alone.
fn printed_serial(run: &Run) -> Serial {
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stdout: {:?}", run.stdout);
    assert_eq!(lines[0].len(), Serial::LEN, "the serial alone: {:?}", lines[0]);
    let serial = Serial::parse(lines[0]).unwrap_or_else(|e| panic!("{:?} is not a serial: {e}", lines[0]));
    assert_eq!(serial.as_str(), lines[0], "printed in canonical form");
    serial
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

// ------------------------------------------------------------------ the commands

#[tokio::test]
async fn init_creates_the_table_the_template_declares_and_a_second_init_says_it_exists() {
    let admin = Admin::new();
    let first = admin.run(&["init"]).ok("first init");
    assert!(first.stdout.contains(&format!("created table {}", admin.table)), "{}", first.stdout);
    let second = admin.run(&["init"]).ok("second init");
    assert!(second.stdout.contains("exists"), "the second init says the table exists: {}", second.stdout);
    assert!(!second.stdout.contains("created"), "{}", second.stdout);

    let def = TableDefinition::from_embedded_template().unwrap();
    let store = admin.store().await;
    let table = store.client().describe_table().table_name(&admin.table).send().await.unwrap().table.unwrap();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
        .collect();
    assert_eq!(keys, def.key_schema);
    let mut attributes: Vec<(String, String)> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().as_str().to_string()))
        .collect();
    attributes.sort();
    assert_eq!(attributes, def.attributes);
    let billing = table.billing_mode_summary().and_then(|b| b.billing_mode()).cloned();
    assert_eq!(billing, Some(BillingMode::PayPerRequest));
    assert!(table.global_secondary_indexes().is_empty() && table.local_secondary_indexes().is_empty());
    let ttl = store.client().describe_time_to_live().table_name(&admin.table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}

#[tokio::test]
async fn product_set_stores_the_product_with_its_terms_and_replaces_it() {
    let admin = Admin::new();
    admin.run(&["init"]).ok("init");
    let text = "1. A partir de que te entreguemos el número de serie, dejarás la versión anterior.\n2. Se generará un nuevo número de serie.\n";
    let terms = admin.terms_file(text);
    admin.set_sae(&terms, "8.0").ok("product set");
    let products = admin.store().await.products().await.unwrap();
    assert_eq!(products.len(), 1);
    let p = &products[0];
    assert_eq!((p.system.as_str(), p.name.as_str(), p.latest_version.as_str()), ("SAE", "Aspel SAE", "8.0"));
    assert_eq!(p.terms.version, "2022-10");
    assert_eq!(p.terms.text, text.trim(), "the terms are the file's text");

    admin.set_sae(&terms, "9.0").ok("product set again");
    let products = admin.store().await.products().await.unwrap();
    assert_eq!(products.len(), 1, "replaced, not added");
    assert_eq!(products[0].latest_version.as_str(), "9.0");
}

#[tokio::test]
async fn account_add_reads_the_password_from_stdin_and_normalises_the_email() {
    let admin = Admin::new();
    admin.run(&["init"]).ok("init");
    admin.add_account("  Ana@Example.COM ", PASSWORD).ok("account add");
    let store = admin.store().await;
    let account = store.account_of(ANA).await.expect("stored under the normalised e-mail");
    assert_eq!(account.name, "Ana Ruiz");
    assert_eq!(account.company, "Comercial Ruiz SA de CV");
    let login = store.login_of(ANA).await.expect("the login item");
    assert_eq!(login.account, account.id, "the e-mail points at the account");
    assert!(login.password_hash.as_deref().unwrap().starts_with("$argon2id$"), "{:?}", login.password_hash);
    assert!(
        hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()),
        "the password is stdin without its newline"
    );
    assert_eq!(login.password_epoch, 0, "a new login, never reset");
}

#[tokio::test]
async fn subscription_add_prints_only_the_new_serial_and_stores_it_with_its_claim() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let run = admin.run(&sae_subscription(ANA, &["--activated-on", "2022-02-10"])).ok("subscription add");
    let serial = printed_serial(&run);
    let store = admin.store().await;
    let expected = Subscription {
        serial: serial.clone(),
        account: store.account_of(ANA).await.unwrap().id,
        system: SystemCode::parse("SAE").unwrap(),
        version: Version::parse("7.0").unwrap(),
        users: 1,
        plan: Plan::Subscription,
        billing_period: Some(BillingPeriod::Monthly),
        activated_on: Some(date("2022-02-10")),
        next_payment_on: Some(date("2026-12-10")),
        valid_until: None,
        upgraded_from: None,
        superseded_by: None,
    };
    assert_eq!(store.serial_of(ANA, &serial).await, Some(expected));
    let (_, owner) = store.serial_with_account(&serial).await.unwrap().expect("the serial is claimed");
    assert_eq!(owner.email.as_str(), ANA);

    let license = admin
        .run(&[
            "subscription",
            "add",
            "--email",
            ANA,
            "--system",
            "SAE",
            "--version",
            "8.0",
            "--users",
            "3",
            "--plan",
            "license",
        ])
        .ok("license add");
    let license = store.serial_of(ANA, &printed_serial(&license)).await.unwrap();
    assert_eq!((license.plan, license.billing_period, license.next_payment_on), (Plan::License, None, None));
    assert_eq!(license.users, 3);

    let chosen = Serial::generate().unwrap();
    let typed = format!("{}-{}", &chosen.as_str()[..5], &chosen.as_str()[5..]).to_lowercase();
    let run = admin.run(&sae_subscription(ANA, &["--serial", &typed])).ok("subscription add --serial");
    assert_eq!(printed_serial(&run), chosen, "the given serial, in canonical form");
    assert_eq!(store.serials_of(ANA).await.len(), 3);
}

#[tokio::test]
async fn seed_demo_is_idempotent_and_prints_the_demo_login() {
    let admin = Admin::new();
    admin.run(&["init"]).ok("init");
    let store = admin.store().await;
    let mut serials = Vec::new();
    for round in ["first", "second"] {
        let run = admin.run(&["seed-demo"]).ok(&format!("{round} seed-demo"));
        let login = run.stdout.lines().find(|l| l.contains("demo login")).unwrap_or_else(|| panic!("{}", run.stdout));
        assert!(login.contains(ANA) && login.contains(DEMO_PASSWORD), "{round}: {login}");

        assert_eq!(store.products().await.unwrap().len(), 4, "{round}: SAE, NOI, COI, BANCO");
        let ana = store.login_of(ANA).await.expect("the demo account");
        assert!(
            hasher().verify(DEMO_PASSWORD, ana.password_hash.as_deref().unwrap()),
            "{round}: the printed login works"
        );
        assert!(store.account_of(LUIS).await.is_some());
        let mut now: Vec<Serial> = store.serials_of(ANA).await.into_iter().map(|s| s.serial).collect();
        now.extend(store.serials_of(LUIS).await.into_iter().map(|s| s.serial));
        now.sort();
        assert_eq!(now.len(), 5, "{round}: four serials for Ana, one for Luis");
        serials.push(now);
    }
    assert_eq!(serials[0], serials[1], "the second run added and changed nothing");
}

#[tokio::test]
async fn seed_demo_never_replaces_a_product_the_vendor_set() {
    let admin = Admin::new();
    let terms = admin.ready();
    admin.set_sae(&terms, "9.0").ok("product set SAE 9.0");
    let run = admin.run(&["seed-demo"]).ok("seed-demo");
    assert!(run.stdout.contains("product SAE exists already"), "{}", run.stdout);
    let products = admin.store().await.products().await.unwrap();
    let sae = products.iter().find(|p| p.system.as_str() == "SAE").unwrap();
    assert_eq!(sae.latest_version.as_str(), "9.0", "the vendor's product stands");
    assert!(sae.terms.text.contains("Dejarás de usar"), "with the vendor's terms");
}

#[tokio::test]
async fn seed_demo_refuses_a_table_that_is_not_local() {
    let admin = Admin::new();
    admin.run(&["init"]).ok("init");
    for remote in ["https://dynamodb.us-east-1.amazonaws.com", "http://10.1.2.3:8000"] {
        let run: Run = admin
            .command(&["seed-demo"])
            .env("AWS_ENDPOINT_URL_DYNAMODB", remote)
            .stdin(Stdio::null())
            .output()
            .expect("run portal-admin")
            .into();
        let line = run.fails_with_one_line("seed-demo against a remote table");
        assert!(line.contains(remote) && line.contains("--i-know-this-is-not-local"), "{line}");
    }
    assert_eq!(admin.store().await.products().await.unwrap(), vec![], "nothing written");
}

// ------------------------------------------------------------------ bad input

#[tokio::test]
async fn an_unknown_system_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let mut args = sae_subscription(ANA, &[]);
    args[5] = "XYZ";
    let run = admin.run(&args);
    assert!(run.fails_with_one_line("unknown system").contains("XYZ"), "{}", run.stderr);
    assert_eq!(admin.store().await.serials_of(ANA).await, vec![]);
}

#[tokio::test]
async fn a_bad_date_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let mut args = sae_subscription(ANA, &[]);
    args[15] = "2026-02-30";
    let run = admin.run(&args);
    assert!(run.fails_with_one_line("bad --next-payment-on").contains("2026-02-30"), "{}", run.stderr);
    let run = admin.run(&sae_subscription(ANA, &["--activated-on", "10/02/2022"]));
    assert!(run.fails_with_one_line("bad --activated-on").contains("10/02/2022"), "{}", run.stderr);
    assert_eq!(admin.store().await.serials_of(ANA).await, vec![]);
}

#[tokio::test]
async fn a_duplicate_serial_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    admin.add_account(LUIS, PASSWORD).ok("account add luis");
    let serial = printed_serial(&admin.run(&sae_subscription(ANA, &[])).ok("subscription add"));

    let run = admin.run(&sae_subscription(LUIS, &["--serial", serial.as_str()]));
    assert!(run.fails_with_one_line("duplicate serial").contains(serial.as_str()), "{}", run.stderr);
    let store = admin.store().await;
    assert_eq!(store.serials_of(LUIS).await, vec![], "nothing half-written");
    let (_, owner) = store.serial_with_account(&serial).await.unwrap().unwrap();
    assert_eq!(owner.email.as_str(), ANA, "the serial still belongs to its first owner");
    let run = admin.run(&sae_subscription(ANA, &["--serial", serial.as_str()]));
    run.fails_with_one_line("duplicate serial, same account");
    assert_eq!(store.serials_of(ANA).await.len(), 1);
}

#[tokio::test]
async fn a_missing_account_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let nobody = "nobody@example.com";
    let run = admin.run(&sae_subscription(nobody, &[]));
    assert!(run.fails_with_one_line("missing account").contains(nobody), "{}", run.stderr);
    let store = admin.store().await;
    assert_eq!(store.serials_of(nobody).await, vec![]);
    assert_eq!(store.account_of(nobody).await, None);
}

#[tokio::test]
async fn a_bad_email_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let run = admin.add_account("not-an-email", PASSWORD);
    assert!(run.fails_with_one_line("account add, bad e-mail").contains("not-an-email"), "{}", run.stderr);
    assert_eq!(admin.store().await.account_of("not-an-email").await, None);
    let run = admin.run(&sae_subscription("ana@", &[]));
    assert!(run.fails_with_one_line("subscription add, bad e-mail").contains("ana@"), "{}", run.stderr);
    assert_eq!(admin.store().await.serials_of(ANA).await, vec![]);
}

#[tokio::test]
async fn a_weak_password_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    admin.run(&["init"]).ok("init");
    let store = admin.store().await;
    for (email, password) in [(ANA, "corta"), (LUIS, LUIS), (ANA, "")] {
        let run = admin.add_account(email, password);
        assert!(run.fails_with_one_line("weak password").contains("password"), "{}", run.stderr);
        assert_eq!(store.account_of(email).await, None, "{password:?} created no account");
    }
}

#[tokio::test]
async fn a_license_with_billing_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let base = [
        "subscription",
        "add",
        "--email",
        ANA,
        "--system",
        "SAE",
        "--version",
        "8.0",
        "--users",
        "1",
        "--plan",
        "license",
    ];
    for extra in [&["--billing", "monthly"][..], &["--next-payment-on", "2026-12-10"][..]] {
        let run = admin.run(&[&base[..], extra].concat());
        assert!(run.fails_with_one_line("license with billing").contains(extra[0]), "{}", run.stderr);
    }
    assert_eq!(admin.store().await.serials_of(ANA).await, vec![]);
}

#[tokio::test]
async fn a_malformed_argument_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let mut bad_plan = sae_subscription(ANA, &[]);
    bad_plan[11] = "rental";
    let mut bad_users = sae_subscription(ANA, &[]);
    bad_users[9] = "many";
    let missing: Vec<&str> = sae_subscription(ANA, &[]).into_iter().filter(|a| *a != "--email" && *a != ANA).collect();
    for (what, args, culprit) in
        [("--plan rental", bad_plan, "rental"), ("--users many", bad_users, "many"), ("no --email", missing, "--email")]
    {
        let run = admin.run(&args);
        assert!(run.fails_with_one_line(what).contains(culprit), "{what}: {}", run.stderr);
    }
    assert_eq!(admin.store().await.serials_of(ANA).await, vec![]);
}

#[tokio::test]
async fn a_bad_product_is_one_line_and_writes_nothing() {
    let admin = Admin::new();
    admin.run(&["init"]).ok("init");
    let terms = admin.terms_file("Términos");
    let set = |system: &str, version: &str, file: &str| {
        admin.run(&[
            "product",
            "set",
            "--system",
            system,
            "--name",
            "Aspel SAE",
            "--version",
            version,
            "--terms-version",
            "2022-10",
            "--terms-file",
            file,
        ])
    };
    let missing = std::env::temp_dir().join(format!("{}-missing.txt", admin.table));
    for (what, run, culprit) in [
        ("lower-case system", set("sae", "8.0", terms.path()), "sae"),
        ("bad version", set("SAE", "ocho", terms.path()), "ocho"),
        ("missing terms file", set("SAE", "8.0", missing.to_str().unwrap()), "missing.txt"),
    ] {
        assert!(run.fails_with_one_line(what).contains(culprit), "{what}: {}", run.stderr);
    }
    assert_eq!(admin.store().await.products().await.unwrap(), vec![]);
}

#[test]
fn a_command_before_init_is_one_line() {
    let admin = Admin::new();
    let run = admin.run(&sae_subscription(ANA, &[]));
    let line = run.fails_with_one_line("no table yet");
    assert!(line.contains("portal-admin init"), "{line}");
}

#[test]
fn an_unreachable_dynamodb_is_one_line_within_seconds() {
    let admin = Admin::new();
    let started = Instant::now();
    let run: Run =
        admin.command(&["init"]).env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1").output().unwrap().into();
    let line = run.fails_with_one_line("unreachable DynamoDB");
    assert!(line.contains("DynamoDB did not answer") && line.contains("AWS_ENDPOINT_URL_DYNAMODB"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn help_is_printed_on_stdout_as_usual() {
    let run = Admin::new().run(&["subscription", "add", "--help"]).ok("--help");
    assert!(run.stdout.contains("Usage: portal-admin subscription add"), "{}", run.stdout);
    assert!(run.stdout.contains("--next-payment-on"), "{}", run.stdout);
}

#[tokio::test]
async fn payment_record_applies_a_payment_once_publishes_it_and_refuses_a_bad_one_in_one_line() {
    let admin = Admin::new();
    let _terms = admin.ready();
    let serial = printed_serial(&admin.run(&sae_subscription(ANA, &[])).ok("subscription add"));
    let sdk = shared::aws::sdk_config().await;
    let bus = shared::testing::TestBus::create(&sdk, &admin.table).await;
    let record = |payment_id: &str, paid_through: &str| -> Run {
        admin
            .command(&[
                "payment",
                "record",
                "--serial",
                serial.as_str(),
                "--paid-through",
                paid_through,
                "--payment-id",
                payment_id,
            ])
            .env("EVENT_BUS_NAME", &bus.name)
            .stdin(Stdio::null())
            .output()
            .expect("run portal-admin")
            .into()
    };

    let run = record("P-1", "2027-01-10").ok("payment record");
    assert_eq!(run.stdout, format!("payment P-1 applied to {serial}: next payment on 2027-01-10\n"));
    let store = admin.store().await;
    assert_eq!(store.serial_of(ANA, &serial).await.unwrap().next_payment_on, Some(date("2027-01-10")));
    let again = record("P-1", "2027-01-10").ok("the same payment again");
    assert!(again.stdout.contains("applied before"), "{}", again.stdout);
    let published = bus.published_of("PaymentApplied").await;
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["detail"]["payment_id"], "P-1");

    let line = record("P-2", "10/01/2027").fails_with_one_line("a date not in YYYY-MM-DD").to_string();
    assert!(line.contains("paid_through"), "{line}");
    assert_eq!(store.serial_of(ANA, &serial).await.unwrap().next_payment_on, Some(date("2027-01-10")));
}
