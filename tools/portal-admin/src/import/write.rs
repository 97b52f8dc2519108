//! The writes, once every line passed: first the new accounts (25 to a transaction: login,
//! profile, pending invitation, directory entry each), then the new serials (50 to a
//! transaction: the serial and its claim each), a few transactions in flight at a time.
//! A transaction that DynamoDB throttles or that meets a concurrent write is sent again
//! after a growing pause; one that fails for good stops the import, and what was written
//! stays: the next run finds it and writes the rest.

use std::cell::Cell;
use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use shared::domain::{Account, Serial, Subscription};
use shared::store::{BulkLoad, DynamoStore, Logins, StoreError, ACCOUNT_ITEMS, SERIAL_ITEMS};

use super::check::{Ledger, Standing};
use super::issue::{self, Occurrences};
use super::progress::Progress;
use super::row::{Problem, Rules};
use super::source::{Line, Source};
use crate::{input, AdminError, Result};

/// Transactions in flight at once.
const IN_FLIGHT: usize = 4;
/// Attempts of one transaction before the import gives up.
const ATTEMPTS: u32 = 8;

/// What the writes did.
#[derive(Default, Debug)]
pub struct Written {
    pub accounts: u32,
    pub serials: u32,
    /// Serials found written when their turn came (by a concurrent run, or by an attempt
    /// of this one whose answer was lost).
    pub serials_found: u32,
    /// Serials a concurrent write took between the check and the write.
    pub problems: Vec<Problem>,
}

/// A test hook (`--stop-after`, hidden): the process ends abruptly after this many
/// transactions of the run, as a kill would end it.
pub struct StopAfter {
    limit: Option<u32>,
    committed: Cell<u32>,
}

impl StopAfter {
    pub fn new(limit: Option<u32>) -> Self {
        StopAfter { limit, committed: Cell::new(0) }
    }

    fn one_more(&self) {
        let n = self.committed.get() + 1;
        self.committed.set(n);
        if self.limit.is_some_and(|limit| n >= limit) {
            eprintln!("import: stopped after {n} transactions (--stop-after)");
            std::process::exit(3);
        }
    }
}

type Outcome<T> = (Vec<T>, std::result::Result<Vec<bool>, StoreError>);

/// Transactions in flight.
struct Flight<'a, T> {
    tasks: JoinSet<Outcome<T>>,
    stop: &'a StopAfter,
}

impl<'a, T: Send + 'static> Flight<'a, T> {
    fn new(stop: &'a StopAfter) -> Self {
        Flight { tasks: JoinSet::new(), stop }
    }

    /// Sends one transaction, after waiting for one in flight if too many are.
    async fn send<F, Fut>(&mut self, batch: Vec<T>, write: F) -> Result<Option<Outcome<T>>>
    where
        F: FnOnce(Vec<T>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Outcome<T>> + Send + 'static,
    {
        let finished = if self.tasks.len() >= IN_FLIGHT { self.next().await? } else { None };
        self.tasks.spawn(write(batch));
        Ok(finished)
    }

    /// The next transaction to finish; `None` when none is in flight.
    async fn next(&mut self) -> Result<Option<Outcome<T>>> {
        let Some(joined) = self.tasks.join_next().await else { return Ok(None) };
        let outcome = joined.map_err(|e| input(format!("a write failed: {e}")))?;
        if outcome.1.is_ok() {
            self.stop.one_more();
        }
        Ok(Some(outcome))
    }
}

/// One transaction, sent again after a growing pause while DynamoDB is busy.
async fn with_retries<F, Fut>(mut attempt: F) -> std::result::Result<Vec<bool>, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Vec<bool>, StoreError>>,
{
    let mut pause = Duration::from_millis(100);
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Err(StoreError::Unavailable(_)) if n < ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
    unreachable!("the last attempt returns")
}

fn accounts_per_transaction() -> usize {
    100 / ACCOUNT_ITEMS
}

fn serials_per_transaction() -> usize {
    100 / SERIAL_ITEMS
}

/// The new accounts: the first line of each e-mail the table does not have.
pub async fn accounts(
    store: &DynamoStore,
    source: &Source,
    rules: &Rules<'_>,
    ledger: &Ledger,
    now: DateTime<Utc>,
    stop: &StopAfter,
    written: &mut Written,
) -> Result<()> {
    let mut progress = Progress::new("accounts", Some(u64::from(ledger.counts.new_accounts)));
    let mut flight = Flight::new(stop);
    let mut lines = source.lines()?;
    let mut batch = Vec::new();
    let mut finished = Vec::new();
    loop {
        let next = lines.next(rules)?;
        let done = next.is_none();
        if let Some((_, Line::Row(row))) = next {
            match ledger.slot(&row.email) {
                Some(slot) if slot.standing == Standing::New && slot.first_line == row.line => {
                    batch.push(Account {
                        id: slot.account_id(),
                        email: row.email,
                        name: row.name,
                        company: row.company,
                    });
                }
                _ => {}
            }
        }
        if batch.len() == accounts_per_transaction() || (done && !batch.is_empty()) {
            let store = store.clone();
            let send = move |batch: Vec<Account>| async move {
                let result = with_retries(|| store.add_imported_accounts(&batch, now)).await;
                (batch, result)
            };
            finished.extend(flight.send(std::mem::take(&mut batch), send).await?);
        }
        for outcome in finished.drain(..) {
            settle_accounts(store, outcome, written, &mut progress).await?;
        }
        if done {
            break;
        }
    }
    while let Some(outcome) = flight.next().await? {
        settle_accounts(store, outcome, written, &mut progress).await?;
    }
    progress.finish();
    Ok(())
}

