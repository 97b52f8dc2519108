//! Two-step verification: the account's enrolment (`ACCOUNT#<id>` / `TOTP`: the sealed
//! secret, pending or on, the last accepted step and the recovery codes' digests), its mark
//! on the login item (`totp_on`, read by a login with the hash), and the logins waiting for
//! their second step (`MFA#<digest of the mfa token>` / `MFA`).
//!
//! Every code is spent by a condition: an app's code moves `last_step` forward only if it
//! is still behind (`last_step < :step`), a recovery code leaves the set only if it is
//! still in it, so two requests with one code cannot both pass.

use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::account::{login, partition, profile, TWO_STEP};
use super::attrs::Attrs;
use super::outbox::outbox_item;
use super::{build, n, of_type, s, sdk_error, transaction_error, DynamoStore, Item, Key};
use crate::domain::token::TokenDigest;
use crate::domain::{AccountId, Email};
use crate::outbox::PendingMail;
use crate::store::{
    KnownDevice, LoginClient, MfaChallenge, MfaFacts, MfaLogins, Proof, Session, StoreError, StoreResult,
    TotpEnrolment, TotpState, TwoStep,
};

pub fn enrolment(account: &AccountId) -> Key {
    Key::new(partition(account), "TOTP")
}

pub fn challenge(digest: &TokenDigest) -> Key {
    Key::new(format!("MFA#{}", digest.as_str()), "MFA")
}

fn state_name(state: TotpState) -> &'static str {
    match state {
        TotpState::Pending => "pending",
        TotpState::On => "on",
    }
}

fn enrolment_from(item: &Item) -> StoreResult<TotpEnrolment> {
    let a = Attrs::new(item);
    let state = match a.str("state")? {
        "pending" => TotpState::Pending,
        "on" => TotpState::On,
        other => return Err(a.corrupt(format!("state {other:?} is unknown"))),
    };
    Ok(TotpEnrolment {
        account: a.account_id("account_id")?,
        state,
        sealed_secret: a.str("secret")?.to_string(),
        last_step: a.opt_num("last_step")?,
        recovery_codes: a.str_set("recovery")?,
        created_at: a.instant("created_at")?,
    })
}

fn client_tag(client: &LoginClient) -> String {
    match client {
        LoginClient::Address(ip) => format!("ip#{ip}"),
        LoginClient::Device(digest) => format!("device#{}", digest.as_str()),
    }
}

fn challenge_from(item: &Item) -> StoreResult<MfaChallenge> {
    let a = Attrs::new(item);
    let tag = a.str("client")?;
    let client = if let Some(ip) = tag.strip_prefix("ip#") {
        LoginClient::Address(ip.to_string())
    } else if let Some(d) = tag.strip_prefix("device#") {
        LoginClient::Device(TokenDigest::from_stored(d.to_string()))
    } else {
        return Err(a.corrupt("client is neither an address nor a device"));
    };
    Ok(MfaChallenge {
        digest: TokenDigest::from_stored(a.str("pk")?.trim_start_matches("MFA#").to_string()),
        account: a.account_id("account_id")?,
        email: a.email("email")?,
        client,
        password_epoch: a.opt_num("password_epoch")?.unwrap_or(0),
        expires_at: a.epoch("expires_at")?,
        used: a.opt_str("used_at")?.is_some(),
    })
}

impl DynamoStore {
    fn tx_update(&self, update: Result<Update, BuildError>) -> StoreResult<TransactWriteItem> {
        Ok(TransactWriteItem::builder().update(build(update)?).build())
    }

    /// The login item's mark set or removed (the login still this account's).
    fn mark_login(&self, email: &Email, account: &AccountId, on: bool) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(login(email).item()))
            .condition_expression("account_id = :account")
            .expression_attribute_values(":account", s(account.as_str()))
            .expression_attribute_names("#mark", TWO_STEP);
        let update = if on {
            update.update_expression("SET #mark = :on").expression_attribute_values(":on", AttributeValue::Bool(true))
        } else {
            update.update_expression("REMOVE #mark")
        };
        self.tx_update(update.build())
    }

    /// The enrolment's update that spends `proof` (on condition it is unspent).
    fn spend_proof(&self, account: &AccountId, proof: &Proof) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(enrolment(account).item()))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":on", s("on"));
        let update = match proof {
            Proof::Step(step) => update
                .update_expression("SET last_step = :step")
                .condition_expression("#state = :on AND (attribute_not_exists(last_step) OR last_step < :step)")
                .expression_attribute_values(":step", n(step)),
            Proof::Recovery(digest) => update
                .update_expression("DELETE recovery :code")
                .condition_expression("#state = :on AND contains(recovery, :digest)")
                .expression_attribute_values(":code", AttributeValue::Ss(vec![digest.clone()]))
                .expression_attribute_values(":digest", s(digest)),
        };
        self.tx_update(update.build())
    }
}

/// A cancelled transaction whose condition failed, said in the store's words.
fn conflict(op: &'static str, why: &'static str) -> impl Fn(SdkError<TransactWriteItemsError>) -> StoreError {
    move |e| match transaction_error(op, e) {
        StoreError::Conflict(_) => StoreError::Conflict(why.into()),
        other => other,
    }
}

