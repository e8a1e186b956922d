//! Business time per policy: an IANA time zone, weekends and a holiday set.
//!
//! A business day is Monday to Friday in the policy's zone, minus its
//! holidays. "N business hours" counts elapsed time that falls inside business
//! days, around the clock (24 business hours = one whole business day). "N
//! business days" lands on the same local time of day, N business days after
//! the start's local date. Days are bounded by local midnights converted to
//! UTC, so a daylight-saving switch only moves where a day starts and ends.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Holiday sets a calendar can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holidays {
    /// Weekends only.
    None,
    /// French public holidays (Code du travail L3133-1), Easter-based ones computed per year.
    France,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub tz: Tz,
    pub holidays: Holidays,
}

/// Upper bound on days walked by one computation; policies ask for at most a few weeks.
const MAX_DAYS_WALKED: u32 = 20_000;

impl Calendar {
    pub const UTC_WEEKENDS: Calendar = Calendar {
        tz: chrono_tz::UTC,
        holidays: Holidays::None,
    };
    pub const PARIS_FRENCH_HOLIDAYS: Calendar = Calendar {
        tz: chrono_tz::Europe::Paris,
        holidays: Holidays::France,
    };

    /// IANA name of the zone, e.g. "Europe/Paris".
    pub fn time_zone_name(&self) -> &'static str {
        self.tz.name()
    }

    /// "FR", or "" for weekends only.
    pub fn holiday_calendar_name(&self) -> &'static str {
        match self.holidays {
            Holidays::None => "",
            Holidays::France => "FR",
        }
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        match self.holidays {
            Holidays::None => false,
            Holidays::France => is_french_public_holiday(date),
        }
    }

    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    pub fn is_business_instant(&self, t: DateTime<Utc>) -> bool {
        self.is_business_day(self.local_date(t))
    }

    /// The UTC instant of a local wall-clock time; a time skipped by a
    /// daylight-saving switch moves forward past the gap.
    fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            probe += TimeDelta::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }

    fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        self.instant(date.and_time(NaiveTime::MIN))
    }

    /// `start` plus `hours` hours counted only inside business days.
    pub fn add_business_hours(&self, start: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        self.add_business_time(start, TimeDelta::hours(i64::from(hours)))
    }

    /// `start` plus `amount` of elapsed time counted only inside business days.
    pub fn add_business_time(&self, start: DateTime<Utc>, amount: TimeDelta) -> DateTime<Utc> {
        let mut remaining = amount;
        if remaining <= TimeDelta::zero() {
            return start;
        }
        let mut date = self.local_date(start);
        for _ in 0..MAX_DAYS_WALKED {
            let Some(next) = date.checked_add_days(Days::new(1)) else {
                break;
            };
            if self.is_business_day(date) {
                let from = self.start_of(date).max(start);
                let to = self.start_of(next);
                let available = to - from;
                if available > TimeDelta::zero() {
                    if remaining <= available {
                        return from + remaining;
                    }
                    remaining -= available;
                }
            }
            date = next;
        }
        self.start_of(date) + remaining
    }

    /// Business time elapsed from `from` to `to` (zero when `to <= from`).
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        let mut total = TimeDelta::zero();
        if to <= from {
            return total;
        }
        let mut date = self.local_date(from);
        for _ in 0..MAX_DAYS_WALKED {
            let day_start = self.start_of(date);
            if day_start >= to {
                break;
            }
            let Some(next) = date.checked_add_days(Days::new(1)) else {
                break;
            };
            if self.is_business_day(date) {
                let a = day_start.max(from);
                let b = self.start_of(next).min(to);
                if b > a {
                    total += b - a;
                }
            }
            date = next;
        }
        total
    }

    /// The same local time of day, `days` business days after `start`'s local date.
    pub fn add_business_days(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = start.with_timezone(&self.tz).naive_local();
        let mut date = local.date();
        let mut counted = 0;
        for _ in 0..MAX_DAYS_WALKED {
            if counted >= days {
                break;
            }
            let Some(next) = date.checked_add_days(Days::new(1)) else {
                break;
            };
            date = next;
            if self.is_business_day(date) {
                counted += 1;
            }
        }
        if days == 0 {
            return start;
        }
        self.instant(date.and_time(local.time()))
    }
}

