//! The checks before anything is written. The first pass reads the file alone: every
//! line's own checks, one account per e-mail with one name and company, each serial named
//! once, upgrade links that meet. The second reads the table, a hundred lines at a time:
//! which accounts and serials exist, whether a serial the file names belongs to another
//! account, and which serial each line without one gets. What is remembered of the file is
//! compact (hashes, line numbers, a bit per line), so memory does not grow with long lines.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use shared::domain::{AccountId, Email, Serial};
use shared::store::{Accounts, BulkLoad};

use super::issue::{self, Occurrences};
use super::progress::Progress;
use super::row::{Problem, Row, Rules};
use super::source::{Line, Source};
use crate::{input, Result};

/// 128 bits of a text: enough that two e-mails or serials of one file never share one.
pub type Digest = u128;

pub fn digest(parts: &[&str]) -> Digest {
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        parts.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// Where an account of the file stands with the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not looked up yet.
    Unread,
    /// The table has no account with this e-mail: the import creates it under `id`.
    New,
    /// The table has it, under `id`.
    Existing,
    /// The table has it with another name or company: none of its lines is imported.
    Refused,
}

/// One account of the file (one e-mail).
pub struct Slot {
    pub first_line: u64,
    name: u64,
    company: u64,
    /// The account id, as 128 bits (the table's, or the one it will be created under).
    pub id: u128,
    pub standing: Standing,
}

impl Slot {
    pub fn account_id(&self) -> AccountId {
        AccountId::parse(&format!("{:032x}", self.id)).expect("32 hex digits are an account id")
    }
}

/// A line with an upgrade link, for the check that links meet.
struct Link {
    line: u64,
    email: Digest,
    supersedes: Option<Serial>,
    superseded_by: Option<Serial>,
}

/// What the checks found, and what the writes need of it.
#[derive(Default)]
pub struct Ledger {
    pub accounts: HashMap<Digest, Slot>,
    /// Every serial the file names, with the line that names it.
    given: HashMap<Digest, u64>,
    links: HashMap<Digest, Link>,
    /// One bit per record: this line's serial is new (to be written).
    new_serials: Vec<u64>,
    /// Lines whose issued serial is not their first candidate (taken): the attempt.
    pub attempts: HashMap<u32, u32>,
    pub problems: Vec<Problem>,
    pub counts: Counts,
}

#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub records: u32,
    pub accounts: u32,
    pub serials: u32,
    pub new_accounts: u32,
    pub new_serials: u32,
    pub new_legacy_serials: u32,
}

