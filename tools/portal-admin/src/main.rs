//! `portal-admin`: the operators' command line. Creates the table exactly as
//! `template.yaml` declares it and loads products, accounts and serials through the same
//! store the functions use. Every error is one line on stderr and a non-zero exit.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Days, NaiveDate, Utc};
use clap::{Parser, Subcommand, ValueEnum};

mod account_show;
mod export;
mod import;
mod invite;
mod mail;
mod payment;

use shared::config::Settings;
use shared::domain::password::{check_strength_with, PasswordHasherArgon};
use shared::domain::{
    Account, AccountId, BillingPeriod, Email, Plan, Product, Serial, Subscription, SystemCode, Terms, Version,
};
use shared::license::{read_ring, write_ring, KeyRing};
use shared::store::table::TableDefinition;
use shared::store::{AccountWriter, CatalogReader, CatalogWriter, DynamoStore, Logins, SerialWriter, StoreError};

#[derive(Parser)]
#[command(name = "portal-admin", version, about = "Load and inspect the serial portal's data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table as template.yaml declares it (does nothing if it exists)
    Init,
    /// Products of the catalog
    Product {
        #[command(subcommand)]
        command: ProductCommand,
    },
    /// Customer accounts
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Serials: subscriptions and licenses
    Subscription {
        #[command(subcommand)]
        command: SubscriptionCommand,
    },
    /// The keys that sign validation answers (Secrets Manager, SIGNING_KEYS_SECRET)
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Payments of the billing system, entered by hand
    Payment {
        #[command(subcommand)]
        command: PaymentCommand,
    },
    /// The outbox: mails waiting to be sent, and the mails and events given up on
    Mail {
        #[command(subcommand)]
        command: mail::MailCommand,
    },
    /// Mail accounts that have no password yet (imported) a link to set it, valid 7 days
    Invite(invite::InviteArgs),
    /// Load accounts and serials from a CSV file of the older system (checks every line
    /// first; writes nothing if one is wrong; a second run writes nothing new)
    Import(import::ImportArgs),
    /// Every serial with its account and status, as CSV (the import's columns and more)
    Export(export::ExportArgs),
    /// Load the demo data `make dev` uses and print the demo login (local endpoints only)
    SeedDemo {
        /// Load it into a table that is not on this machine (a demo account with a known
        /// password in a real table is a way in)
        #[arg(long)]
        i_know_this_is_not_local: bool,
    },
}