async fn settle_accounts(
    store: &DynamoStore,
    (batch, result): Outcome<Account>,
    written: &mut Written,
    progress: &mut Progress,
) -> Result<()> {
    let done = result.map_err(AdminError::Store)?;
    for (account, created) in batch.iter().zip(done) {
        if !created {
            // Its login exists now: ours if an attempt whose answer was lost wrote it,
            // else a write since the check took the e-mail.
            let login = store.credentials(&account.email).await?;
            if login.is_none_or(|l| l.account != account.id) {
                return Err(input(format!(
                    "the account {} was created by another write during the import: run the import again",
                    account.email
                )));
            }
        }
        written.accounts += 1;
    }
    progress.add(batch.len() as u64);
    Ok(())
}

/// A serial to write, with what its line needs if its number turns out taken.
struct Pending {
    sub: Subscription,
    company: String,
    line: u64,
    /// For an issued serial: its facts key, occurrence and attempt.
    issued: Option<(String, u32, u32)>,
}

/// The new serials, each on its line's account.
pub async fn serials(
    store: &DynamoStore,
    source: &Source,
    rules: &Rules<'_>,
    ledger: &Ledger,
    now: DateTime<Utc>,
    stop: &StopAfter,
    written: &mut Written,
) -> Result<()> {
    let mut progress = Progress::new("serials", Some(u64::from(ledger.counts.new_serials)));
    let mut flight = Flight::new(stop);
    let mut lines = source.lines()?;
    let mut occurrences = Occurrences::default();
    let mut batch: Vec<Pending> = Vec::new();
    // Serials to try again under another number (theirs was taken meanwhile).
    let mut again: VecDeque<Pending> = VecDeque::new();
    let mut finished = Vec::new();
    let mut done = false;
    loop {
        if !done {
            match lines.next(rules)? {
                None => done = true,
                Some((ordinal, Line::Row(row))) => {
                    let (Some(facts), Some(slot)) = (&row.facts, ledger.slot(&row.email)) else { continue };
                    let issued = row.serial.is_none().then(|| {
                        let key = issue::facts_key(facts);
                        let occurrence = occurrences.next(&row.email, &key);
                        (key, occurrence)
                    });
                    if !ledger.is_new_serial(ordinal) {
                        continue;
                    }
                    let owner = slot.account_id();
                    let (serial, issued) = match (row.serial.clone(), issued) {
                        (Some(serial), _) => (serial, None),
                        (None, Some((key, occurrence))) => {
                            let attempt = ledger.attempts.get(&ordinal).copied().unwrap_or(0);
                            let (serial, attempt) = ledger.candidate(&owner, &key, occurrence, attempt);
                            (serial, Some((key, occurrence, attempt)))
                        }
                        (None, None) => continue,
                    };
                    let sub = subscription(serial, owner, facts.clone());
                    batch.push(Pending { sub, company: row.company, line: row.line, issued });
                }
                Some(_) => {}
            }
        }
        while batch.len() < serials_per_transaction() {
            match again.pop_front() {
                Some(p) => batch.push(p),
                None => break,
            }
        }
        let flush = batch.len() == serials_per_transaction() || (done && !batch.is_empty());
        if flush {
            let store = store.clone();
            let send = move |batch: Vec<Pending>| async move {
                let pairs: Vec<(Subscription, String)> =
                    batch.iter().map(|p| (p.sub.clone(), p.company.clone())).collect();
                let result = with_retries(|| store.add_imported_serials(&pairs, now)).await;
                (batch, result)
            };
            finished.extend(flight.send(std::mem::take(&mut batch), send).await?);
        }
        for outcome in finished.drain(..) {
            settle_serials(store, ledger, outcome, written, &mut again, &mut progress).await?;
        }
        if done && batch.is_empty() && again.is_empty() {
            match flight.next().await? {
                Some(outcome) => settle_serials(store, ledger, outcome, written, &mut again, &mut progress).await?,
                None => break,
            }
        }
    }
    progress.finish();
    Ok(())
}

fn subscription(serial: Serial, account: shared::domain::AccountId, f: super::row::Facts) -> Subscription {
    Subscription {
        serial,
        account,
        system: f.system,
        version: f.version,
        users: f.users,
        plan: f.plan,
        billing_period: f.billing_period,
        activated_on: f.activated_on,
        next_payment_on: f.next_payment_on,
        valid_until: f.valid_until,
        upgraded_from: f.supersedes,
        superseded_by: f.superseded_by,
    }
}

async fn settle_serials(
    store: &DynamoStore,
    ledger: &Ledger,
    (batch, result): Outcome<Pending>,
    written: &mut Written,
    again: &mut VecDeque<Pending>,
    progress: &mut Progress,
) -> Result<()> {
    let done = result.map_err(AdminError::Store)?;
    let mut settled = 0;
    for (mut pending, created) in batch.into_iter().zip(done) {
        if created {
            written.serials += 1;
            settled += 1;
            continue;
        }
        let holder = store.serial_holders(std::slice::from_ref(&pending.sub.serial)).await?.pop();
        match (holder, pending.issued.take()) {
            (Some(h), issued) if h.account == pending.sub.account => {
                pending.issued = issued;
                written.serials_found += 1;
                settled += 1;
            }
            (_, Some((key, occurrence, attempt))) => {
                // Taken by another account since the check: the next number of this line.
                let (serial, attempt) = ledger.candidate(&pending.sub.account, &key, occurrence, attempt + 1);
                pending.sub.serial = serial;
                pending.issued = Some((key, occurrence, attempt));
                again.push_back(pending);
            }
            (_, None) => {
                written.problems.push(Problem {
                    line: pending.line,
                    column: "serial",
                    message: format!("{} was taken by another account during the import", pending.sub.serial),
                });
                settled += 1;
            }
        }
    }
    progress.add(settled);
    Ok(())
}
