//! Timestamps: an event's time (for output and correlation windows) and parts of timestamps in event values (the
//! time-part modifiers `hour`, `day`, ...).

use crate::event::Event;
use crate::fields::{FieldId, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use vigil_compiler::ir::value::TimeUnit;

/// Reads RFC 3339 (`2025-11-27T07:40:10.165Z`) and Sysmon's `2025-11-27 07:40:10.132` (UTC, no zone).
pub fn parse(text: &str) -> Option<PrimitiveDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        // A time whose UTC is past year 9999 (`9999-12-31T23:59:59-00:01`) is valid RFC 3339 that `time` cannot
        // hold: a value that matches nothing, never a panic.
        let utc = t.checked_to_offset(time::UtcOffset::UTC)?;
        return Some(PrimitiveDateTime::new(utc.date(), utc.time()));
    }
    let with_fraction = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
    let without = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let iso_local = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    PrimitiveDateTime::parse(text, with_fraction)
        .or_else(|_| PrimitiveDateTime::parse(text, without))
        .or_else(|_| PrimitiveDateTime::parse(text, iso_local))
        .ok()
}

/// The fields holding an event's time, in the order they are tried: the EVTX `TimeCreated` `SystemTime`, then
/// `@timestamp`, `UtcTime`, `TimeCreated`, `EventTime`, `timestamp`, `time`; or only the one the user named
/// (`--time-field`, a field name as rules write it).
pub fn time_fields(user: Option<&str>) -> Vec<&str> {
    match user {
        Some(field) => vec![field],
        None => {
            vec!["TimeCreated_SystemTime", "@timestamp", "UtcTime", "TimeCreated", "EventTime", "timestamp", "time"]
        }
    }
}

/// The time an event carries, as written: the first of `fields` (ids of [`time_fields`] in the rule set's table,
/// so that the event decoded for the rules already holds them) whose value is a string.
pub fn event_time<'e>(event: &'e Event<'_>, fields: &[FieldId]) -> Option<&'e str> {
    fields.iter().find_map(|id| match event.get(*id)? {
        Value::Str(text, _) => Some(text.as_ref()),
        _ => None,
    })
}

/// A timestamp as milliseconds since the Unix epoch (UTC), for correlation windows.
pub fn millis(text: &str) -> Option<i64> {
    let t = parse(text)?.assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Milliseconds since the epoch as RFC 3339 (UTC), for output.
pub fn format_millis(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// One part of a timestamp (UTC); ISO week numbers.
pub fn part(text: &str, unit: TimeUnit) -> Option<i64> {
    let t = parse(text)?;
    Some(match unit {
        TimeUnit::Minute => t.minute() as i64,
        TimeUnit::Hour => t.hour() as i64,
        TimeUnit::Day => t.day() as i64,
        TimeUnit::Week => t.iso_week() as i64,
        TimeUnit::Month => u8::from(t.month()) as i64,
        TimeUnit::Year => t.year() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_both_formats() {
        assert_eq!(part("2025-11-27T07:40:10.165324Z", TimeUnit::Hour), Some(7));
        assert_eq!(part("2025-11-27T08:40:10+01:00", TimeUnit::Hour), Some(7));
        assert_eq!(part("2025-11-27 07:40:10.132", TimeUnit::Minute), Some(40));
        assert_eq!(part("2025-01-01T00:00:00Z", TimeUnit::Week), Some(1));
        assert_eq!(part("not a time", TimeUnit::Year), None);
        assert_eq!(millis("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(format_millis(1500), "1970-01-01T00:00:01.5Z");
    }

    #[test]
    fn times_out_of_range_are_no_time() {
        assert_eq!(parse("9999-12-31T23:59:59-00:01"), None);
        assert_eq!(millis("9999-12-31T23:59:59-00:01"), None);
        assert_eq!(part("9999-12-31T23:59:59-00:01", TimeUnit::Hour), None);
        assert!(millis("9999-12-31T23:59:59Z").is_some());
        assert!(!format_millis(i64::MAX).is_empty());
    }
}