#[derive(Subcommand)]
enum PaymentCommand {
    /// Apply a payment (as record-payment applies billing's PaymentRecorded): once per
    /// payment id, to the serial in force, never moving a date backwards
    Record {
        #[arg(long)]
        serial: String,
        /// Paid up to and including this day (YYYY-MM-DD)
        #[arg(long)]
        paid_through: String,
        /// Billing's id of the payment: recording it again does nothing
        #[arg(long)]
        payment_id: String,
        /// Put billing's PaymentRecorded event on the bus (EVENT_BUS_NAME) instead, for
        /// the deployed record-payment to apply
        #[arg(long)]
        via_bus: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key and make it the signer; the old ones stay published until
    /// no answer they signed can still stand
    Rotate {
        /// Only create the first key if there is none (what `make dev` runs)
        #[arg(long)]
        if_missing: bool,
    },
}

#[derive(Subcommand)]
enum ProductCommand {
    /// Create or replace a product: its latest version and the current upgrade terms
    Set {
        #[arg(long)]
        system: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        version: String,
        #[arg(long)]
        terms_version: String,
        #[arg(long)]
        terms_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; the password is read from standard input
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        company: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Everything about one account: profile, serials with their statuses, sessions,
    /// accepted terms and the mails the outbox holds (no secrets)
    Show(account_show::ShowArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanArg {
    Subscription,
    License,
}

#[derive(Clone, Copy, ValueEnum)]
enum BillingArg {
    Monthly,
    Semiannual,
    Annual,
}

#[derive(Subcommand)]
enum SubscriptionCommand {
    /// Add a serial to an account; prints the serial alone
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        system: String,
        #[arg(long)]
        version: String,
        #[arg(long)]
        users: u32,
        #[arg(long, value_enum)]
        plan: PlanArg,
        #[arg(long, value_enum)]
        billing: Option<BillingArg>,
        #[arg(long)]
        next_payment_on: Option<String>,
        #[arg(long)]
        activated_on: Option<String>,
        #[arg(long)]
        serial: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error("{0}")]
    Input(String),
    #[error("{}", store_message(.0))]
    Store(#[from] StoreError),
    #[error("signing keys: {0} (check SIGNING_KEYS_SECRET, credentials and AWS_ENDPOINT_URL_SECRETS_MANAGER)")]
    Keys(String),
    #[error("event bus: {0} (check EVENT_BUS_NAME, credentials and AWS_ENDPOINT_URL_EVENTBRIDGE)")]
    Bus(String),
}

type Result<T> = std::result::Result<T, AdminError>;

/// Store failures in the operator's terms: what to check or run next.
fn store_message(e: &StoreError) -> String {
    let table = std::env::var("TABLE_NAME").unwrap_or_default();
    match e {
        StoreError::NoTable(_) => format!("table {table} does not exist: create it with `portal-admin init`"),
        StoreError::Unavailable(why) => {
            format!("DynamoDB did not answer ({why}); check AWS_REGION, credentials and AWS_ENDPOINT_URL_DYNAMODB")
        }
        other => other.to_string(),
    }
}

fn input(msg: impl Into<String>) -> AdminError {
    AdminError::Input(msg.into())
}

#[tokio::main]
async fn main() -> ExitCode {
    // Its stdout is the operator's: no metric lines among the answers.
    shared::metrics::off();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help, --version and a missing command print clap's text as usual.
        Err(e) if !e.use_stderr() || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            e.exit()
        }
        Err(e) => {
            eprintln!("portal-admin: {}", usage_error(&e));
            return ExitCode::from(2);
        }
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portal-admin: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// A command-line error in one line: clap's message without the usage and hint after it.
fn usage_error(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let message: Vec<&str> =
        text.lines().take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information")).collect();
    format!("{} (see --help)", one_line(&message.join(" ")).trim_start_matches("error: "))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn run(cli: Cli) -> Result<()> {
    let settings = Settings::from_env().map_err(|e| input(e.to_string()))?;
    let sdk = shared::aws::sdk_config_with_default_chains().await;
    let client = shared::aws::dynamodb(&sdk);
    let store = DynamoStore::new(client.clone(), &settings.table_name);
    match cli.command {
        Command::Init => {
            let def = TableDefinition::from_embedded_template().map_err(input)?;
            let created = def.create(&client, &settings.table_name).await?;
            if created {
                println!("created table {}", settings.table_name);
            } else {
                println!("table {} exists already", settings.table_name);
            }
        }
        Command::Product { command: ProductCommand::Set { system, name, version, terms_version, terms_file } } => {
            let terms_text = std::fs::read_to_string(&terms_file)
                .map_err(|e| input(format!("cannot read terms file {}: {e}", terms_file.display())))?;
            let product = product(&system, &name, &version, &terms_version, &terms_text)?;
            store.put_product(&product).await?;
            println!("product {} ({}) latest version {}", product.system, product.name, product.latest_version);
        }
        Command::Account { command: AccountCommand::Add { email, name, company, password_stdin: _ } } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| input(format!("cannot read the password: {e}")))?;
            let password = password.trim_end_matches(['\n', '\r']);
            let (account, hash) = account(&email, &name, &company, password)?;
            store.add_account(&account, &hash).await.map_err(|e| match e {
                StoreError::Conflict(_) => input(format!("an account with e-mail {} exists already", account.email)),
                other => other.into(),
            })?;
            println!("account {} added", account.email);
        }
        Command::Subscription {
            command:
                SubscriptionCommand::Add {
                    email,
                    system,
                    version,
                    users,
                    plan,
                    billing,
                    next_payment_on,
                    activated_on,
                    serial,
                },
        } => {
            let email = Email::parse(&email).map_err(|_| input(format!("{email:?} is not an e-mail address")))?;
            let system = SystemCode::parse(&system).map_err(|e| input(e.to_string()))?;
            let catalog = store.products().await?;
            if !catalog.iter().any(|p| p.system == system) {
                return Err(input(format!("unknown system {system}: add it first with `portal-admin product set`")));
            }
            let Some(login) = store.credentials(&email).await? else {
                return Err(input(format!(
                    "no account with e-mail {email}: add it first with `portal-admin account add`"
                )));
            };
            let sub = subscription(SubscriptionInput {
                account: &login.account,
                system: &system,
                version: &version,
                users,
                plan,
                billing,
                next_payment_on: next_payment_on.as_deref(),
                activated_on: activated_on.as_deref(),
                serial: serial.as_deref(),
            })?;
            store.add_subscription(&sub).await.map_err(|e| match e {
                StoreError::Conflict(why) => input(why),
                other => other.into(),
            })?;
            println!("{}", sub.serial);
        }
        Command::Keys { command: KeysCommand::Rotate { if_missing } } => {
            let secret = std::env::var("SIGNING_KEYS_SECRET")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| input("set SIGNING_KEYS_SECRET to the secret that holds the signing keys"))?;
            let client = shared::aws::secretsmanager(&sdk);
            let unavailable = |e: shared::license::KeySourceError| AdminError::Keys(e.to_string());
            let now = Utc::now();
            let ring = match read_ring(&client, &secret).await.map_err(unavailable)? {
                Some(ring) if if_missing => {
                    println!("signing key {} in force; left as it is", ring.signer);
                    return Ok(());
                }
                Some(mut ring) => {
                    ring.rotate(now).map_err(|e| AdminError::Keys(e.to_string()))?;
                    ring
                }
                None => KeyRing::new(now).map_err(|e| AdminError::Keys(e.to_string()))?,
            };
            write_ring(&client, &secret, &ring).await.map_err(unavailable)?;
            let published: Vec<&str> = ring.keys.iter().map(|k| k.kid.as_str()).collect();
            println!("signing key {} in force; published: {}", ring.signer, published.join(", "));
        }
        Command::Payment { command: PaymentCommand::Record { serial, paid_through, payment_id, via_bus } } => {
            payment::record(&store, &settings, &sdk, (&serial, &paid_through, &payment_id), via_bus).await?
        }
        Command::Mail { command } => mail::run(command, &store, &sdk).await?,
        Command::Invite(args) => invite::run(args, &store, &sdk).await?,
        Command::Account { command: AccountCommand::Show(args) } => account_show::run(args, &store, &settings).await?,
        Command::Import(args) => import::run(&store, &settings, args).await?,
        Command::Export(args) => export::run(&store, &settings, args).await?,
        Command::SeedDemo { i_know_this_is_not_local } => {
            let endpoint = dynamodb_endpoint();
            if !i_know_this_is_not_local && !endpoint.as_deref().is_some_and(is_local) {
                return Err(input(format!(
                    "seed-demo writes a demo account with a published password: refused for {} \
                     (set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB, or pass --i-know-this-is-not-local)",
                    endpoint.as_deref().unwrap_or("AWS itself (no endpoint set)")
                )));
            }
            seed_demo(&store, settings.today(Utc::now())).await?
        }
    }
    Ok(())
}

fn product(system: &str, name: &str, version: &str, terms_version: &str, terms_text: &str) -> Result<Product> {
    let system = SystemCode::parse(system).map_err(|e| input(format!("system: {e}, such as SAE")))?;
    if name.trim().is_empty() || terms_version.trim().is_empty() || terms_text.trim().is_empty() {
        return Err(input("name, terms version and terms text must not be empty"));
    }
    Ok(Product {
        system,
        name: name.trim().to_string(),
        latest_version: Version::parse(version).map_err(|e| input(e.to_string()))?,
        terms: Terms { version: terms_version.trim().to_string(), text: terms_text.trim().to_string() },
    })
}

/// A new account and its password's hash.
fn account(email: &str, name: &str, company: &str, password: &str) -> Result<(Account, String)> {
    let email = Email::parse(email).map_err(|_| input(format!("{email:?} is not an e-mail address")))?;
    if name.trim().is_empty() || company.trim().is_empty() {
        return Err(input("name and company must not be empty"));
    }
    check_strength_with(password, &email, &[name, company]).map_err(|e| input(e.to_string()))?;
    let hasher = PasswordHasherArgon::new().map_err(|e| input(e.to_string()))?;
    let account = Account {
        id: AccountId::generate().map_err(|e| input(e.to_string()))?,
        email,
        name: name.trim().to_string(),
        company: company.trim().to_string(),
    };
    Ok((account, hasher.hash(password).map_err(|e| input(e.to_string()))?))
}

struct SubscriptionInput<'a> {
    account: &'a AccountId,
    system: &'a SystemCode,
    version: &'a str,
    users: u32,
    plan: PlanArg,
    billing: Option<BillingArg>,
    next_payment_on: Option<&'a str>,
    activated_on: Option<&'a str>,
    serial: Option<&'a str>,
}

fn date(name: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| input(format!("--{name} {s:?} is not a date like 2026-12-10")))
}

