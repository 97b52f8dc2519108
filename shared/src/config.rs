//! Settings from the environment (docs/product.md, "Configuration"), read once per cold start.
//!
//! AWS settings (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL*`) are read by the SDK itself.

use std::env;

use chrono::{DateTime, NaiveDate, Utc};

use crate::zone::Zone;

use crate::domain::{LegacyPattern, SerialFormats};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing required setting {0}")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Settings every function needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub table_name: String,
    pub time_zone: Zone,
    pub session_ttl_hours: u32,
    /// A session unused this long is dead.
    pub session_idle_minutes: u32,
    /// The value CloudFront sends in `X-Origin-Verify`: a request carrying it came through
    /// the edge, whose `True-Client-IP` is then the client's address. Unset: trust only the
    /// gateway's own source address.
    pub origin_verify_secret: Option<String>,
    /// Keys the hash that names an e-mail in the auth log (`LOG_EMAIL_KEY`).
    pub log_key: LogKey,
    /// The serials accepted where one comes in: the portal's, and the vendor's legacy
    /// format when `LEGACY_SERIAL_PATTERN` declares it.
    pub serials: SerialFormats,
}

/// The key of the e-mail tags in the auth log. Without `LOG_EMAIL_KEY` it is random per
/// instance (tags then match only within one instance). Never printed.
#[derive(Clone)]
pub struct LogKey(Vec<u8>);

impl LogKey {
    pub fn random() -> Self {
        let mut key = vec![0u8; 32];
        // Without randomness there is no secret to key with: an empty key still hides the
        // e-mail from a reader who does not know the scheme, and startup goes on.
        let _ = getrandom::fill(&mut key);
        LogKey(key)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogKey(..)")
    }
}

/// Settings of the functions that send mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub mail_from: String,
    pub portal_url: String,
    pub vendor_name: String,
    pub support_phone: String,
    pub distributor_url: String,
    /// The vendor's download centre, where the new version comes from (upgrade term 5).
    pub download_url: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = required(&get, "TABLE_NAME")?;
        let time_zone = match get("TIME_ZONE").filter(|s| !s.trim().is_empty()) {
            None => Zone::mexico_city(),
            Some(tz) => {
                Zone::named(&tz).map_err(|e| ConfigError::Invalid { name: "TIME_ZONE", reason: e.to_string() })?
            }
        };
        // OWASP ASVS 3.3: a session lives at most 12 hours, and dies after a while unused.
        let session_ttl_hours = number(&get, "SESSION_TTL_HOURS", 12, 1..=12, "hours")?;
        let session_idle_minutes = number(&get, "SESSION_IDLE_MINUTES", 30, 5..=720, "minutes")?;
        let origin_verify_secret = get("ORIGIN_VERIFY_SECRET").filter(|s| !s.trim().is_empty());
        let log_key = match get("LOG_EMAIL_KEY").filter(|s| !s.trim().is_empty()) {
            Some(k) if k.len() >= 16 => LogKey(k.into_bytes()),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_EMAIL_KEY",
                    reason: "must be at least 16 characters".into(),
                })
            }
            None => LogKey::random(),
        };
        let serials = match get("LEGACY_SERIAL_PATTERN").filter(|s| !s.trim().is_empty()) {
            None => SerialFormats::portal(),
            Some(p) => SerialFormats::with_legacy(
                LegacyPattern::new(&p)
                    .map_err(|e| ConfigError::Invalid { name: "LEGACY_SERIAL_PATTERN", reason: e.to_string() })?,
            ),
        };
        Ok(Settings {
            table_name,
            time_zone,
            session_ttl_hours,
            session_idle_minutes,
            origin_verify_secret,
            log_key,
            serials,
        })
    }

    /// Today in the vendor's time zone: statuses and activation dates use it.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.time_zone.date_of(now)
    }
}

