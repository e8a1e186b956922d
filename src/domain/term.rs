//! The service term and second-exact proration.

use chrono::{DateTime, Datelike, Months, TimeDelta, Utc};

use super::money::Money;

/// Upper bound on `term_months` accepted in a request.
pub const MAX_TERM_MONTHS: u32 = 120;

/// `start` plus `months` calendar months, on the same day of the month
/// clamped to the month's last day (31 Jan + 1 month = 28/29 Feb), at the
/// same time of day (UTC).
pub fn add_months(start: DateTime<Utc>, months: u32) -> Option<DateTime<Utc>> {
    start.checked_add_months(Months::new(months))
}

/// A service term: from delivery (else purchase) for `term_months` months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Whether access details were delivered: before delivery nothing is used.
    pub delivered: Option<DateTime<Utc>>,
}

/// The unused share of a term as whole seconds: `unused / total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unused {
    pub unused_seconds: i64,
    pub total_seconds: i64,
}

impl Term {
    /// `None` for `term_months == 0` (no service term) or a term past year 262143.
    pub fn new(purchased_at: DateTime<Utc>, delivered_at: Option<DateTime<Utc>>, term_months: u32) -> Option<Term> {
        if term_months == 0 {
            return None;
        }
        let start = delivered_at.unwrap_or(purchased_at);
        let end = add_months(start, term_months)?;
        Some(Term {
            start,
            end,
            delivered: delivered_at,
        })
    }

    /// `unused = end - max(from, start)` clamped to `[0, term]`, in whole
    /// seconds; the whole term before delivery.
    pub fn unused_from(&self, from: DateTime<Utc>) -> Unused {
        let total = whole_seconds(self.end - self.start);
        let delivered = self.delivered.is_some_and(|d| d <= from);
        let unused = if delivered {
            whole_seconds(self.end - from.max(self.start))
        } else {
            total
        };
        Unused {
            unused_seconds: unused.clamp(0, total),
            total_seconds: total,
        }
    }

    /// `amount x unused / term`, not yet rounded. `None` when the product
    /// leaves `Decimal`'s range (or the term is empty): the caller must answer
    /// that loudly (NEEDS_REVIEW with `AMOUNT_NOT_COMPUTABLE`), never as a zero.
    /// Validated requests stay far inside the range (15 integer digits x the
    /// seconds of 120 months); only an amount built past validation gets here.
    pub fn prorate(&self, amount: Money, from: DateTime<Utc>) -> Option<Money> {
        let u = self.unused_from(from);
        amount.scaled(u.unused_seconds, u.total_seconds)
    }
}

fn whole_seconds(d: TimeDelta) -> i64 {
    d.num_seconds()
}

/// Whether a date is the last day of its month (used by tests of clamping).
pub fn is_month_end(t: DateTime<Utc>) -> bool {
    t.checked_add_signed(TimeDelta::days(1))
        .is_some_and(|n| n.month() != t.month())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::money::Currency;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn month_end_clamping() {
        assert_eq!(
            add_months(t("2026-01-31T10:00:00Z"), 1),
            Some(t("2026-02-28T10:00:00Z"))
        );
        assert_eq!(
            add_months(t("2028-01-31T10:00:00Z"), 1),
            Some(t("2028-02-29T10:00:00Z"))
        );
        assert_eq!(
            add_months(t("2026-03-31T23:59:59Z"), 1),
            Some(t("2026-04-30T23:59:59Z"))
        );
        assert_eq!(
            add_months(t("2026-08-31T00:00:00Z"), 6),
            Some(t("2027-02-28T00:00:00Z"))
        );
        assert_eq!(
            add_months(t("2026-01-15T08:00:00Z"), 12),
            Some(t("2027-01-15T08:00:00Z"))
        );
        assert!(is_month_end(t("2026-02-28T10:00:00Z")));
        assert!(!is_month_end(t("2028-02-28T10:00:00Z")));
    }

    #[test]
    fn proration_is_second_exact() {
        let eur = Currency::from_code("EUR").unwrap();
        let paid = Money::parse(eur, "30.00").unwrap();
        // A 30-day term (1 Apr -> 1 May), 10 days used.
        let term = Term::new(t("2026-04-01T00:00:00Z"), Some(t("2026-04-01T00:00:00Z")), 1).unwrap();
        assert_eq!(
            term.prorate(paid, t("2026-04-11T00:00:00Z")).unwrap().to_string(),
            "20.00"
        );
        // one second later is a hair less, still 20.00 after rounding
        let u = term.unused_from(t("2026-04-11T00:00:01Z"));
        assert_eq!((u.unused_seconds, u.total_seconds), (20 * 86400 - 1, 30 * 86400));
        // before delivery, unused is the whole term
        let undelivered = Term::new(t("2026-04-01T00:00:00Z"), None, 1).unwrap();
        assert_eq!(
            undelivered
                .prorate(paid, t("2026-04-20T00:00:00Z"))
                .unwrap()
                .to_string(),
            "30.00"
        );
        let later = Term::new(t("2026-04-01T00:00:00Z"), Some(t("2026-04-05T00:00:00Z")), 1).unwrap();
        assert_eq!(
            later.prorate(paid, t("2026-04-03T00:00:00Z")).unwrap().to_string(),
            "30.00"
        );
        // after the end, nothing
        assert!(term.prorate(paid, t("2026-06-01T00:00:00Z")).unwrap().is_zero());
        // no term
        assert!(Term::new(t("2026-04-01T00:00:00Z"), None, 0).is_none());
        // a 31-day month, 1/3 used: 31 days * 2/3 of 31.00
        let jan = Term::new(t("2026-01-01T00:00:00Z"), Some(t("2026-01-01T00:00:00Z")), 1).unwrap();
        let paid = Money::parse(eur, "31.00").unwrap();
        assert_eq!(
            jan.prorate(paid, t("2026-01-11T08:00:00Z")).unwrap().to_string(),
            "20.67"
        );
    }

    #[test]
    fn proration_past_decimal_range_is_none_not_zero() {
        let jpy = Currency::from_code("JPY").unwrap();
        // The largest amount validation accepts, then 7e13 times that: about
        // 7e28, just inside Decimal, so any multiplication by seconds overflows.
        let huge = Money::parse(jpy, "999999999999999")
            .unwrap()
            .scaled(70_000_000_000_000, 1)
            .unwrap();
        let term = Term::new(t("2026-04-01T00:00:00Z"), Some(t("2026-04-01T00:00:00Z")), 120).unwrap();
        assert_eq!(term.prorate(huge, t("2026-04-11T00:00:00Z")), None);
        // The largest validated amount over the longest term still prorates.
        let max = Money::parse(jpy, "999999999999999").unwrap();
        assert!(term.prorate(max, t("2026-04-11T00:00:00Z")).is_some());
    }
}
