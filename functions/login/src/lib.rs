//! `POST /login` and `POST /logout`: password login, bearer sessions, and guessing bounded
//! without letting anyone lock a customer out: five failures lock one client (its address,
//! or its known device) out of one e-mail for 15 minutes; past 100 failures an hour on an
//! e-mail only known devices may try, and the owner gets one mail. Unknown e-mails go
//! through the same steps, the same store calls and the same answers.
//!
//! With two-step verification on, a right password makes no session: the answer is a
//! short-lived `mfa_token`, and `POST /login/mfa` ([`mfa`]) takes it with a code.

mod mfa;

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::{authenticate, email_tag};
use shared::config::{MailSettings, Settings};
use shared::domain::password::PasswordHasherArgon;
use shared::domain::token::{issue_session_token, issue_token, plausible_token, random_id, TokenDigest};
use shared::domain::{AccountId, Credentials, Email};
use shared::http::{json, no_content, run_blocking, ApiError, Call, Function, Input, Reply, Route, MAX_FIELD_BYTES};
use shared::mail::{compose, Mailer};
use shared::metrics;
use shared::outbox;
use shared::sealing::DataKeySource;
use shared::startup::Base;
use shared::store::{
    Accounts, AttemptReservation, DynamoStore, KnownDevice, LoginAttempts, LoginClient, LoginFacts, Logins, MailOutbox,
    MfaChallenge, MfaLogins, Session, Sessions, StoreError, ACCOUNT_FAILURES_PER_HOUR, DEVICE_DAYS, MFA_TOKEN_MINUTES,
};
use shared::telemetry::fail_start;

/// Device tokens are at most this long (the contract's limit).
const MAX_DEVICE_TOKEN: usize = 128;

pub struct App<S> {
    store: S,
    settings: Settings,
    hasher: PasswordHasherArgon,
    mail: MailSettings,
    mailer: Mailer,
    /// The data key of the TOTP secrets, read on the first second step.
    totp_key: DataKeySource,
}

/// The function's routes, declared once: the dispatcher, `template.yaml` and
/// `openapi.yaml` all follow this table (checked by the workspace's route test).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![
        Route::post("/login", Input::Json, |app, call| Box::pin(app.login(call))),
        Route::post("/logout", Input::Nothing, |app, call| Box::pin(app.logout(call))),
        Route::post("/login/mfa", Input::Json, |app, call| Box::pin(app.login_mfa(call))),
    ]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let hasher = PasswordHasherArgon::new().unwrap_or_else(|e| fail_start("password hasher", e));
        let (mail, mailer) = base.mail();
        let totp_key = base.totp_key();
        let edge = base.settings.origin_verify_secret.clone();
        Function::new(App { store: base.store, settings: base.settings, hasher, mail, mailer, totp_key }, routes())
            .behind_edge(edge)
    }
}

#[derive(Serialize)]
struct LoginResponse<'a> {
    token: &'a str,
    token_type: &'static str,
    expires_at: String,
    account: AccountView<'a>,
    device_token: &'a str,
}

/// The answer of a right password when a code is still needed.
#[derive(Serialize)]
struct MfaRequired<'a> {
    mfa_required: bool,
    mfa_token: &'a str,
    expires_at: String,
}

#[derive(Serialize)]
struct AccountView<'a> {
    email: &'a str,
    name: &'a str,
    company: &'a str,
}

fn internal(e: getrandom::Error) -> ApiError {
    ApiError::Internal(e.to_string())
}

impl<S: Accounts + Logins + LoginAttempts + Sessions + MailOutbox + MfaLogins> App<S> {
    async fn logout(&self, call: Call) -> Reply {
        let session = authenticate(&self.store, &self.settings, &call, call.now).await?;
        self.store.revoke_session(&session).await?;
        tracing::info!(event = "logout", client = call.caller.source_ip.as_str(), "logged out");
        no_content()
    }

