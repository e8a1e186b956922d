//! The domain core: pure, synchronous, no gRPC types and no clock.

pub mod calendar;
pub mod claim;
pub mod decision;
pub mod field;
pub mod list;
pub mod money;
pub mod term;
pub mod trace;
pub mod withdrawal;

/// Shorthands for unit tests.
#[cfg(test)]
pub mod fixtures {
    use chrono::{DateTime, Utc};

    use super::money::{Currency, Money};

    /// An RFC 3339 instant.
    pub fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// An amount in euros.
    pub fn eur(amount: &str) -> Money {
        Money::parse(Currency::from_code("EUR").unwrap(), amount).unwrap()
    }
}
