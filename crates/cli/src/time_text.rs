//! Times as text: RFC 3339 in UTC with nanoseconds, without a time-zone
//! database (UTC needs none).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch (0 before it).
pub fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// `2026-12-01T15:11:27.123456789Z`.
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since.subsec_nanos()
    )
}

/// `15:11:27` (UTC), for status lines.
pub fn clock(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let at = |ns: u64| UNIX_EPOCH + Duration::from_nanos(ns);
        assert_eq!(rfc3339_nanos(at(0)), "1970-01-01T00:00:00.000000000Z");
        // 2024-02-29 (a leap day) 23:59:59.000000001
        assert_eq!(
            rfc3339_nanos(at(1_709_251_199_000_000_001)),
            "2024-02-29T23:59:59.000000001Z"
        );
        assert_eq!(
            rfc3339_nanos(at(1_733_065_883_123_456_789)),
            "2024-12-01T15:11:23.123456789Z"
        );
        assert_eq!(
            rfc3339_nanos(at(4_102_444_800_000_000_000)),
            "2100-01-01T00:00:00.000000000Z"
        );
        assert_eq!(unix_nanos(at(1_733_065_883_123_456_789)), 1_733_065_883_123_456_789);
        assert_eq!(clock(at(1_733_065_883_123_456_789)), "15:11:23");
    }
}
