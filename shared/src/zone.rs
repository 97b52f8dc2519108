//! The vendor's time zone (`TIME_ZONE`): it decides what "today" is for statuses and
//! activation dates, and where a validation's day ends.
//!
//! Backed by `jiff` with the IANA database compiled in as TZif bytes, read only for the
//! zone named at start. The full `chrono-tz` tables it replaces are pointer-rich data
//! that the loader relocates at every cold start (about 30,000 relocations, most of
//! what made the functions that read dates start slower; BENCHMARKS.md, "Cold start").

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use jiff::civil;
use jiff::tz::TimeZone;

/// A time zone of the IANA database, by name.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an IANA time zone such as America/Mexico_City")]
pub struct UnknownZone(pub String);

impl Zone {
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        let name = name.trim();
        let tz = TimeZone::get(name).map_err(|_| UnknownZone(name.to_string()))?;
        Ok(Zone { name: name.to_string(), tz })
    }

    /// The portal's default: the vendor's customers are in Mexico.
    pub fn mexico_city() -> Zone {
        Zone::named("America/Mexico_City").expect("the compiled-in database has America/Mexico_City")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The calendar day `instant` falls on in this zone.
    pub fn date_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        let offset =
            jiff::Timestamp::from_second(instant.timestamp()).map(|t| self.tz.to_offset(t).seconds()).unwrap_or(0);
        (instant + chrono::Duration::seconds(i64::from(offset))).date_naive()
    }

    /// The first instant that reads `local` on this zone's clocks (the earlier one when
    /// clocks go back; `None` when `local` falls in a gap and never happens).
    pub fn earliest(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        let dt = civil::DateTime::new(
            i16::try_from(local.year()).ok()?,
            i8::try_from(local.month()).ok()?,
            i8::try_from(local.day()).ok()?,
            i8::try_from(local.hour()).ok()?,
            i8::try_from(local.minute()).ok()?,
            i8::try_from(local.second()).ok()?,
            0,
        )
        .ok()?;
        let ambiguous = self.tz.to_ambiguous_timestamp(dt);
        if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
            return None;
        }
        let t = ambiguous.earlier().ok()?;
        DateTime::from_timestamp(t.as_second(), 0)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    /// chrono-tz, an independent reading of the same database, agrees on every hour of
    /// two years in zones with and without daylight saving time.
    #[test]
    fn dates_and_midnights_agree_with_chrono_tz() {
        for name in ["America/Mexico_City", "America/Tijuana", "Europe/Madrid", "America/Bogota"] {
            let zone = Zone::named(name).unwrap();
            let other: chrono_tz::Tz = name.parse().unwrap();
            let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 30, 0).unwrap();
            for h in 0..(2 * 366 * 24) {
                let t = start + chrono::Duration::hours(h);
                assert_eq!(zone.date_of(t), t.with_timezone(&other).date_naive(), "{name} at {t}");
                let local = t.with_timezone(&other).naive_local();
                let want = other.from_local_datetime(&local).earliest().map(|x| x.with_timezone(&Utc));
                assert_eq!(zone.earliest(local), want, "{name}: {local}");
            }
        }
    }

    #[test]
    fn a_local_time_in_a_gap_never_happens() {
        let madrid = Zone::named("Europe/Madrid").unwrap();
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap().and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(madrid.earliest(gap), None);
        let twice = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap().and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(madrid.earliest(twice), Some(Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()));
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(Zone::named("America/Atlantis").is_err());
        assert!(Zone::named("").is_err());
        assert_eq!(Zone::named(" America/Mexico_City ").unwrap(), Zone::mexico_city());
    }
}
