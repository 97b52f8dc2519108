//! The session check every authenticated route uses: the bearer in, the live session out.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::token::parse_session_token;
use crate::domain::{Serial, Subscription};
use crate::http::{ApiError, Call};
use crate::store::{AccountSessions, Profile, SerialSessions, Session, Sessions};

/// The caller's live session, or 401 `unauthorized`: not expired, used within the idle
/// limit, and made with the account's current password (a reset ends every older one).
/// One BatchGetItem (the session and its account); a token that cannot be one of ours
/// costs none. A use is recorded at most every few minutes, off the request's path.
pub async fn authenticate(
    store: &impl Sessions,
    settings: &Settings,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<Session, ApiError> {
    let (account, digest) = parse_session_token(call.bearer()?).ok_or(ApiError::Unauthorized)?;
    let (session, epoch) = store.session(&account, &digest).await?.ok_or(ApiError::Unauthorized)?;
    confirm(store, settings, session, epoch, now)
}

/// [`authenticate`], with the caller's profile (its e-mail, password epoch and pending
/// e-mail change) read in the same BatchGetItem: for the routes that act on the account.
pub async fn authenticate_with_profile(
    store: &(impl Sessions + AccountSessions),
    settings: &Settings,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<(Session, Profile), ApiError> {
    let (account, digest) = parse_session_token(call.bearer()?).ok_or(ApiError::Unauthorized)?;
    let (session, profile) = store.session_with_profile(&account, &digest).await?.ok_or(ApiError::Unauthorized)?;
    let session = confirm(store, settings, session, profile.password_epoch, now)?;
    Ok((session, profile))
}

/// [`authenticate_with_profile`], with the caller's serial `number` in the same
/// BatchGetItem (`None` if the account has no such serial): for the routes that act on
/// one serial.
pub async fn authenticate_with_serial(
    store: &(impl Sessions + SerialSessions),
    settings: &Settings,
    call: &Call,
    number: &Serial,
    now: DateTime<Utc>,
) -> Result<(Session, Profile, Option<Subscription>), ApiError> {
    let (account, digest) = parse_session_token(call.bearer()?).ok_or(ApiError::Unauthorized)?;
    let (session, profile, serial) =
        store.session_with_serial(&account, &digest, number).await?.ok_or(ApiError::Unauthorized)?;
    let session = confirm(store, settings, session, profile.password_epoch, now)?;
    Ok((session, profile, serial))
}

/// The session read, if it is alive; its use recorded when due.
fn confirm(
    store: &impl Sessions,
    settings: &Settings,
    session: Session,
    epoch: u64,
    now: DateTime<Utc>,
) -> Result<Session, ApiError> {
    let idle = chrono::Duration::minutes(i64::from(settings.session_idle_minutes));
    if !session.live_at(now, idle, epoch) {
        return Err(ApiError::Unauthorized);
    }
    if session.wants_touch(now) {
        store.touch_session(&session, now);
    }
    Ok(session)
}

/// The account a bearer token names, read from the token alone (no store call): lets a
/// request read that account's items alongside the session check. Nothing read with it
/// may be answered before [`authenticate`] confirms the session.
pub fn token_account(call: &Call) -> Result<crate::domain::AccountId, ApiError> {
    parse_session_token(call.bearer()?).map(|(account, _)| account).ok_or(ApiError::Unauthorized)
}

/// How the auth log names an e-mail: a keyed hash (HMAC-SHA256, 64 bits shown), so events
/// of one e-mail can be followed without the log holding the address.
pub fn email_tag(key: &crate::config::LogKey, email: &crate::domain::Email) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(email.as_str().as_bytes());
    mac.finalize().into_bytes().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogKey;
    use crate::domain::Email;

    #[test]
    fn an_email_tag_is_keyed_stable_and_not_the_email() {
        let (k1, k2) = (LogKey::random(), LogKey::random());
        let ana = Email::parse("ana@example.com").unwrap();
        let tag = email_tag(&k1, &ana);
        assert_eq!(tag.len(), 16);
        assert_eq!(tag, email_tag(&k1, &Email::parse(" ANA@example.com").unwrap()), "the same e-mail, the same tag");
        assert_ne!(tag, email_tag(&k2, &ana), "another key, another tag");
        assert_ne!(tag, email_tag(&k1, &Email::parse("luis@example.com").unwrap()));
        assert!(
            !tag.contains("ana") && !format!("{k1:?}").contains(&format!("{:?}", k1.as_bytes())),
            "no secret shown"
        );
    }
}