    async fn login(&self, call: Call) -> Reply {
        let now = call.now;
        let body = call.body()?;
        let typed = body.string("email", MAX_FIELD_BYTES)?;
        let password = body.string("password", MAX_FIELD_BYTES)?.to_string();
        let device_token = body.optional_string("device_token", MAX_DEVICE_TOKEN)?.filter(|t| plausible_token(t));
        let Ok(email) = Email::parse(typed) else {
            // Not an address: no account can have it. Same answer, same hash work.
            self.burn(password).await?;
            login_metric("failed");
            return Err(ApiError::InvalidCredentials);
        };
        // The auth log names the e-mail by a keyed hash and the client by its address; the
        // request id is on every line already (the runtime's span).
        let tag = email_tag(&self.settings.log_key, &email);
        let client_ip = call.caller.source_ip.as_str();
        let address = LoginClient::Address(call.caller.source_ip.clone());
        let mut client = match device_token {
            Some(t) => LoginClient::Device(TokenDigest::of(t)),
            None => address.clone(),
        };
        // The read and the attempt go out together: the attempt is taken before anything is
        // known, so that parallel guesses cannot get past five.
        let (facts, reserved) =
            tokio::join!(self.store.login_facts(&email, now), self.store.reserve_login_attempt(&email, &client, now));
        let (facts, mut reserved) = (facts?, reserved?);
        let ceiling = facts.failures_this_hour >= ACCOUNT_FAILURES_PER_HOUR;
        if reserved == AttemptReservation::UnknownDevice {
            // Not a device of this e-mail: the token is ignored and the login counts as its
            // address (one more round trip, for made-up and expired tokens only).
            client = address;
            if !ceiling {
                reserved = self.store.reserve_login_attempt(&email, &client, now).await?;
            }
        }
        let known_device = matches!(client, LoginClient::Device(_));
        if ceiling && !known_device {
            // Until the clock hour is over, only known devices may try; the attempt taken
            // alongside the read is not one of this client's five.
            if reserved == AttemptReservation::Granted {
                if let Err(e) = self.store.give_back_login_attempt(&email, &client).await {
                    tracing::warn!(error = %e, "login attempt not given back");
                }
            }
            let secs = 3600 - now.timestamp().rem_euclid(3600) as u64;
            tracing::info!(event = "login_ceiling", email_tag = %tag, client = client_ip, retry_after = secs,
                "login refused: hourly limit for this e-mail, unknown device");
            login_metric("limited");
            return Err(ApiError::AccountLocked { retry_after_secs: secs });
        }
        if let AttemptReservation::Locked(until) = reserved {
            let secs = (until - now).num_seconds().max(1) as u64;
            tracing::info!(event = "login_locked", email_tag = %tag, client = client_ip, retry_after = secs,
                "login refused: this client is locked out");
            login_metric("locked");
            return Err(ApiError::AccountLocked { retry_after_secs: secs });
        }
        let (matches, renewed) = match &facts.credentials {
            // One without a password yet costs what a wrong password does (`verify`).
            Some(c) => self.verify(password, c).await?,
            // No account: the same work and the same answer.
            None => {
                self.burn(password).await?;
                (false, None)
            }
        };
        let Some(credentials) = facts.credentials.as_ref().filter(|_| matches) else {
            let failures = self.store.count_failed_login(&email, now).await?;
            if failures == ACCOUNT_FAILURES_PER_HOUR {
                self.tell_owner(&facts, now).await;
            }
            tracing::info!(event = "login_failed", email_tag = %tag, client = client_ip, failures_this_hour = failures,
                "login failed");
            login_metric("failed");
            return Err(ApiError::InvalidCredentials);
        };
        // A hash at an older cost is stored again at the current one, alongside the
        // login's own write (no round trip more).
        let renewal = self.renew(&email, credentials, renewed);
        if credentials.two_step {
            // The attempt taken stays counted until the second step succeeds: a right
            // password alone does not give a client five more tries at the code.
            let (asked, ()) = tokio::join!(self.ask_for_code(&call, &email, client, credentials), renewal);
            return asked;
        }
        // A known device keeps its token (and is known for another year); any other client
        // is given a new one.
        let (device_secret, device_digest) = match (&client, device_token) {
            (LoginClient::Device(digest), Some(secret)) => (secret.to_string(), digest.clone()),
            _ => {
                let issued = issue_token().map_err(internal)?;
                (issued.secret, issued.digest)
            }
        };
        let device = KnownDevice {
            digest: device_digest,
            account: credentials.account.clone(),
            expires_at: now + Duration::days(DEVICE_DAYS),
        };
        let address = match &client {
            LoginClient::Address(ip) => Some(ip.as_str()),
            LoginClient::Device(_) => None,
        };
        let (token, session) =
            self.new_session(&call, &credentials.account, credentials.password_epoch, &device.digest)?;
        // A login item written before it kept the account's copies: the profile is read
        // alongside the write.
        let (written, account, ()) = tokio::join!(
            self.store.login_succeeded(&email, &session, &device, address),
            async {
                match &facts.account {
                    Some(a) => Ok(Some(a.clone())),
                    None => self.store.account(&credentials.account).await,
                }
            },
            renewal
        );
        match written {
            Ok(()) => {}
            // A reset replaced the password while this login checked the old one.
            Err(StoreError::Conflict(_)) => {
                login_metric("failed");
                return Err(ApiError::InvalidCredentials);
            }
            Err(e) => return Err(e.into()),
        }
        let account = account?.ok_or_else(|| ApiError::Internal("a login without its account".into()))?;
        tracing::info!(event = "login", email_tag = %tag, client = client_ip, known_device, "logged in");
        login_metric("succeeded");
        json(
            StatusCode::OK,
            &LoginResponse {
                token: &token,
                token_type: "Bearer",
                expires_at: session.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                account: AccountView { email: account.email.as_str(), name: &account.name, company: &account.company },
                device_token: &device_secret,
            },
        )
    }