fn name_hash(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Ledger {
    pub fn slot(&self, email: &Email) -> Option<&Slot> {
        self.accounts.get(&digest(&[email.as_str()]))
    }

    pub fn is_new_serial(&self, ordinal: u32) -> bool {
        self.new_serials.get(ordinal as usize / 64).is_some_and(|w| w & (1 << (ordinal % 64)) != 0)
    }

    fn mark_new_serial(&mut self, ordinal: u32) {
        let word = ordinal as usize / 64;
        if self.new_serials.len() <= word {
            self.new_serials.resize(word + 1, 0);
        }
        self.new_serials[word] |= 1 << (ordinal % 64);
    }

    /// Whether the file names this serial on some line.
    pub fn names(&self, serial: &Serial) -> bool {
        self.given.contains_key(&digest(&[serial.as_str()]))
    }

    /// The first serial at `attempt` or after for a line without one that no line of the
    /// file names (the table is asked separately).
    pub fn candidate(&self, owner: &AccountId, facts_key: &str, occurrence: u32, mut attempt: u32) -> (Serial, u32) {
        loop {
            let serial = issue::derived(owner, facts_key, occurrence, attempt);
            if !self.names(&serial) {
                return (serial, attempt);
            }
            attempt += 1;
        }
    }

    fn problem(&mut self, line: u64, column: &'static str, message: String) {
        self.problems.push(Problem { line, column, message });
    }

    /// The first pass: the file on its own.
    pub fn scan(source: &Source, rules: &Rules, progress: &mut Progress) -> Result<Ledger> {
        let mut ledger = Ledger::default();
        let mut lines = source.lines()?;
        ledger.problems.append(&mut lines.header_problems.clone());
        while let Some((_, line)) = lines.next(rules)? {
            ledger.counts.records += 1;
            progress.add(1);
            match line {
                Line::Bad(mut problems) => ledger.problems.append(&mut problems),
                Line::Row(row) => ledger.scan_row(&row),
            }
        }
        ledger.check_links();
        Ok(ledger)
    }

    fn scan_row(&mut self, row: &Row) {
        let key = digest(&[row.email.as_str()]);
        let (name, company) = (name_hash(&row.name), name_hash(&row.company));
        match self.accounts.get(&key) {
            None => {
                self.counts.accounts += 1;
                let slot = Slot { first_line: row.line, name, company, id: 0, standing: Standing::Unread };
                self.accounts.insert(key, slot);
            }
            Some(slot) => {
                let (first, same_name, same_company) = (slot.first_line, slot.name == name, slot.company == company);
                if !same_name {
                    self.problem(row.line, "name", format!("differs from line {first}, the same account's first line"));
                }
                if !same_company {
                    self.problem(
                        row.line,
                        "company",
                        format!("differs from line {first}, the same account's first line"),
                    );
                }
            }
        }
        let Some(facts) = &row.facts else { return };
        self.counts.serials += 1;
        if let Some(serial) = &row.serial {
            let own = digest(&[serial.as_str()]);
            if let Some(&before) = self.given.get(&own) {
                self.problem(row.line, "serial", format!("{serial} is on line {before} too"));
            } else {
                self.given.insert(own, row.line);
            }
            if facts.supersedes.is_some() || facts.superseded_by.is_some() {
                let link = Link {
                    line: row.line,
                    email: key,
                    supersedes: facts.supersedes.clone(),
                    superseded_by: facts.superseded_by.clone(),
                };
                self.links.insert(own, link);
            }
        }
    }

    /// Each upgrade link is a pair of lines of the file that name each other, for one e-mail.
    fn check_links(&mut self) {
        let mut problems = Vec::new();
        for (own, link) in &self.links {
            let meets = |other: &Serial, back: fn(&Link) -> &Option<Serial>| {
                self.links.get(&digest(&[other.as_str()])).is_some_and(|l| {
                    l.email == link.email && back(l).as_ref().is_some_and(|s| digest(&[s.as_str()]) == *own)
                })
            };
            if let Some(next) = &link.superseded_by {
                if !meets(next, |l| &l.supersedes) {
                    problems.push(Problem {
                        line: link.line,
                        column: "superseded_by",
                        message: format!(
                            "{next} must be a line of this file, of the same e-mail, whose supersedes is this serial"
                        ),
                    });
                }
            }
            if let Some(before) = &link.supersedes {
                if !meets(before, |l| &l.superseded_by) {
                    problems.push(Problem {
                        line: link.line,
                        column: "supersedes",
                        message: format!("{before} must be a line of this file, of the same e-mail, whose superseded_by is this serial"),
                    });
                }
            }
        }
        self.problems.extend(problems);
    }

    /// The second pass: what the table has, a batch of lines at a time.
    pub async fn check_table<S: BulkLoad + Accounts>(
        &mut self,
        store: &S,
        source: &Source,
        rules: &Rules<'_>,
        progress: &mut Progress,
    ) -> Result<()> {
        let mut lines = source.lines()?;
        let mut occurrences = Occurrences::default();
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let next = lines.next(rules)?;
            let done = next.is_none();
            if let Some((ordinal, Line::Row(row))) = next {
                batch.push((ordinal, row));
            } else if !done {
                progress.add(1);
            }
            if batch.len() == BATCH || (done && !batch.is_empty()) {
                self.check_batch(store, &batch, &mut occurrences).await?;
                progress.add(batch.len() as u64);
                batch.clear();
            }
            if done {
                return Ok(());
            }
        }
    }

    async fn check_batch<S: BulkLoad + Accounts>(
        &mut self,
        store: &S,
        batch: &[(u32, Row)],
        occurrences: &mut Occurrences,
    ) -> Result<()> {
        // The accounts first seen in this batch.
        let mut unread = Vec::new();
        let mut asked = HashSet::new();
        for (_, row) in batch {
            let standing = self.slot(&row.email).map(|s| s.standing);
            if standing == Some(Standing::Unread) && asked.insert(row.email.clone()) {
                unread.push(row);
            }
        }
        if !unread.is_empty() {
            let emails: Vec<Email> = unread.iter().map(|r| r.email.clone()).collect();
            let found = store.existing_logins(&emails).await?;
            let found: HashMap<&Email, _> = found.iter().map(|l| (&l.email, l)).collect();
            for row in unread {
                let standing = match found.get(&row.email) {
                    None => Standing::New,
                    Some(login) => {
                        let holder = match &login.holder {
                            Some(h) => Some(h.clone()),
                            None => store.account(&login.account).await?,
                        };
                        let (name, company) = holder.map(|h| (h.name, h.company)).unwrap_or_default();
                        self.compare(row, "name", &name, &row.name);
                        self.compare(row, "company", &company, &row.company);
                        let id = u128::from_str_radix(login.account.as_str(), 16)
                            .map_err(|_| input(format!("the login of {} names no account id", row.email)))?;
                        self.set_id(&row.email, id);
                        if name == row.name && company == row.company {
                            Standing::Existing
                        } else {
                            Standing::Refused
                        }
                    }
                };
                if standing == Standing::New {
                    let id = AccountId::generate().map_err(|e| input(e.to_string()))?;
                    self.set_id(&row.email, u128::from_str_radix(id.as_str(), 16).unwrap_or_default());
                    self.counts.new_accounts += 1;
                }
                if let Some(slot) = self.accounts.get_mut(&digest(&[row.email.as_str()])) {
                    slot.standing = standing;
                }
            }
        }
        // Then the serials: those named, and those issued for lines without one.
        let mut wanted = Vec::new();
        for (ordinal, row) in batch {
            let Some(facts) = &row.facts else { continue };
            let Some(slot) = self.slot(&row.email) else { continue };
            let owner = slot.account_id();
            let standing = slot.standing;
            let issued = match &row.serial {
                Some(_) => None,
                None => {
                    let key = issue::facts_key(facts);
                    let occurrence = occurrences.next(&row.email, &key);
                    Some((key, occurrence))
                }
            };
            if !matches!(standing, Standing::New | Standing::Existing) {
                continue;
            }
            let (serial, issued) = match (&row.serial, issued) {
                (Some(s), _) => (s.clone(), None),
                (None, Some((key, occurrence))) => {
                    let (serial, attempt) = self.candidate(&owner, &key, occurrence, 0);
                    (serial, Some((key, occurrence, attempt)))
                }
                (None, None) => continue,
            };
            wanted.push((*ordinal, row, owner, serial, issued));
        }
        let serials: Vec<Serial> = wanted.iter().map(|w| w.3.clone()).collect();
        let holders = store.serial_holders(&serials).await?;
        let holders: HashMap<&Serial, &AccountId> = holders.iter().map(|h| (&h.serial, &h.account)).collect();
        for (ordinal, row, owner, serial, issued) in wanted {
            let holder = holders.get(&serial).copied().cloned();
            match (holder, issued) {
                (None, _) => self.count_new(ordinal, &serial),
                (Some(h), _) if h == owner => {}
                (Some(_), None) => {
                    self.problem(row.line, "serial", format!("{serial} belongs to another account in the table"))
                }
                (Some(_), Some((key, occurrence, attempt))) => {
                    // Taken by another account: the next candidate, one by one (rare).
                    let mut attempt = attempt + 1;
                    loop {
                        let (serial, at) = self.candidate(&owner, &key, occurrence, attempt);
                        match store.serial_holders(std::slice::from_ref(&serial)).await?.pop() {
                            Some(h) if h.account != owner => attempt = at + 1,
                            held => {
                                self.attempts.insert(ordinal, at);
                                if held.is_none() {
                                    self.count_new(ordinal, &serial);
                                }
                                break;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn count_new(&mut self, ordinal: u32, serial: &Serial) {
        self.mark_new_serial(ordinal);
        self.counts.new_serials += 1;
        if serial.is_legacy() {
            self.counts.new_legacy_serials += 1;
        }
    }

    fn compare(&mut self, row: &Row, column: &'static str, table: &str, file: &str) {
        if table != file {
            self.problem(
                row.line,
                column,
                format!("the account {} exists in the table with the {column} {table:?}, not {file:?}", row.email),
            );
        }
    }

    fn set_id(&mut self, email: &Email, id: u128) {
        if let Some(slot) = self.accounts.get_mut(&digest(&[email.as_str()])) {
            slot.id = id;
        }
    }

    /// The problems in line order; how many lines have one.
    pub fn sorted_problems(&mut self) -> usize {
        self.problems.sort_by_key(|p| (p.line, p.position()));
        let lines: HashSet<u64> = self.problems.iter().map(|p| p.line).collect();
        lines.len()
    }
}

/// Lines per round of reads (BatchGetItem takes 100 keys).
const BATCH: usize = 100;
