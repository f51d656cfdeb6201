//! Money: exact decimal amounts with an ISO 4217 currency, never a float.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The largest amount Partnerhook takes, in major units of any currency: 10^12. Far above any
/// single payment (Stripe's `amount` holds at most eight digits of minor units, twelve for IDR:
/// https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts), and small enough that
/// an amount in minor units (at most four decimals), a reward of it, or its USD value at up to
/// [`MAX_USD_RATE`] in cents all fit an `i64`, far inside `Decimal`'s range.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);

/// The largest USD rate a program may set: USD per unit of a currency. The dearest unit in the
/// ISO table, Chile's CLF, is worth some 40 USD; 10,000 leaves room and keeps USD cents of
/// [`MAX_AMOUNT`] within an `i64`.
pub const MAX_USD_RATE: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// An ISO 4217 currency code that Partnerhook knows the minor unit of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Currencies whose minor unit is not 2 digits (ISO 4217 table); every other listed code has 2.
const NON_TWO_DIGIT: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// Two-digit ISO 4217 currencies in active use.
const TWO_DIGIT: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR",
    "ZMW", "ZWL",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?}: expected an ISO 4217 code such as \"EUR\"")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal amount such as \"199.00\"")]
    NotDecimal(String),
    #[error("{amount} has more decimal places than {currency} allows ({exponent})")]
    TooPrecise {
        amount: String,
        currency: String,
        exponent: u8,
    },
    #[error("amount must not be negative, got {0}")]
    Negative(String),
    #[error("amount {0} is too large: the most Partnerhook takes is 10^12 (1000000000000)")]
    TooLarge(String),
}

impl Currency {
    /// Parses a code case-insensitively (Stripe sends lowercase codes).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        let exponent = NON_TWO_DIGIT
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(_, e)| *e)
            .or_else(|| TWO_DIGIT.contains(&upper.as_str()).then_some(2))
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))?;
        let bytes = upper.as_bytes();
        Ok(Self {
            code: [bytes[0], bytes[1], bytes[2]],
            exponent,
        })
    }

    pub fn code(&self) -> &str {
        // The code is built from a table entry of three ASCII letters.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point of the minor unit: JPY 0, USD 2, KWD 3.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Rounds to the minor unit, half away from zero (commercial rounding).
    pub fn round(&self, amount: Decimal) -> Decimal {
        let mut rounded = amount.round_dp_with_strategy(
            u32::from(self.exponent),
            RoundingStrategy::MidpointAwayFromZero,
        );
        rounded.rescale(u32::from(self.exponent));
        rounded
    }

    /// An exact amount in minor units (cents for EUR, yen for JPY, fils for KWD).
    pub fn from_minor(&self, minor: i64) -> Decimal {
        Decimal::new(minor, u32::from(self.exponent))
    }

    /// The amount in minor units, rounded to the minor unit first.
    pub fn to_minor(&self, amount: Decimal) -> Result<i64, MoneyError> {
        let too_large = || MoneyError::TooLarge(amount.to_string());
        let scaled = self
            .round(amount)
            .checked_mul(Decimal::from(10i64.pow(u32::from(self.exponent))))
            .ok_or_else(too_large)?;
        i64::try_from(scaled.trunc()).map_err(|_| too_large())
    }

    /// Parses a decimal string such as "199.00" into an exact, non-negative amount in this currency.
    pub fn parse_amount(&self, text: &str) -> Result<Decimal, MoneyError> {
        let amount = parse_decimal(text)?;
        if amount.normalize().scale() > u32::from(self.exponent) {
            return Err(MoneyError::TooPrecise {
                amount: text.to_string(),
                currency: self.code().to_string(),
                exponent: self.exponent,
            });
        }
        Ok(self.round(amount))
    }
}

