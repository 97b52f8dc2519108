//! The session check every authenticated route uses: the bearer in, the live session out.

use chrono::{DateTime, Utc};

use crate::domain::token::{plausible_token, TokenDigest};
use crate::http::{ApiError, Call};
use crate::store::{Session, Sessions};

/// The caller's live session, or 401 `unauthorized`. One GetItem; a token that cannot
/// be one of ours costs none.
pub async fn authenticate(store: &impl Sessions, call: &Call, now: DateTime<Utc>) -> Result<Session, ApiError> {
    let token = call.bearer()?;
    if !plausible_token(token) {
        return Err(ApiError::Unauthorized);
    }
    store.session(&TokenDigest::of(token), now).await?.ok_or(ApiError::Unauthorized)
}
