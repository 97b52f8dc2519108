//! `portal-admin import FILE.csv`: the customer base of the vendor's older system, one line
//! per serial (the account's columns repeated), streamed from the file in four passes, none
//! of which holds the file in memory:
//!
//! 1. the file alone ([`check::Ledger::scan`]): every line's own checks, and across lines;
//! 2. the table ([`check::Ledger::check_table`]): what exists, what belongs to someone else,
//!    which serial each line without one gets ([`issue`]);
//!
//! and, only when no line has a problem (and not with `--dry-run`),
//!
//! 3. the new accounts, 4. the new serials ([`write`]).
//!
//! Every problem is printed with its line and column, and then nothing is written. What
//! exists is never written again, so a second run writes nothing and says so, and a run
//! after an interrupted one writes exactly the rest.

mod check;
mod issue;
mod progress;
mod row;
mod source;
mod write;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::Utc;

use shared::config::Settings;
use shared::domain::{LegacyPattern, SerialFormats};
use shared::store::{CatalogReader, DynamoStore};

use check::Ledger;
use progress::Progress;
use row::Rules;
use source::Source;
use write::{StopAfter, Written};

use crate::{input, Result};

pub use row::{COLUMNS, EXPORT_COLUMNS};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The CSV file (UTF-8, a header row): email, name, company, system, version, users,
    /// plan, billing_period, next_payment_on, activated_on, serial
    file: PathBuf,
    /// Check everything and say what would be written; write nothing
    #[arg(long)]
    dry_run: bool,
    /// The format of the older system's serials, a regular expression each serial must fit
    /// whole, ignoring case (default: LEGACY_SERIAL_PATTERN); give the functions the same
    /// as LEGACY_SERIAL_PATTERN so that validation accepts them
    #[arg(long, value_name = "REGEX")]
    legacy_serials: Option<String>,
    /// Tests only: end the process abruptly after this many write transactions
    #[arg(long, hide = true)]
    stop_after: Option<u32>,
}

pub async fn run(store: &DynamoStore, settings: &Settings, args: ImportArgs) -> Result<()> {
    let now = Utc::now();
    let serials = match &args.legacy_serials {
        Some(pattern) => SerialFormats::with_legacy(
            LegacyPattern::new(pattern).map_err(|e| input(format!("--legacy-serials: {e}")))?,
        ),
        None => settings.serials.clone(),
    };
    let catalog: HashMap<_, _> = store.products().await?.into_iter().map(|p| (p.system, p.latest_version)).collect();
    let rules = Rules { catalog: &catalog, serials: &serials, today: settings.today(now) };
    let source = Source::open(&args.file)?;
    let name = args.file.display().to_string();

    let mut progress = Progress::new("reading", None);
    let mut ledger = Ledger::scan(&source, &rules, &mut progress)?;
    progress.finish();
    let mut progress = Progress::new("checking", Some(u64::from(ledger.counts.records)));
    ledger.check_table(store, &source, &rules, &mut progress).await?;
    progress.finish();

    let counts = ledger.counts;
    if !ledger.problems.is_empty() {
        let bad_lines = ledger.sorted_problems();
        for problem in &ledger.problems {
            eprintln!("{name}: {problem}");
        }
        return Err(input(format!(
            "{name}: {} problem(s) on {bad_lines} line(s); nothing was written",
            ledger.problems.len()
        )));
    }
    let (old_accounts, old_serials) = (counts.accounts - counts.new_accounts, counts.serials - counts.new_serials);
    if counts.new_accounts == 0 && counts.new_serials == 0 {
        println!(
            "nothing to write: the {} account(s) and {} serial(s) of {name} are in the table already",
            counts.accounts, counts.serials
        );
        return Ok(());
    }
    if args.dry_run {
        println!(
            "dry run: {name} is fine; an import would write {} new account(s) and {} new serial(s) \
             ({} legacy); {old_accounts} account(s) and {old_serials} serial(s) are in the table already",
            counts.new_accounts, counts.new_serials, counts.new_legacy_serials
        );
        return Ok(());
    }

    let stop = StopAfter::new(args.stop_after);
    let mut written = Written::default();
    write::accounts(store, &source, &rules, &ledger, now, &stop, &mut written).await?;
    write::serials(store, &source, &rules, &ledger, now, &stop, &mut written).await?;
    let found = written.serials_found;
    println!(
        "imported {name}: {} new account(s), {} new serial(s) ({} legacy); {} account(s) and {} serial(s) \
         were in the table already",
        written.accounts,
        written.serials,
        counts.new_legacy_serials,
        old_accounts,
        old_serials + found,
    );
    if written.accounts > 0 {
        println!(
            "{} account(s) have no password yet: `portal-admin invite --all-pending` mails each a link to set one",
            written.accounts
        );
    }
    if counts.new_legacy_serials > 0 {
        if let Some(pattern) = serials.legacy() {
            println!(
                "legacy serials validate only where the functions have LEGACY_SERIAL_PATTERN={}",
                pattern.as_str()
            );
        }
    }
    if !written.problems.is_empty() {
        for problem in &written.problems {
            eprintln!("{name}: {problem}");
        }
        return Err(input(format!(
            "{name}: {} serial(s) not written (taken meanwhile by another account)",
            written.problems.len()
        )));
    }
    Ok(())
}
