//! The session check every authenticated route uses: bearer header in, account e-mail out.

use chrono::{DateTime, Utc};
use lambda_http::Request;

use crate::domain::token::{plausible_token, TokenDigest};
use crate::http::{bearer, ApiError};
use crate::store::{Session, Sessions};

/// The caller's live session, or 401 `unauthorized`. One GetItem.
pub async fn authenticate(store: &impl Sessions, req: &Request, now: DateTime<Utc>) -> Result<Session, ApiError> {
    let token = bearer(req)?;
    if !plausible_token(token) {
        return Err(ApiError::Unauthorized);
    }
    store.session(&TokenDigest::of(token), now).await?.ok_or(ApiError::Unauthorized)
}