    /// The password was right and two-step verification is on: a challenge, no session.
    async fn ask_for_code(&self, call: &Call, email: &Email, client: LoginClient, credentials: &Credentials) -> Reply {
        let token = issue_session_token(&credentials.account).map_err(internal)?;
        let challenge = MfaChallenge {
            digest: token.digest,
            account: credentials.account.clone(),
            email: email.clone(),
            client,
            password_epoch: credentials.password_epoch,
            expires_at: call.now + Duration::minutes(MFA_TOKEN_MINUTES),
            used: false,
        };
        self.store.put_mfa_challenge(&challenge).await?;
        tracing::info!(event = "login_needs_code", email_tag = %email_tag(&self.settings.log_key, email),
            client = call.caller.source_ip.as_str(), "password right; waiting for the second step");
        login_metric("code_asked");
        json(
            StatusCode::OK,
            &MfaRequired {
                mfa_required: true,
                mfa_token: &token.secret,
                expires_at: challenge.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        )
    }

    /// A new session for the caller, not yet stored: its bearer token and the session.
    fn new_session(
        &self,
        call: &Call,
        account: &AccountId,
        password_epoch: u64,
        device: &TokenDigest,
    ) -> Result<(String, Session), ApiError> {
        let token = issue_session_token(account).map_err(internal)?;
        let session = Session {
            digest: token.digest,
            id: random_id().map_err(internal)?,
            account: account.clone(),
            created_at: call.now,
            expires_at: call.now + Duration::hours(i64::from(self.settings.session_ttl_hours)),
            last_used_at: call.now,
            password_epoch,
            source_ip: call.caller.source_ip.clone(),
            user_agent: call.caller.user_agent.clone(),
            device: Some(device.clone()),
        };
        Ok((token.secret, session))
    }

    /// Whether `password` is the account's and, when it is but its hash is at an older
    /// cost, a hash of it at the current one (stored by [`Self::renew`]).
    async fn verify(&self, password: String, credentials: &Credentials) -> Result<(bool, Option<String>), ApiError> {
        let Some(stored) = credentials.password_hash.clone() else {
            // No password yet (an imported account, not yet invited in): nothing can
            // match, at the same cost as a wrong password.
            self.burn(password).await?;
            return Ok((false, None));
        };
        let hasher = self.hasher.clone();
        run_blocking(move || {
            let matches = hasher.verify(&password, &stored);
            let renewed = (matches && hasher.outdated(&stored)).then(|| hasher.hash(&password).ok()).flatten();
            (matches, renewed)
        })
        .await
    }

    /// Stores `renewed` in place of the hash the login checked. A failure leaves the old
    /// hash, which still verifies (the next login tries again); `false` from the store
    /// means the password changed meanwhile, and the new one is at the current cost.
    async fn renew(&self, email: &Email, credentials: &Credentials, renewed: Option<String>) {
        let (Some(old), Some(renewed)) = (credentials.password_hash.as_deref(), renewed) else { return };
        let tag = email_tag(&self.settings.log_key, email);
        match self.store.renew_password_hash(email, old, &renewed).await {
            Ok(true) => tracing::info!(event = "password_hash_renewed", email_tag = %tag,
                "password hash stored again at the current Argon2id parameters"),
            Ok(false) => {}
            Err(e) => tracing::warn!(event = "password_hash_not_renewed", email_tag = %tag, error = %e,
                "password hash left at its older parameters"),
        }
    }

    /// The hash work of a check, for a login no account can pass.
    async fn burn(&self, password: String) -> Result<(), ApiError> {
        let hasher = self.hasher.clone();
        run_blocking(move || hasher.burn(&password)).await
    }

    /// The one mail of the hour to the owner of an e-mail under attack: only the failure
    /// that takes the hourly count to the limit (an atomic add) gets here.
    async fn tell_owner(&self, facts: &LoginFacts, now: DateTime<Utc>) {
        let Some(login) = &facts.credentials else { return };
        let account = match &facts.account {
            Some(a) => a.clone(),
            None => match self.store.account(&login.account).await {
                Ok(Some(a)) => a,
                Ok(None) => return,
                Err(e) => return tracing::warn!(error = %e, "login limit notice not made"),
            },
        };
        let pending = compose::login_ceiling_notice(&self.mail, &account, now);
        match self.store.put_outgoing(&pending).await {
            Ok(()) => {
                outbox::deliver(&self.store, &self.mailer, &pending, now).await;
            }
            Err(e) => tracing::warn!(error = %e, "login limit notice not queued"),
        }
    }
}

/// One login answered, by its outcome: `succeeded`, `failed` (unknown e-mail, wrong
/// password or wrong code), `locked` (this client's five attempts), `limited` (the e-mail's
/// hourly ceiling, for clients that are not a known device) or `code_asked` (the password
/// was right; the second step decides).
pub(crate) fn login_metric(outcome: &str) {
    metrics::count_by("Logins", "Outcome", outcome, 1);
}
