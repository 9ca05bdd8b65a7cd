//! Budget periods in UTC: which day or month an instant falls in (as a
//! small integer that changes when the period does) and how long until the
//! next one starts (calendar arithmetic in `calendar.rs`).

use crate::calendar::{civil_from_days, days_from_civil};
use crate::table::Period;

/// The period `unix_secs` falls in: days since 1970 for `Day`, months since
/// 1970-01 for `Month`; with the seconds until the next period starts.
pub fn current(period: Period, unix_secs: u64) -> (u32, u64) {
    let days = unix_secs / 86_400;
    match period {
        Period::Day => (days as u32, 86_400 - unix_secs % 86_400),
        Period::Month => {
            let (year, month, _) = civil_from_days(days);
            let index = (year - 1970) * 12 + (month - 1);
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let next = days_from_civil(next_year, next_month) * 86_400;
            (index as u32, next.saturating_sub(unix_secs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_months_in_utc() {
        // 2026-11-30T23:59:59Z and one second later.
        let last = 1_796_083_199;
        assert_eq!(current(Period::Day, last), (20_787, 1));
        assert_eq!(current(Period::Day, last + 1), (20_788, 86_400));
        assert_eq!(current(Period::Month, last), ((2026 - 1970) * 12 + 10, 1));
        assert_eq!(current(Period::Month, last + 1).0, (2026 - 1970) * 12 + 11);
        // December runs 31 days into the next year.
        assert_eq!(current(Period::Month, last + 1).1, 31 * 86_400);
        // A leap February: 2028-02-01T00:00:00Z has 29 days to go.
        assert_eq!(current(Period::Month, 1_832_976_000).1, 29 * 86_400);
        assert_eq!(current(Period::Month, 0), (0, 31 * 86_400));
    }
}
