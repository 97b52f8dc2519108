//! `portal-admin account show --email E`: everything support needs about one account,
//! looked up by the e-mail the customer gives: the profile, whether a password is set (or
//! the invitation is out), the serials with their statuses today, the sessions, the
//! accepted upgrade terms and the mails the outbox still holds. No password hash, token or
//! digest is ever printed.

use chrono::{DateTime, Utc};
use clap::Args;

use shared::config::Settings;
use shared::domain::{Email, Subscription};
use shared::store::{DynamoStore, Logins, Support};

use crate::mail::{age, cell};
use crate::{input, Result};

#[derive(Args)]
pub struct ShowArgs {
    #[arg(long)]
    email: String,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn day(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

fn serial_line(sub: &Subscription, settings: &Settings, now: DateTime<Utc>) -> String {
    let status = sub.status(settings.today(now));
    let lineage = match (&sub.upgraded_from, &sub.superseded_by) {
        (Some(from), Some(to)) => format!("from {from}, to {to}"),
        (Some(from), None) => format!("from {from}"),
        (None, Some(to)) => format!("to {to}"),
        (None, None) => "-".into(),
    };
    format!(
        "  {} {} {} {:>5} {} {} {} {} {} {} {}",
        cell(sub.serial.as_str(), 16),
        cell(sub.system.as_str(), 6),
        cell(sub.version.as_str(), 7),
        sub.users,
        cell(sub.plan.as_str(), 12),
        cell(sub.billing_period.map_or("-", |b| b.as_str()), 10),
        cell(status.as_str(), 10),
        cell(&day(sub.activated_on), 10),
        cell(&day(sub.next_payment_on), 12),
        cell(&day(sub.valid_until), 11),
        lineage
    )
}

pub async fn run(args: ShowArgs, store: &DynamoStore, settings: &Settings) -> Result<()> {
    let email = Email::parse(&args.email).map_err(|_| input(format!("{:?} is not an e-mail address", args.email)))?;
    let now = Utc::now();
    let login = store.credentials(&email).await?.ok_or_else(|| input(format!("no account with e-mail {email}")))?;
    let (overview, mails) = tokio::join!(store.account_overview(&login.account), store.mails_to(email.as_str(), 1000));
    let overview = overview?
        .ok_or_else(|| input(format!("the login {email} names account {}, which has no profile", login.account)))?;
    let mails = mails?;
    let a = &overview.account;
    println!("account {} {}", a.id, a.email);
    println!("  name:     {}", a.name);
    println!("  company:  {}", a.company);
    if let Some(t) = overview.created_at {
        println!("  created:  {}", when(t));
    }
    let password = match (&login.password_hash, overview.invited_at) {
        (Some(_), _) => "set".to_string(),
        (None, Some(t)) => format!(
            "not set; invitation mailed {} (its link works {} days)",
            when(t),
            shared::invitation::INVITATION_DAYS
        ),
        (None, None) => "not set; not invited yet (portal-admin invite --email ...)".to_string(),
    };
    println!("  password: {password}");

    println!("serials ({}):", overview.serials.len());
    if !overview.serials.is_empty() {
        println!(
            "  {} {} {} {:>5} {} {} {} {} {} {} UPGRADED",
            cell("SERIAL", 16),
            cell("SYSTEM", 6),
            cell("VERSION", 7),
            "USERS",
            cell("PLAN", 12),
            cell("BILLING", 10),
            cell("STATUS", 10),
            cell("ACTIVATED", 10),
            cell("NEXT PAYMENT", 12),
            cell("VALID UNTIL", 11)
        );
    }
    let mut serials = overview.serials.clone();
    serials.sort_by(|x, y| (x.system.as_str(), y.version.clone()).cmp(&(y.system.as_str(), x.version.clone())));
    for sub in &serials {
        println!("{}", serial_line(sub, settings, now));
    }

    let idle = chrono::Duration::minutes(i64::from(settings.session_idle_minutes));
    println!("sessions ({}):", overview.sessions.len());
    for s in &overview.sessions {
        let state = if s.live_at(now, idle, overview.password_epoch) { "alive" } else { "ended" };
        println!(
            "  {} {} created {} last used {} ago, from {} ({})",
            cell(&s.id, 32),
            cell(state, 5),
            when(s.created_at),
            age(s.last_used_at, now),
            s.source_ip,
            s.user_agent
        );
    }

    println!("upgrade terms accepted ({}):", overview.terms.len());
    for t in &overview.terms {
        let new = t.new_serial.as_ref().map_or_else(|| "-".to_string(), |s| s.to_string());
        println!(
            "  {} terms {} for {} -> {} from {} ({})",
            when(t.record.accepted_at),
            t.record.terms_version,
            t.old_serial,
            new,
            t.record.source_ip,
            t.record.user_agent
        );
    }

    println!("mails waiting in the outbox ({}; sent mails are not kept):", mails.pending.len());
    for q in &mails.pending {
        let error = q.last_error.as_deref().map_or_else(String::new, |e| format!(", last error: {e}"));
        println!(
            "  {} {} {} ago, {} attempts{error}",
            cell(&q.message.id, 40),
            cell(&q.message.mail.subject, 44),
            age(q.message.created_at, now),
            q.attempts
        );
    }
    println!("dead mails ({}):", mails.dead.len());
    for d in &mails.dead {
        println!(
            "  {} {} dead {} ago after {} attempts: {}",
            cell(&d.message.id, 40),
            cell(&d.message.mail.subject, 44),
            age(d.dead_at, now),
            d.attempts,
            d.reason
        );
    }
    if !overview.unreadable.is_empty() {
        println!("unreadable items ({}):", overview.unreadable.len());
        for why in &overview.unreadable {
            println!("  {why}");
        }
    }
    Ok(())
}