fn subscription(i: SubscriptionInput<'_>) -> Result<Subscription> {
    if i.users == 0 || i.users > 10_000 {
        return Err(input("--users must be between 1 and 10000"));
    }
    let (plan, billing_period, next_payment_on) = match i.plan {
        PlanArg::Subscription => {
            let billing = i.billing.ok_or_else(|| input("a subscription needs --billing monthly|semiannual|annual"))?;
            let next = i.next_payment_on.ok_or_else(|| input("a subscription needs --next-payment-on YYYY-MM-DD"))?;
            let billing = match billing {
                BillingArg::Monthly => BillingPeriod::Monthly,
                BillingArg::Semiannual => BillingPeriod::Semiannual,
                BillingArg::Annual => BillingPeriod::Annual,
            };
            (Plan::Subscription, Some(billing), Some(date("next-payment-on", next)?))
        }
        PlanArg::License => {
            if i.billing.is_some() || i.next_payment_on.is_some() {
                return Err(input("a license is paid once: it takes no --billing nor --next-payment-on"));
            }
            (Plan::License, None, None)
        }
    };
    let serial = match i.serial {
        Some(s) => Serial::parse(s).map_err(|e| input(format!("--serial: {e}")))?,
        None => Serial::generate().map_err(|e| input(e.to_string()))?,
    };
    Ok(Subscription {
        serial,
        account: i.account.clone(),
        system: i.system.clone(),
        version: Version::parse(i.version).map_err(|e| input(e.to_string()))?,
        users: i.users,
        plan,
        billing_period,
        activated_on: i.activated_on.map(|d| date("activated-on", d)).transpose()?,
        next_payment_on,
        valid_until: None,
        upgraded_from: None,
        superseded_by: None,
    })
}

