//! Exact money: a `rust_decimal` amount in an ISO 4217 currency.
//!
//! Amounts are parsed from the wire's decimal strings, computed exactly and
//! rounded to the currency's minor unit (round-half-even) once, at the end.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// An ISO 4217 currency and the number of digits of its minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Every active ISO 4217 currency with a minor unit (funds codes included,
/// precious metals and testing codes, which have none, left out).
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// Largest number of integer digits an amount may have: keeps every product
/// the engine forms (amount x seconds of a 120-month term) inside `Decimal`.
const MAX_INTEGER_DIGITS: usize = 15;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency code {0:?} is not an active ISO 4217 code of three upper-case letters")]
    UnknownCurrency(String),
    #[error("amount {0:?} is not a plain non-negative decimal such as \"29.99\"")]
    Malformed(String),
    #[error("amount {0:?} has more decimal places than {1}'s minor unit allows ({2})")]
    TooPrecise(String, Currency, u8),
    #[error("amount {0:?} has more than 15 integer digits")]
    TooLarge(String),
}

impl Currency {
    /// Looks up an ISO 4217 alphabetic code (upper case only).
    pub fn from_code(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        CURRENCIES
            .binary_search_by(|(c, _)| c.as_bytes().cmp(&bytes[..]))
            .ok()
            .and_then(|i| CURRENCIES.get(i))
            .map(|&(_, exponent)| Currency { code: bytes, exponent })
    }