impl MailSettings {
    /// The settings of the local stack's mails (tests and examples).
    #[cfg(any(test, feature = "testing"))]
    pub fn local_example() -> MailSettings {
        MailSettings {
            mail_from: "no-reply@portal.example".into(),
            portal_url: "http://127.0.0.1:5173".into(),
            vendor_name: "Aspel".into(),
            support_phone: "800 277 3735".into(),
            distributor_url: "https://www.aspel.com.mx/distribuidores".into(),
            download_url: "https://www.aspel.com.mx/descargas".into(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mail_from = required(&get, "MAIL_FROM")?;
        if !mail_from.contains('@') {
            return Err(ConfigError::Invalid { name: "MAIL_FROM", reason: "not an e-mail address".into() });
        }
        let portal_url = url_setting(&get, "PORTAL_URL")?;
        let distributor_url = url_setting(&get, "DISTRIBUTOR_URL")?;
        let download_url = url_setting(&get, "DOWNLOAD_URL")?;
        Ok(MailSettings {
            mail_from,
            portal_url,
            vendor_name: required(&get, "VENDOR_NAME")?,
            support_phone: required(&get, "SUPPORT_PHONE")?,
            distributor_url,
            download_url,
        })
    }
}

/// An optional whole-number setting within `range`, `default` when unset.
fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    unit: &str,
) -> Result<u32, ConfigError> {
    let Some(raw) = get(name).filter(|s| !s.trim().is_empty()) else { return Ok(default) };
    match raw.trim().parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("{raw:?} is not a number of {unit} between {} and {}", range.start(), range.end()),
        }),
    }
}

fn required(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<String, ConfigError> {
    get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name))
}

fn url_setting(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<String, ConfigError> {
    let v = required(get, name)?;
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(ConfigError::Invalid { name, reason: format!("{v:?} is not an http(s) URL") });
    }
    Ok(v.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_and_required() {
        let s = Settings::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap();
        assert_eq!((s.session_ttl_hours, s.session_idle_minutes), (12, 30));
        for (name, bad) in [("SESSION_TTL_HOURS", "13"), ("SESSION_TTL_HOURS", "0"), ("SESSION_IDLE_MINUTES", "x")] {
            let err = Settings::from_lookup(lookup(&[("TABLE_NAME", "t"), (name, bad)])).unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { name: n, .. } if n == name), "{name}={bad}: {err}");
        }
        assert_eq!(s.time_zone, Zone::mexico_city());
        assert_eq!(Settings::from_lookup(lookup(&[])).unwrap_err(), ConfigError::Missing("TABLE_NAME"));
        assert_eq!(
            Settings::from_lookup(lookup(&[("TABLE_NAME", "t"), ("TIME_ZONE", "Mars/Base")])).unwrap_err().to_string(),
            "setting TIME_ZONE is invalid: \"Mars/Base\" is not an IANA time zone such as America/Mexico_City"
        );
        assert!(MailSettings::from_lookup(lookup(&[("MAIL_FROM", "a@b.c")])).is_err());
    }

    #[test]
    fn legacy_serial_pattern_is_read_once_and_checked() {
        let s = Settings::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap();
        assert!(s.serials.legacy().is_none());
        let s =
            Settings::from_lookup(lookup(&[("TABLE_NAME", "t"), ("LEGACY_SERIAL_PATTERN", "SAE-[0-9]{8}")])).unwrap();
        assert_eq!(s.serials.legacy().map(|p| p.as_str()), Some("SAE-[0-9]{8}"));
        assert!(s.serials.parse("sae-12345678").unwrap().is_legacy());
        let err = Settings::from_lookup(lookup(&[("TABLE_NAME", "t"), ("LEGACY_SERIAL_PATTERN", "[0-9")])).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { name: "LEGACY_SERIAL_PATTERN", .. }), "{err}");
    }

    #[test]
    fn today_is_the_vendors_day() {
        let s = Settings::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap();
        // 03:00 UTC on the 28th is still the 27th in Mexico City (UTC-6).
        let now: DateTime<Utc> = "2026-11-28T03:00:00Z".parse().unwrap();
        assert_eq!(s.today(now).to_string(), "2026-11-27");
    }
}