/// Parses a decimal string such as "199.00" whose currency is not known yet: plain digits with
/// at most one point, not negative, at most [`MAX_AMOUNT`]. `Currency::parse_amount` then holds
/// it to a currency's minor unit.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let trimmed = text.trim();
    let is_plain = !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && trimmed.chars().filter(|c| *c == '.').count() <= 1;
    if !is_plain {
        return Err(MoneyError::NotDecimal(text.to_string()));
    }
    let amount =
        Decimal::from_str(trimmed).map_err(|_| MoneyError::NotDecimal(text.to_string()))?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(MoneyError::Negative(text.to_string()));
    }
    if amount > MAX_AMOUNT {
        return Err(MoneyError::TooLarge(text.to_string()));
    }
    Ok(amount.abs())
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("usd").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert!(matches!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn minor_units_convert_exactly() {
        let jpy = Currency::parse("JPY").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(jpy.from_minor(1500), dec("1500"));
        assert_eq!(usd.from_minor(1999), dec("19.99"));
        assert_eq!(kwd.from_minor(12345), dec("12.345"));
        assert_eq!(usd.to_minor(dec("19.99")).unwrap(), 1999);
        assert_eq!(kwd.to_minor(dec("12.345")).unwrap(), 12345);
        assert_eq!(jpy.to_minor(dec("1500")).unwrap(), 1500);
    }

    #[test]
    fn rounding_is_half_away_from_zero_at_the_minor_unit() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(eur.round(dec("33.446")).to_string(), "33.45");
        assert_eq!(eur.round(dec("0.005")).to_string(), "0.01");
        assert_eq!(eur.round(dec("0.0049")).to_string(), "0.00");
        assert_eq!(eur.round(dec("7")).to_string(), "7.00");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.round(dec("100.5")).to_string(), "101");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(kwd.round(dec("1.2345")).to_string(), "1.235");
    }

    #[test]
    fn decimal_strings_parse_strictly() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(eur.parse_amount("199.00").unwrap().to_string(), "199.00");
        assert_eq!(eur.parse_amount("199").unwrap().to_string(), "199.00");
        assert_eq!(eur.parse_amount("0.5").unwrap().to_string(), "0.50");
        assert!(matches!(
            eur.parse_amount("199.001"),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            eur.parse_amount("-1.00"),
            Err(MoneyError::Negative(_))
        ));
        for bad in ["", "abc", "1,00", "1e3", "1.2.3", " ", "NaN", "+-1"] {
            assert!(eur.parse_amount(bad).is_err(), "{bad:?} must be rejected");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert!(jpy.parse_amount("100.5").is_err());
        assert_eq!(jpy.parse_amount("100.0").unwrap().to_string(), "100");
    }

    #[test]
    fn amounts_past_the_maximum_are_refused_and_the_maximum_fits_minor_units() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000i64));
        assert_eq!(MAX_USD_RATE, Decimal::from(10_000));
        let eur = Currency::parse("EUR").unwrap();
        assert!(eur.parse_amount("1000000000000.00").is_ok());
        assert!(matches!(
            eur.parse_amount("1000000000000.01"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(matches!(
            parse_decimal(&"9".repeat(40)),
            Err(MoneyError::NotDecimal(_) | MoneyError::TooLarge(_))
        ));
        let clf = Currency::parse("CLF").unwrap();
        assert!(
            clf.to_minor(MAX_AMOUNT).is_ok(),
            "four decimals still fit an i64"
        );
        let usd = Currency::parse("USD").unwrap();
        let dearest = MAX_AMOUNT * MAX_USD_RATE;
        assert!(
            usd.to_minor(dearest).is_ok(),
            "USD cents at the top rate fit too"
        );
        assert!(matches!(
            usd.to_minor(Decimal::MAX),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn decimals_without_a_currency_parse_exactly() {
        assert_eq!(parse_decimal(" 1.234 ").unwrap().to_string(), "1.234");
        assert_eq!(parse_decimal("-0").unwrap(), Decimal::ZERO);
        assert!(matches!(parse_decimal("-1"), Err(MoneyError::Negative(_))));
        assert!(matches!(
            parse_decimal("1e3"),
            Err(MoneyError::NotDecimal(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn no_text_and_no_decimal_panics_money(text in ".{0,64}", digits in "[0-9.-]{0,64}", lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28) {
            for code in ["USD", "JPY", "KWD", "CLF"] {
                let currency = Currency::parse(code).unwrap();
                for input in [&text, &digits] {
                    if let Ok(amount) = currency.parse_amount(input) {
                        proptest::prop_assert!(amount <= MAX_AMOUNT && !amount.is_sign_negative());
                        proptest::prop_assert!(currency.to_minor(amount).is_ok());
                    }
                    let _ = parse_decimal(input);
                }
                let odd = Decimal::from_parts(lo, mid, hi, negative, scale);
                let _ = currency.round(odd);
                let _ = currency.to_minor(odd);
            }
        }
    }
}
