//! `portal-admin export [--out FILE.csv]`: every serial with its account, as CSV with the
//! import's columns, then `status` (today's, derived), `valid_until`, `supersedes` and
//! `superseded_by` (the upgrade links), so that importing the file into an empty table
//! gives the same accounts and serials. An account without serials is one line with the
//! serial columns empty. Streamed: the account directory is read a page at a time
//! (Queries, no Scan), each account with one Query, a few at once, in directory order.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use serde::Serialize;
use tokio::task::JoinHandle;

use shared::config::Settings;
use shared::domain::{Account, Subscription};
use shared::store::{AccountDirectory, DynamoStore, StoreResult, DIRECTORY_SHARDS};

use crate::{input, AdminError, Result};

/// Accounts read at once.
const IN_FLIGHT: usize = 16;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Write the CSV to this file (standard output if not given); it appears complete or
    /// not at all
    #[arg(long, value_name = "FILE.csv")]
    out: Option<PathBuf>,
}

/// One line of the export, in the import's column order.
#[derive(Serialize)]
struct ExportLine<'a> {
    email: &'a str,
    name: &'a str,
    company: &'a str,
    system: &'a str,
    version: &'a str,
    users: String,
    plan: &'a str,
    billing_period: &'a str,
    next_payment_on: String,
    activated_on: String,
    serial: &'a str,
    status: &'a str,
    valid_until: String,
    supersedes: &'a str,
    superseded_by: &'a str,
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn line<'a>(account: &'a Account, sub: Option<&'a Subscription>, today: chrono::NaiveDate) -> ExportLine<'a> {
    let base = ExportLine {
        email: account.email.as_str(),
        name: &account.name,
        company: &account.company,
        system: "",
        version: "",
        users: String::new(),
        plan: "",
        billing_period: "",
        next_payment_on: String::new(),
        activated_on: String::new(),
        serial: "",
        status: "",
        valid_until: String::new(),
        supersedes: "",
        superseded_by: "",
    };
    let Some(s) = sub else { return base };
    ExportLine {
        system: s.system.as_str(),
        version: s.version.as_str(),
        users: s.users.to_string(),
        plan: s.plan.as_str(),
        billing_period: s.billing_period.map(|b| b.as_str()).unwrap_or_default(),
        next_payment_on: date(s.next_payment_on),
        activated_on: date(s.activated_on),
        serial: s.serial.as_str(),
        status: s.status(today).as_str(),
        valid_until: date(s.valid_until),
        supersedes: s.upgraded_from.as_ref().map_or("", |x| x.as_str()),
        superseded_by: s.superseded_by.as_ref().map_or("", |x| x.as_str()),
        ..base
    }
}

type Fetch = JoinHandle<StoreResult<Option<(Account, Vec<Subscription>)>>>;

pub async fn run(store: &DynamoStore, settings: &Settings, args: ExportArgs) -> Result<()> {
    let today = settings.today(Utc::now());
    // A file is written under a temporary name and renamed when complete.
    let (sink, partial): (Box<dyn Write>, Option<PathBuf>) = match &args.out {
        Some(path) => {
            let partial = path.with_extension("csv.partial");
            let file = std::fs::File::create(&partial)
                .map_err(|e| input(format!("cannot write {}: {e}", partial.display())))?;
            (Box::new(std::io::BufWriter::new(file)), Some(partial))
        }
        None => (Box::new(std::io::BufWriter::new(std::io::stdout().lock())), None),
    };
    // The header is written by hand, so that an empty table still gives one.
    let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(sink);
    let written = export_all(store, today, &mut out).await;
    let flushed = out.flush().map_err(|e| input(format!("cannot write the export: {e}")));
    let (accounts, serials) = match (written, flushed) {
        (Ok(n), Ok(())) => n,
        (Err(e), _) | (_, Err(e)) => {
            if let Some(partial) = &partial {
                let _ = std::fs::remove_file(partial);
            }
            return Err(e);
        }
    };
    drop(out);
    match (&args.out, &partial) {
        (Some(path), Some(partial)) => {
            std::fs::rename(partial, path).map_err(|e| input(format!("cannot write {}: {e}", path.display())))?;
            println!("exported {serials} serial(s) of {accounts} account(s) to {}", path.display());
        }
        _ => eprintln!("portal-admin: exported {serials} serial(s) of {accounts} account(s)"),
    }
    Ok(())
}

/// Writes every account's lines; the numbers of accounts and serials written.
async fn export_all<W: Write>(
    store: &DynamoStore,
    today: chrono::NaiveDate,
    out: &mut csv::Writer<W>,
) -> Result<(u64, u64)> {
    let header: Vec<&str> =
        crate::import::COLUMNS.iter().chain(crate::import::EXPORT_COLUMNS.iter()).copied().collect();
    out.write_record(&header).map_err(csv_error)?;
    let (mut accounts, mut serials) = (0u64, 0u64);
    let mut fetching: VecDeque<Fetch> = VecDeque::new();
    let mut emit = |found: Option<(Account, Vec<Subscription>)>, out: &mut csv::Writer<W>| -> Result<()> {
        let Some((account, subs)) = found else { return Ok(()) };
        accounts += 1;
        if subs.is_empty() {
            out.serialize(line(&account, None, today)).map_err(csv_error)?;
        }
        for sub in &subs {
            serials += 1;
            out.serialize(line(&account, Some(sub), today)).map_err(csv_error)?;
        }
        Ok(())
    };
    for shard in 0..DIRECTORY_SHARDS as u8 {
        let mut after = None;
        loop {
            let (ids, next) = store.directory_page(shard, after.as_ref()).await?;
            for id in ids {
                let store = store.clone();
                fetching.push_back(tokio::spawn(async move { store.account_and_serials(&id).await }));
                if fetching.len() >= IN_FLIGHT {
                    let found = join(fetching.pop_front()).await?;
                    emit(found, out)?;
                }
            }
            match next {
                Some(id) => after = Some(id),
                None => break,
            }
        }
    }
    while let Some(fetch) = fetching.pop_front() {
        let found = join(Some(fetch)).await?;
        emit(found, out)?;
    }
    Ok((accounts, serials))
}

async fn join(fetch: Option<Fetch>) -> Result<Option<(Account, Vec<Subscription>)>> {
    match fetch {
        Some(handle) => {
            handle.await.map_err(|e| input(format!("reading an account failed: {e}")))?.map_err(AdminError::Store)
        }
        None => Ok(None),
    }
}

fn csv_error(e: csv::Error) -> AdminError {
    input(format!("cannot write the export: {e}"))
}