/// Easter Sunday of the Gregorian calendar (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// 1 Jan, Easter Monday, 1 May, 8 May, Ascension, Whit Monday, 14 Jul,
/// 15 Aug, 1 Nov, 11 Nov, 25 Dec.
pub fn is_french_public_holiday(date: NaiveDate) -> bool {
    let fixed = matches!(
        (date.month(), date.day()),
        (1, 1) | (5, 1) | (5, 8) | (7, 14) | (8, 15) | (11, 1) | (11, 11) | (12, 25)
    );
    if fixed {
        return true;
    }
    // Easter Monday and Whit Monday are Mondays, Ascension a Thursday, all
    // between 23 March and 14 June: skip computing Easter on other days (it
    // was half the cost of a Paris-calendar evaluation; see BENCHMARKS.md).
    if !matches!(date.weekday(), Weekday::Mon | Weekday::Thu) || !(3..=6).contains(&date.month()) {
        return false;
    }
    let Some(easter) = easter_sunday(date.year()) else {
        return false;
    };
    let offset = (date - easter).num_days();
    matches!(offset, 1 | 39 | 50)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn holiday_shortcut_matches_the_full_rule() {
        let full = |date: NaiveDate| {
            let fixed = matches!(
                (date.month(), date.day()),
                (1, 1) | (5, 1) | (5, 8) | (7, 14) | (8, 15) | (11, 1) | (11, 11) | (12, 25)
            );
            fixed || matches!((date - easter_sunday(date.year()).unwrap()).num_days(), 1 | 39 | 50)
        };
        let mut date = d(1900, 1, 1);
        while date < d(2400, 1, 1) {
            assert_eq!(is_french_public_holiday(date), full(date), "{date}");
            date = date.succ_opt().unwrap();
        }
    }

    #[test]
    fn easter_of_known_years() {
        assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(d(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(d(2027, 3, 28)));
        assert_eq!(easter_sunday(2038), Some(d(2038, 4, 25)));
        assert_eq!(easter_sunday(2285), Some(d(2285, 3, 22)));
    }

    #[test]
    fn french_holidays_of_several_years() {
        // Easter Monday, Ascension, Whit Monday
        for (y, em, asc, wm) in [
            (2025, d(2025, 4, 21), d(2025, 5, 29), d(2025, 6, 9)),
            (2026, d(2026, 4, 6), d(2026, 5, 14), d(2026, 5, 25)),
            (2027, d(2027, 3, 29), d(2027, 5, 6), d(2027, 5, 17)),
            (2030, d(2030, 4, 22), d(2030, 5, 30), d(2030, 6, 10)),
        ] {
            for h in [
                em,
                asc,
                wm,
                d(y, 1, 1),
                d(y, 5, 1),
                d(y, 5, 8),
                d(y, 7, 14),
                d(y, 8, 15),
                d(y, 11, 1),
                d(y, 11, 11),
                d(y, 12, 25),
            ] {
                assert!(is_french_public_holiday(h), "{h}");
                assert!(!Calendar::PARIS_FRENCH_HOLIDAYS.is_business_day(h), "{h}");
            }
            assert!(!is_french_public_holiday(d(y, 12, 26)));
            assert!(!is_french_public_holiday(d(y, 5, 2)));
        }
        // Good Friday is not a holiday in France (outside Alsace-Moselle).
        assert!(Calendar::PARIS_FRENCH_HOLIDAYS.is_business_day(d(2026, 4, 3)));
        // UTC calendars have no holidays.
        assert!(Calendar::UTC_WEEKENDS.is_business_day(d(2026, 5, 1)));
    }

    #[test]
    fn business_hours_skip_weekends() {
        let c = Calendar::UTC_WEEKENDS;
        // Friday 10:00 + 24 h -> Monday 10:00
        assert_eq!(
            c.add_business_hours(t("2026-01-09T10:00:00Z"), 24),
            t("2026-01-12T10:00:00Z")
        );
        // Saturday start counts from Monday 00:00
        assert_eq!(
            c.add_business_hours(t("2026-01-10T15:00:00Z"), 24),
            t("2026-01-13T00:00:00Z")
        );
        // Monday + 48 h -> Wednesday same time
        assert_eq!(
            c.add_business_hours(t("2026-01-12T08:30:00Z"), 48),
            t("2026-01-14T08:30:00Z")
        );
        // Thursday 12:00 + 48 h -> Monday 12:00
        assert_eq!(
            c.add_business_hours(t("2026-01-08T12:00:00Z"), 48),
            t("2026-01-12T12:00:00Z")
        );
        assert_eq!(
            c.add_business_hours(t("2026-01-08T12:00:00Z"), 0),
            t("2026-01-08T12:00:00Z")
        );
        // between is the inverse
        assert_eq!(
            c.business_time_between(t("2026-01-08T12:00:00Z"), t("2026-01-12T12:00:00Z")),
            TimeDelta::hours(48)
        );
    }

    #[test]
    fn business_hours_in_paris_skip_holidays() {
        let c = Calendar::PARIS_FRENCH_HOLIDAYS;
        // Thu 30 Apr 2026 10:00 Paris (08:00Z) + 48 h: Fri 1 May holiday, weekend,
        // Mon 4 May -> Tue 5 May 10:00 Paris.
        assert_eq!(
            c.add_business_hours(t("2026-04-30T08:00:00Z"), 48),
            t("2026-05-05T08:00:00Z")
        );
        // Wed 13 May 2026 10:00 + 24 h: Thu 14 May is Ascension -> Fri 15 May 10:00.
        assert_eq!(
            c.add_business_hours(t("2026-05-13T08:00:00Z"), 24),
            t("2026-05-15T08:00:00Z")
        );
        // Thu 7 May 2026 10:00 + 24 h: Fri 8 May holiday -> Mon 11 May 10:00.
        assert_eq!(
            c.add_business_hours(t("2026-05-07T08:00:00Z"), 24),
            t("2026-05-11T08:00:00Z")
        );
        // Fri 3 Apr 2026 10:00 + 24 h: weekend, Easter Monday 6 Apr -> Tue 7 Apr 10:00.
        assert_eq!(
            c.add_business_hours(t("2026-04-03T08:00:00Z"), 24),
            t("2026-04-07T08:00:00Z")
        );
    }

    #[test]
    fn dst_switches_do_not_break_business_time() {
        let c = Calendar::PARIS_FRENCH_HOLIDAYS;
        // Spring forward: Sun 29 Mar 2026. Fri 27 Mar 10:00 CET (09:00Z) + 24 h
        // -> Mon 30 Mar 10:00 CEST (08:00Z).
        assert_eq!(
            c.add_business_hours(t("2026-03-27T09:00:00Z"), 24),
            t("2026-03-30T08:00:00Z")
        );
        // Fall back: Sun 25 Oct 2026. Fri 23 Oct 10:00 CEST (08:00Z) + 24 h
        // -> Mon 26 Oct 10:00 CET (09:00Z).
        assert_eq!(
            c.add_business_hours(t("2026-10-23T08:00:00Z"), 24),
            t("2026-10-26T09:00:00Z")
        );
        // Business days keep the local time of day across the switch.
        assert_eq!(
            c.add_business_days(t("2026-03-27T09:00:00Z"), 1),
            t("2026-03-30T08:00:00Z")
        );
        // A Saturday late evening in Paris is already Saturday though UTC says Friday? No:
        // Fri 23:30Z in winter is Sat 00:30 Paris -> not a business instant.
        assert!(!c.is_business_instant(t("2026-01-09T23:30:00Z")));
        assert!(Calendar::UTC_WEEKENDS.is_business_instant(t("2026-01-09T23:30:00Z")));
    }

    #[test]
    fn business_days_land_on_the_same_local_time() {
        let c = Calendar::UTC_WEEKENDS;
        assert_eq!(
            c.add_business_days(t("2026-01-09T10:00:00Z"), 1),
            t("2026-01-12T10:00:00Z")
        );
        assert_eq!(
            c.add_business_days(t("2026-01-05T10:00:00Z"), 5),
            t("2026-01-12T10:00:00Z")
        );
        assert_eq!(
            c.add_business_days(t("2026-01-10T10:00:00Z"), 1),
            t("2026-01-12T10:00:00Z")
        );
        let p = Calendar::PARIS_FRENCH_HOLIDAYS;
        // Tue 22 Dec 2026 10:00 Paris + 3 business days: 23, 24, (25 holiday), 28.
        assert_eq!(
            p.add_business_days(t("2026-12-22T09:00:00Z"), 3),
            t("2026-12-28T09:00:00Z")
        );
    }
}
