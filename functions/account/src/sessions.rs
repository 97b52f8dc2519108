//! `GET /sessions` and `DELETE /sessions/{id}`: the account's open sessions, each named by
//! an id that is not its token, and ending one of them.

use chrono::{DateTime, SecondsFormat, Utc};
use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::{authenticate, token_account};
use shared::http::{json, no_content, ApiError, Call, Reply};
use shared::store::{AccountSessions, Session, Sessions};

use crate::App;

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<SessionView>,
}

/// What the owner sees of a session: never its token or digest.
#[derive(Serialize)]
struct SessionView {
    id: String,
    created_at: String,
    last_used_at: String,
    source_ip: String,
    user_agent: String,
    current: bool,
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Session ids are 128 bits of lower-case hex (`random_id`); anything else names none.
fn plausible_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl<S: Sessions + AccountSessions> App<S> {
    fn idle(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.settings.session_idle_minutes))
    }

    /// One round trip: the session check and the account's sessions go out together.
    pub(crate) async fn list_sessions(&self, call: Call) -> Reply {
        let account = token_account(&call)?;
        let (caller, listed) =
            tokio::join!(authenticate(&self.store, &self.settings, &call, call.now), self.store.sessions_of(&account));
        let caller = caller?;
        // Only the live ones: the caller's own is live, so its epoch is the account's.
        let mut live: Vec<Session> =
            listed?.into_iter().filter(|s| s.live_at(call.now, self.idle(), caller.password_epoch)).collect();
        live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        let sessions = live
            .into_iter()
            .map(|s| {
                let current = s.id == caller.id;
                SessionView {
                    // This call is the caller's latest use (its record is written later).
                    last_used_at: instant(if current { call.now } else { s.last_used_at }),
                    created_at: instant(s.created_at),
                    id: s.id,
                    source_ip: s.source_ip,
                    user_agent: s.user_agent,
                    current,
                }
            })
            .collect();
        json(StatusCode::OK, &SessionList { sessions })
    }

    pub(crate) async fn end_session(&self, call: Call) -> Reply {
        let account = token_account(&call)?;
        let id = call.param("id")?.to_string();
        let (caller, target) = tokio::join!(authenticate(&self.store, &self.settings, &call, call.now), async {
            if plausible_id(&id) {
                self.store.session_by_id(&account, &id).await
            } else {
                Ok(None)
            }
        });
        let caller = caller?;
        let target = target?
            .filter(|s| s.live_at(call.now, self.idle(), caller.password_epoch))
            .ok_or(ApiError::SessionNotFound)?;
        self.store.revoke_session(&target).await?;
        tracing::info!(
            event = "session_ended",
            own = target.id == caller.id,
            client = call.caller.source_ip.as_str(),
            "session ended"
        );
        no_content()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_ids_of_our_shape_are_looked_up() {
        assert!(super::plausible_id("0123456789abcdef0123456789abcdef"));
        for bad in ["", "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcde", "../x"] {
            assert!(!super::plausible_id(bad), "{bad}");
        }
    }
}
