//! `portal-admin invite --email E | --all-pending`: mails accounts that have no password
//! yet (imported ones) a link to set it, valid 7 days, through the outbox
//! (`shared::invitation`). `--all-pending` goes through the pending invitations the import
//! wrote (`INVITATION` / `PENDING#<account id>`), a page at a time; each one invited is
//! gone, so a second run mails nobody again.

use chrono::Utc;
use clap::Args;

use shared::config::MailSettings;
use shared::domain::Email;
use shared::invitation::{invite, Invited, INVITATION_DAYS};
use shared::mail::Mailer;
use shared::outbox::Delivery;
use shared::store::{DynamoStore, Invitations};

use crate::{input, Result};

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct InviteArgs {
    /// The account to invite
    #[arg(long)]
    email: Option<String>,
    /// Every account the import left waiting for its invitation
    #[arg(long)]
    all_pending: bool,
}

/// What `--all-pending` did, for its last line.
#[derive(Default)]
struct Tally {
    invited: u32,
    waiting: u32,
    refused: u32,
    had_password: u32,
    elsewhere: u32,
    unreadable: u32,
}

pub async fn run(args: InviteArgs, store: &DynamoStore, sdk: &aws_config::SdkConfig) -> Result<()> {
    let settings = MailSettings::from_env().map_err(|e| input(format!("mail settings: {e}")))?;
    let mailer = Mailer::new(shared::aws::sesv2(sdk), &settings.mail_from);
    match args.email {
        Some(email) => {
            let email = Email::parse(&email).map_err(|_| input(format!("{email:?} is not an e-mail address")))?;
            match invite(store, &mailer, &settings, &email, false, Utc::now()).await? {
                Invited::Mailed { mail_id, delivery } => {
                    println!("{}", mailed(&email, &mail_id, &delivery));
                    Ok(())
                }
                Invited::HasPassword => Err(input(format!(
                    "{email} has a password already: its owner can use \"¿Olvidaste tu contraseña?\" on the page"
                ))),
                Invited::NotPending => Ok(()),
                Invited::NoAccount => Err(input(format!("no account with e-mail {email}"))),
            }
        }
        None => all_pending(store, &mailer, &settings).await,
    }
}

fn mailed(email: &Email, mail_id: &str, delivery: &Delivery) -> String {
    match delivery {
        Delivery::Sent(_) => format!("invited {email} (mail {mail_id}; the link works {INVITATION_DAYS} days)"),
        Delivery::Failed(why) | Delivery::Dead(why) => {
            format!("invited {email}; mail {mail_id} not sent yet: {why} (see `portal-admin mail list`)")
        }
        Delivery::Held => format!("invited {email}; mail {mail_id} is being sent"),
    }
}

async fn all_pending(store: &DynamoStore, mailer: &Mailer, settings: &MailSettings) -> Result<()> {
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        let page = store.pending_invitations(after.as_ref(), 100).await?;
        for entry in page.entries {
            let pending = match entry {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("portal-admin: skipped an unreadable pending invitation: {e}");
                    tally.unreadable += 1;
                    continue;
                }
            };
            match invite(store, mailer, settings, &pending.email, true, Utc::now()).await? {
                Invited::Mailed { mail_id, delivery } => {
                    tally.invited += 1;
                    match delivery {
                        Delivery::Dead(_) => tally.refused += 1,
                        Delivery::Failed(_) | Delivery::Held => tally.waiting += 1,
                        Delivery::Sent(_) => {}
                    }
                    println!("{}", mailed(&pending.email, &mail_id, &delivery));
                }
                Invited::HasPassword => tally.had_password += 1,
                Invited::NotPending => tally.elsewhere += 1,
                Invited::NoAccount => {
                    // Left by an account that is gone (or whose e-mail changed): nothing to mail.
                    store.drop_pending_invitation(&pending.account).await?;
                    tally.had_password += 1;
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if tally.invited + tally.had_password + tally.elsewhere + tally.unreadable == 0 {
        println!("no pending invitations: nothing to send");
        return Ok(());
    }
    println!(
        "{} invited ({} mails wait for the retry, {} refused: see `portal-admin mail list --dead`); \
         {} skipped (password set, or no such login), {} invited by another run, {} unreadable",
        tally.invited, tally.waiting, tally.refused, tally.had_password, tally.elsewhere, tally.unreadable
    );
    Ok(())
}
