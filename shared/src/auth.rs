//! The session check every authenticated route uses: the bearer in, the live session out.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::token::parse_session_token;
use crate::http::{ApiError, Call};
use crate::store::{Session, Sessions};

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
    let idle = chrono::Duration::minutes(i64::from(settings.session_idle_minutes));
    if !session.live_at(now, idle, epoch) {
        return Err(ApiError::Unauthorized);
    }
    if session.wants_touch(now) {
        store.touch_session(&session, now);
    }
    Ok(session)
}
