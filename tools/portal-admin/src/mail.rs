//! `portal-admin mail list [--dead]` and `mail retry --id ID`: the outbox as operators see
//! it. A mail is shown by its id, recipient, subject, age, attempts and last error, never
//! by its body (which can hold a reset or invitation link).

use chrono::{DateTime, Duration, Utc};
use clap::Subcommand;

use shared::events::{EventBus, PendingEvent};
use shared::mail::Mailer;
use shared::outbox::{retry_dead, Delivery, PendingMail};
use shared::store::{Dead, DynamoStore, Outbox, Outgoing, Queued};

use crate::{input, Result};

#[derive(Subcommand)]
pub enum MailCommand {
    /// The mails waiting in the outbox, oldest first (with --dead: the mails and events
    /// given up on, with why)
    List {
        #[arg(long)]
        dead: bool,
        /// Show at most this many
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Put a dead mail (or event) back into the outbox and try to send it once; the
    /// scheduled retry goes on if this try fails for a passing reason
    Retry {
        #[arg(long)]
        id: String,
    },
}

pub async fn run(command: MailCommand, store: &DynamoStore, sdk: &aws_config::SdkConfig) -> Result<()> {
    let now = Utc::now();
    match command {
        MailCommand::List { dead: false, limit } => list_pending(store, limit, now).await,
        MailCommand::List { dead: true, limit } => list_dead(store, limit, now).await,
        MailCommand::Retry { id } => retry(store, sdk, &id, now).await,
    }
}

/// "3m", "5h 2m", "2d 4h": how long ago `t` was.
pub fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = (now - t).max(Duration::zero());
    match (d.num_days(), d.num_hours() % 24, d.num_minutes() % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (days, h, _) => format!("{days}d {h}h"),
    }
}

/// `text` cut to `width` characters (with an ellipsis), padded to it.
pub fn cell(text: &str, width: usize) -> String {
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.chars().count() > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        format!("{text:<width$}")
    }
}

fn pending_line(q: &Queued<PendingMail>, now: DateTime<Utc>) -> String {
    let next = match q.lease_until {
        Some(t) if t > now => format!("in {}", age(now, t)),
        _ => "next run".to_string(),
    };
    format!(
        "{} {} {} {:>7} {:>8} {} {}",
        cell(&q.message.id, 40),
        cell(&q.message.mail.to, 32),
        cell(&q.message.mail.subject, 44),
        age(q.message.created_at, now),
        q.attempts,
        cell(&next, 10),
        q.last_error.as_deref().unwrap_or("-").replace('\n', " ")
    )
}

async fn list_pending(store: &DynamoStore, limit: usize, now: DateTime<Utc>) -> Result<()> {
    let mut shown = Vec::new();
    let mut after = None;
    loop {
        let page = Outbox::<PendingMail>::outbox_page(store, now, after.as_ref(), 100).await?;
        for entry in page.entries {
            match entry {
                Ok(q) if q.sent_at.is_none() => shown.push(pending_line(&q, now)),
                Ok(_) => {} // sent; only its removal is left
                Err(e) => shown.push(format!("(unreadable item: {e})")),
            }
        }
        match page.next {
            Some(next) if shown.len() < limit => after = Some(next),
            _ => break,
        }
    }
    if shown.is_empty() {
        println!("no mails waiting in the outbox");
        return Ok(());
    }
    println!(
        "{} {} {} {:>7} {:>8} {} LAST ERROR",
        cell("ID", 40),
        cell("TO", 32),
        cell("SUBJECT", 44),
        "AGE",
        "ATTEMPTS",
        cell("NEXT TRY", 10)
    );
    let total = shown.len();
    for line in shown.into_iter().take(limit) {
        println!("{line}");
    }
    if total > limit {
        println!("(more not shown: --limit {})", limit * 2);
    }
    Ok(())
}

fn dead_line<M: Outgoing>(d: &Dead<M>, to: &str, subject: &str, now: DateTime<Utc>) -> String {
    format!(
        "{} {} {} {:>7} {:>8} {}",
        cell(d.message.id(), 40),
        cell(to, 32),
        cell(subject, 44),
        age(d.dead_at, now),
        d.attempts,
        d.reason.replace('\n', " ")
    )
}

async fn list_dead(store: &DynamoStore, limit: usize, now: DateTime<Utc>) -> Result<()> {
    let mails = Outbox::<PendingMail>::dead_letters(store, limit).await?;
    let events = Outbox::<PendingEvent>::dead_letters(store, limit).await?;
    if mails.is_empty() && events.is_empty() {
        println!("no dead mails or events");
        return Ok(());
    }
    let header = || {
        format!("{} {} {} {:>7} {:>8} REASON", cell("ID", 40), cell("TO", 32), cell("SUBJECT", 44), "DEAD", "ATTEMPTS")
    };
    if !mails.is_empty() {
        println!("dead mails ({}):", mails.len());
        println!("{}", header());
        for d in &mails {
            match d {
                Ok(d) => println!("{}", dead_line(d, &d.message.mail.to, &d.message.mail.subject, now)),
                Err(e) => println!("(unreadable item: {e})"),
            }
        }
    }
    if !events.is_empty() {
        println!("dead events ({}):", events.len());
        println!("{}", header().replacen("TO  ", "TYPE", 1));
        for d in &events {
            match d {
                Ok(d) => println!("{}", dead_line(d, &d.message.detail_type, "", now)),
                Err(e) => println!("(unreadable item: {e})"),
            }
        }
    }
    Ok(())
}

async fn retry(store: &DynamoStore, sdk: &aws_config::SdkConfig, id: &str, now: DateTime<Utc>) -> Result<()> {
    let from = std::env::var("MAIL_FROM")
        .ok()
        .filter(|f| f.contains('@'))
        .ok_or_else(|| input("set MAIL_FROM to the sender address (the stack's MailFrom)"))?;
    let mailer = Mailer::new(shared::aws::sesv2(sdk), from);
    if let Some((mail, delivery)) = retry_dead::<PendingMail>(store, &mailer, id, now).await? {
        return told("mail", &mail.id, delivery);
    }
    if Outbox::<PendingEvent>::dead_letter(store, id).await?.is_some() {
        let bus = std::env::var("EVENT_BUS_NAME")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| input("set EVENT_BUS_NAME to the stack's bus to send a dead event again"))?;
        let bus = EventBus::new(shared::aws::eventbridge(sdk), bus);
        if let Some((event, delivery)) = retry_dead::<PendingEvent>(store, &bus, id, now).await? {
            return told("event", &event.id, delivery);
        }
    }
    Err(input(format!("no dead mail or event with id {id:?} (see `portal-admin mail list --dead`)")))
}

/// What became of the one try after a dead message went back into the outbox.
fn told(kind: &str, id: &str, delivery: Delivery) -> Result<()> {
    match delivery {
        Delivery::Sent(receipt) => {
            println!("{kind} {id} sent (receipt {receipt})");
            Ok(())
        }
        Delivery::Failed(why) => {
            println!("{kind} {id} back in the outbox, not sent yet ({why}); the scheduled retry goes on");
            Ok(())
        }
        Delivery::Held => {
            println!("{kind} {id} back in the outbox; another sender holds it");
            Ok(())
        }
        Delivery::Dead(why) => Err(input(format!("{kind} {id} refused again, back among the dead letters: {why}"))),
    }
}