    pub fn code(&self) -> &str {
        // The code was checked to be ASCII upper case when the value was made.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits of the minor unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An exact amount in a currency. Intermediate values may carry more digits
/// than the minor unit; [`Money::rounded`] brings them back once, at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Parses a request amount: `^[0-9]+(\.[0-9]+)?$` with at most the
    /// currency's minor-unit digits.
    pub fn parse(currency: Currency, amount: &str) -> Result<Money, MoneyError> {
        let (int, frac) = match amount.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (amount, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || !frac.is_none_or(digits) {
            return Err(MoneyError::Malformed(amount.to_owned()));
        }
        let scale = frac.map_or(0, str::len);
        if scale > usize::from(currency.exponent) {
            return Err(MoneyError::TooPrecise(amount.to_owned(), currency, currency.exponent));
        }
        if int.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
            return Err(MoneyError::TooLarge(amount.to_owned()));
        }
        let value = Decimal::from_str_exact(amount).map_err(|_| MoneyError::Malformed(amount.to_owned()))?;
        Ok(Money {
            amount: value,
            currency,
        })
    }

    pub fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// `self - other`, or zero when that would be negative or the currencies differ.
    pub fn saturating_sub(self, other: Money) -> Money {
        if self.currency != other.currency {
            return Money::zero(self.currency);
        }
        match self.amount.checked_sub(other.amount) {
            Some(d) if d.is_sign_positive() && !d.is_zero() => Money {
                amount: d,
                currency: self.currency,
            },
            _ => Money::zero(self.currency),
        }
    }

    /// `self x numerator / denominator`, exact to `Decimal`'s precision, not
    /// rounded. `None` when the denominator is zero or the result overflows.
    pub fn scaled(self, numerator: i64, denominator: i64) -> Option<Money> {
        if denominator == 0 {
            return None;
        }
        let amount = self
            .amount
            .checked_mul(Decimal::from(numerator))?
            .checked_div(Decimal::from(denominator))?;
        Some(Money {
            amount,
            currency: self.currency,
        })
    }

    /// The smaller of two amounts of one currency.
    pub fn min(self, other: Money) -> Money {
        if other.amount < self.amount && other.currency == self.currency {
            other
        } else {
            self
        }
    }

    /// Rounded to the currency's minor unit with round-half-even.
    pub fn rounded(self) -> Money {
        let dp = u32::from(self.currency.exponent);
        let mut amount = self
            .amount
            .round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
        amount.rescale(dp);
        Money {
            amount,
            currency: self.currency,
        }
    }
}

impl fmt::Display for Money {
    /// The amount as the wire carries it: exactly the minor-unit digits.
    /// Written from the mantissa and the scale, digit by digit, as
    /// `Decimal`'s `Display` writes them, at a fraction of its cost (the rule
    /// trace writes many).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.rounded().amount;
        let scale = r.scale() as usize;
        // 29 digits at most, a point, a sign.
        let mut buf = [0u8; 32];
        // Every amount a request can carry fits in 64 bits (15 whole digits).
        let Ok(mut m) = u64::try_from(r.mantissa().unsigned_abs()) else {
            return write!(f, "{r}");
        };
        let mut len = 0;
        for (i, slot) in buf.iter_mut().rev().enumerate() {
            if i == scale && scale > 0 {
                *slot = b'.';
            } else {
                *slot = b'0' + (m % 10) as u8;
                m /= 10;
            }
            len = i + 1;
            // Every fractional digit, then at least one whole digit.
            if m == 0 && (i > scale || scale == 0) {
                break;
            }
        }
        if m != 0 {
            return write!(f, "{r}");
        }
        if r.is_sign_negative() {
            f.write_str("-")?;
        }
        let start = buf.len().saturating_sub(len);
        match buf.get(start..).map(std::str::from_utf8) {
            Some(Ok(text)) => f.write_str(text),
            _ => write!(f, "{r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::from_code(c).unwrap()
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn currency_lookup() {
        assert_eq!(cur("EUR").exponent(), 2);
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("KWD").exponent(), 3);
        assert_eq!(cur("BHD").exponent(), 3);
        assert_eq!(cur("CLF").exponent(), 4);
        for bad in ["eur", "EU", "EURO", "XAU", "XXX", "ABC", "", "€UR"] {
            assert!(Currency::from_code(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn parse_accepts_plain_decimals() {
        assert_eq!(Money::parse(cur("EUR"), "29.99").unwrap().to_string(), "29.99");
        assert_eq!(Money::parse(cur("EUR"), "29.9").unwrap().to_string(), "29.90");
        assert_eq!(Money::parse(cur("EUR"), "0").unwrap().to_string(), "0.00");
        assert_eq!(Money::parse(cur("JPY"), "1500").unwrap().to_string(), "1500");
        assert_eq!(Money::parse(cur("KWD"), "10.125").unwrap().to_string(), "10.125");
        assert_eq!(Money::parse(cur("EUR"), "000012.50").unwrap().to_string(), "12.50");
        // Written as `Decimal` writes the rounded amount, digit for digit.
        for (code, amount) in [
            ("EUR", "0.01"),
            ("EUR", "999999999999999.99"),
            ("JPY", "999999999999999"),
            ("JPY", "0"),
            ("EUR", "0"),
            ("KWD", "0.001"),
            ("KWD", "123456789012345.999"),
            ("EUR", "100.05"),
            ("CLF", "1.2345"),
        ] {
            let m = Money::parse(cur(code), amount).unwrap();
            assert_eq!(m.to_string(), m.rounded().amount().to_string(), "{code} {amount}");
            let third = m.scaled(1, 3).unwrap();
            assert_eq!(
                third.to_string(),
                third.rounded().amount().to_string(),
                "{code} {amount} / 3"
            );
        }
    }

    #[test]
    fn parse_rejects_everything_else() {
        for bad in ["", "-1", "+1", "1e3", "1.", ".5", "1.2.3", " 1", "1,50", "NaN", "１"] {
            assert!(
                matches!(Money::parse(cur("EUR"), bad), Err(MoneyError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Money::parse(cur("EUR"), "1.999"),
            Err(MoneyError::TooPrecise(..))
        ));
        assert!(matches!(
            Money::parse(cur("JPY"), "1500.5"),
            Err(MoneyError::TooPrecise(..))
        ));
        assert!(matches!(
            Money::parse(cur("JPY"), "1500.0"),
            Err(MoneyError::TooPrecise(..))
        ));
        assert!(matches!(
            Money::parse(cur("KWD"), "1.0001"),
            Err(MoneyError::TooPrecise(..))
        ));
        assert!(matches!(
            Money::parse(cur("EUR"), "1234567890123456"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(Money::parse(cur("EUR"), "123456789012345.99").is_ok());
    }

    #[test]
    fn rounding_is_half_even_at_the_minor_unit() {
        let eur = |s| Money::parse(cur("EUR"), s).unwrap();
        // 0.125 -> 0.12, 0.135 -> 0.14 (ties to even)
        assert_eq!(eur("1.00").scaled(1, 8).unwrap().to_string(), "0.12");
        assert_eq!(eur("1.08").scaled(1, 8).unwrap().to_string(), "0.14");
        assert_eq!(eur("10.00").scaled(2, 3).unwrap().to_string(), "6.67");
        let jpy = Money::parse(cur("JPY"), "1001").unwrap();
        assert_eq!(jpy.scaled(1, 2).unwrap().to_string(), "500"); // 500.5 -> 500
        let jpy = Money::parse(cur("JPY"), "1003").unwrap();
        assert_eq!(jpy.scaled(1, 2).unwrap().to_string(), "502"); // 501.5 -> 502
        let kwd = Money::parse(cur("KWD"), "0.005").unwrap();
        assert_eq!(kwd.scaled(1, 2).unwrap().to_string(), "0.002"); // 0.0025 -> 0.002
        let kwd = Money::parse(cur("KWD"), "0.007").unwrap();
        assert_eq!(kwd.scaled(1, 2).unwrap().to_string(), "0.004"); // 0.0035 -> 0.004
    }

    #[test]
    fn arithmetic_is_checked() {
        let eur = |s| Money::parse(cur("EUR"), s).unwrap();
        assert!(eur("10").scaled(1, 0).is_none());
        assert_eq!(eur("10").saturating_sub(eur("12")).to_string(), "0.00");
        assert_eq!(eur("12").saturating_sub(eur("10.01")).to_string(), "1.99");
        let usd = Money::parse(cur("USD"), "1").unwrap();
        assert!(eur("12").saturating_sub(usd).is_zero());
        let big = eur("999999999999999.99");
        assert!(big.scaled(315_569_520, 315_569_520).is_some());
        assert_eq!(eur("5").min(eur("3")).to_string(), "3.00");
    }
}