impl TwoStep for DynamoStore {
    async fn totp(&self, account: &AccountId) -> StoreResult<Option<TotpEnrolment>> {
        self.get("get totp", &enrolment(account)).await?.map(|i| enrolment_from(&i)).transpose()
    }

    async fn start_totp(&self, e: &TotpEnrolment) -> StoreResult<()> {
        let mut item = enrolment(&e.account).item();
        item.insert("type".into(), s("totp"));
        item.insert("account_id".into(), s(e.account.as_str()));
        item.insert("state".into(), s(state_name(e.state)));
        item.insert("secret".into(), s(&e.sealed_secret));
        item.insert("created_at".into(), s(e.created_at.to_rfc3339()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("start totp", e))
    }

    async fn confirm_totp(
        &self,
        email: &Email,
        seen: &TotpEnrolment,
        step: u64,
        recovery_codes: &[String],
        client: &LoginClient,
        mail: &PendingMail,
    ) -> StoreResult<()> {
        let now = Utc::now();
        let on = Update::builder()
            .table_name(&self.table)
            .set_key(Some(enrolment(&seen.account).item()))
            .update_expression("SET #state = :on, last_step = :step, recovery = :codes, enabled_at = :now")
            // Still the secret the code was checked against (not restarted meanwhile).
            .condition_expression("#state = :pending AND secret = :secret")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":on", s("on"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":secret", s(&seen.sealed_secret))
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":codes", AttributeValue::Ss(recovery_codes.to_vec()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build();
        let items = vec![
            self.tx_update(on)?,
            self.mark_login(email, &seen.account, true)?,
            self.clear_count(email, client, now)?,
            self.put_if_absent(outbox_item(mail, Some(now + crate::outbox::LEASE)))?,
        ];
        self.transact(items).await.map_err(conflict("confirm totp", "the enrolment changed meanwhile"))
    }

    async fn disable_totp(
        &self,
        email: &Email,
        seen: &TotpEnrolment,
        proof: &Proof,
        client: &LoginClient,
        mail: &PendingMail,
    ) -> StoreResult<()> {
        let now = Utc::now();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(enrolment(&seen.account).item()))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":on", s("on"));
        let delete = match proof {
            Proof::Step(step) => delete
                .condition_expression("#state = :on AND (attribute_not_exists(last_step) OR last_step < :step)")
                .expression_attribute_values(":step", n(step)),
            Proof::Recovery(digest) => delete
                .condition_expression("#state = :on AND contains(recovery, :digest)")
                .expression_attribute_values(":digest", s(digest)),
        };
        let items = vec![
            TransactWriteItem::builder().delete(build(delete.build())?).build(),
            self.mark_login(email, &seen.account, false)?,
            self.clear_count(email, client, now)?,
            self.put_if_absent(outbox_item(mail, Some(now + crate::outbox::LEASE)))?,
        ];
        self.transact(items).await.map_err(conflict("disable totp", "the code was used meanwhile"))
    }
}

impl MfaLogins for DynamoStore {
    async fn put_mfa_challenge(&self, c: &MfaChallenge) -> StoreResult<()> {
        let mut item = challenge(&c.digest).item();
        item.insert("type".into(), s("mfa_challenge"));
        item.insert("account_id".into(), s(c.account.as_str()));
        item.insert("email".into(), s(c.email.as_str()));
        item.insert("client".into(), s(client_tag(&c.client)));
        item.insert("password_epoch".into(), n(c.password_epoch));
        item.insert("expires_at".into(), n(c.expires_at.timestamp()));
        self.put("put mfa challenge", item, Some("attribute_not_exists(pk)")).await
    }

    async fn mfa_facts(&self, account: &AccountId, digest: &TokenDigest) -> StoreResult<Option<MfaFacts>> {
        let items =
            self.batch_get("read mfa login", &[&challenge(digest), &enrolment(account), &profile(account)]).await?;
        let Some(found) = of_type(&items, "mfa_challenge") else { return Ok(None) };
        let challenge = challenge_from(found)?;
        if &challenge.account != account {
            return Ok(None);
        }
        let totp = of_type(&items, "totp").map(enrolment_from).transpose()?;
        let profile = of_type(&items, "account").map(super::account::profile_from).transpose()?;
        let password_epoch = profile.as_ref().map_or(0, |p| p.password_epoch);
        Ok(Some(MfaFacts { challenge, totp, account: profile.map(|p| p.account), password_epoch }))
    }

    async fn mfa_login_succeeded(
        &self,
        facts: &MfaFacts,
        proof: &Proof,
        session: &Session,
        device: &KnownDevice,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = &facts.challenge;
        let spend = Update::builder()
            .table_name(&self.table)
            .set_key(Some(challenge(&c.digest).item()))
            .update_expression("SET used_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :epoch")
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":epoch", n(now.timestamp()))
            .build();
        let mut items = vec![self.tx_update(spend)?, self.spend_proof(&c.account, proof)?];
        items.extend(self.session_writes(session)?);
        if let LoginClient::Address(_) = &c.client {
            items.push(self.clear_count(&c.email, &c.client, now)?);
        }
        items.push(self.know_device(&c.email, device)?);
        self.transact(items).await.map_err(conflict("second step", "the code, the token or the password changed"))
    }
}
