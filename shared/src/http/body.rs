//! Reading what a request carries: its JSON object body (every error names its field) and
//! query parameters with a closed set of values.

use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value};

use super::ApiError;

/// Bodies above this size are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// E-mails, passwords and tokens above this length are refused before any work.
pub const MAX_FIELD_BYTES: usize = 1024;

/// A request's JSON object body, read field by field so every error names its field.
#[derive(Debug)]
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    pub fn parse(req: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = match req.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        };
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::InvalidRequest("body: a JSON object is required".into()));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::InvalidRequest(format!("body: not valid JSON (line {}, column {})", e.line(), e.column()))
        })?;
        match value {
            Value::Object(map) => Ok(JsonBody(map)),
            _ => Err(ApiError::InvalidRequest("body: must be a JSON object".into())),
        }
    }

    /// A required string field of at most `max_bytes`.
    pub fn string(&self, field: &str, max_bytes: usize) -> Result<&str, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Err(ApiError::InvalidRequest(format!("{field}: is required"))),
            Some(Value::String(s)) if s.len() > max_bytes => {
                Err(ApiError::InvalidRequest(format!("{field}: must be at most {max_bytes} bytes")))
            }
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(ApiError::InvalidRequest(format!("{field}: must be a string"))),
        }
    }

    /// An optional string field of at most `max_bytes` (absent or null: `None`).
    pub fn optional_string(&self, field: &str, max_bytes: usize) -> Result<Option<&str>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(field, max_bytes).map(Some),
        }
    }

    /// A required boolean field.
    pub fn boolean(&self, field: &str) -> Result<bool, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Err(ApiError::InvalidRequest(format!("{field}: is required"))),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::InvalidRequest(format!("{field}: must be true or false"))),
        }
    }
}

/// A query parameter with a closed set of values; an unknown value is 400 naming it.
pub fn query_choice<T>(
    req: &Request,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    let params = req.query_string_parameters_ref();
    let Some(values) = params.and_then(|p| p.all(name)) else { return Ok(None) };
    match values.as_slice() {
        [one] => parse(one).map(Some).ok_or_else(|| {
            ApiError::InvalidRequest(format!("{name}: {:?} is not one of {allowed}", truncate(one, 40)))
        }),
        _ => Err(ApiError::InvalidRequest(format!("{name}: give it once"))),
    }
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_the_bad_field() {
        let b = JsonBody::from_bytes(br#"{"email": 5, "ok": true}"#).unwrap();
        assert_eq!(b.string("email", 10).unwrap_err().to_string(), "invalid request: email: must be a string");
        assert_eq!(b.string("password", 10).unwrap_err().to_string(), "invalid request: password: is required");
        assert!(b.boolean("ok").unwrap());
        assert!(matches!(JsonBody::from_bytes(b"[1]"), Err(ApiError::InvalidRequest(_))));
        assert!(matches!(JsonBody::from_bytes(b"{"), Err(ApiError::InvalidRequest(_))));
        assert!(matches!(JsonBody::from_bytes(b""), Err(ApiError::InvalidRequest(_))));
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(JsonBody::from_bytes(&big), Err(ApiError::PayloadTooLarge)));
    }
}