pub const DEMO_EMAIL: &str = "ana@example.com";
pub const DEMO_PASSWORD: &str = "portal-demo-2026";
const DEMO_TERMS: &str = include_str!("../demo-terms.txt");

/// system, version, users, plan, billing, next payment, activation
type DemoSerial = (&'static str, &'static str, u32, PlanArg, Option<BillingArg>, Option<NaiveDate>, Option<NaiveDate>);

/// The DynamoDB endpoint the SDK will use, as the standard settings give it.
fn dynamodb_endpoint() -> Option<String> {
    ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// An endpoint on this machine: loopback only.
fn is_local(endpoint: &str) -> bool {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost" || host == "::1" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The demo customer with one serial in each situation, dated from today so the demo
/// never goes stale. Idempotent: an existing demo account is left as it is, and so is
/// a product the catalog has (a vendor's own terms are never replaced by the demo's).
async fn seed_demo(store: &DynamoStore, today: NaiveDate) -> Result<()> {
    for (system, name, version) in [
        ("SAE", "Aspel SAE", "8.0"),
        ("NOI", "Aspel NOI", "11.0"),
        ("COI", "Aspel COI", "10.0"),
        ("BANCO", "Aspel BANCO", "6.0"),
    ] {
        if !store.add_product(&product(system, name, version, "2022-10", DEMO_TERMS)?).await? {
            println!("product {system} exists already; left as it is");
        }
    }
    let days = |n: i64| -> NaiveDate {
        if n >= 0 {
            today.checked_add_days(Days::new(n as u64)).unwrap_or(today)
        } else {
            today.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(today)
        }
    };
    let demo = [
        (DEMO_EMAIL, "Ana Ruiz", "Comercial Ruiz SA de CV"),
        ("luis@example.com", "Luis Pérez", "Distribuidora Pérez y Asociados SC"),
    ];
    for (email, name, company) in demo {
        let email_key = Email::parse(email).map_err(|e| input(e.to_string()))?;
        if store.credentials(&email_key).await?.is_some() {
            println!("demo account {email} exists already; left as it is");
            continue;
        }
        let (holder, hash) = account(email, name, company, DEMO_PASSWORD)?;
        let serials: Vec<DemoSerial> = if email == DEMO_EMAIL {
            vec![
                ("SAE", "7.0", 1, PlanArg::Subscription, Some(BillingArg::Monthly), Some(days(13)), Some(days(-600))),
                ("NOI", "11.0", 3, PlanArg::Subscription, Some(BillingArg::Annual), Some(days(200)), Some(days(-165))),
                ("COI", "10.0", 2, PlanArg::License, None, None, Some(days(-900))),
                (
                    "BANCO",
                    "5.0",
                    1,
                    PlanArg::Subscription,
                    Some(BillingArg::Semiannual),
                    Some(days(-20)),
                    Some(days(-400)),
                ),
            ]
        } else {
            vec![("SAE", "7.0", 5, PlanArg::Subscription, Some(BillingArg::Annual), Some(days(90)), Some(days(-275)))]
        };
        let mut subs = Vec::new();
        for (system, version, users, plan, billing, next, activated) in serials {
            let next = next.map(|d| d.to_string());
            let activated = activated.map(|d| d.to_string());
            let system = SystemCode::parse(system).map_err(|e| input(e.to_string()))?;
            let sub = subscription(SubscriptionInput {
                account: &holder.id,
                system: &system,
                version,
                users,
                plan,
                billing,
                next_payment_on: next.as_deref(),
                activated_on: activated.as_deref(),
                serial: None,
            })?;
            subs.push(sub);
        }
        // The account and its serials together, so a failed run leaves nothing half-seeded.
        store.add_account_with_subscriptions(&holder, &hash, &subs).await?;
        println!("demo account {email} added");
    }
    println!("demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_local;

    #[test]
    fn only_loopback_endpoints_are_local() {
        for local in ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000", "http://127.0.0.2:8000"] {
            assert!(is_local(local), "{local}");
        }
        for remote in [
            "https://dynamodb.us-east-1.amazonaws.com",
            "http://10.0.0.5:8000",
            "http://127.0.0.1.example.com:8000",
            "http://localhost.evil.example",
        ] {
            assert!(!is_local(remote), "{remote}");
        }
    }
}
