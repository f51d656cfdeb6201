//! How each payment provider writes an amount as an integer: the power of ten that divides it,
//! per currency. It is not always ISO 4217's (`Currency::exponent`): the providers publish
//! their own tables, and they differ from ISO and from each other. Read an integer amount with
//! the provider's table, then hold it to the currency's ISO minor unit, as every amount is.

use crate::domain::money::{Currency, MoneyError, MAX_AMOUNT};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Whose table an integer amount is written by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinorUnits {
    Stripe,
    Chargebee,
    Recurly,
    Chargify,
}

/// Stripe's zero-decimal currencies, https://docs.stripe.com/currencies#zero-decimal. Its list
/// also names UGX, but the special cases below override it.
const STRIPE_ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF",
    "XOF", "XPF",
];

/// Stripe's three-decimal currencies, https://docs.stripe.com/currencies#three-decimal.
const STRIPE_THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

// Stripe's special cases, https://docs.stripe.com/currencies#special-cases:
// - ISK and UGX are effectively zero-decimal, but "to maintain backwards compatibility, you must
//   pass in amounts with two decimals" (5 UGX is 500); for ISK also
//   https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds
//   ("ISK will remain a two-decimal currency in the Stripe API"). Stripe's own Android SDK
//   reads both with two digits (stripe/stripe-android,
//   stripe-ui-core/.../uicore/format/CurrencyFormatter.kt, SERVER_DECIMAL_DIGITS).
// - HUF and TWD are zero-decimal for payouts only; charges are two-decimal.
// Every other currency is two-decimal ("unless otherwise noted").

impl MinorUnits {
    /// Digits after the decimal point of the integer amounts the provider writes in `currency`.
    pub fn exponent(self, currency: Currency) -> u8 {
        let code = currency.code();
        match self {
            Self::Stripe if STRIPE_ZERO_DECIMAL.contains(&code) => 0,
            Self::Stripe if STRIPE_THREE_DECIMAL.contains(&code) => 3,
            Self::Stripe => 2,
            // https://apidocs.chargebee.com/docs/api/currencies: a zero-decimal currency (one
            // without subunits per ISO 4217, e.g. JPY) is written in major units; every other
            // one with two decimals ("multiplying it by 100"), three-decimal ones included.
            Self::Chargebee if currency.exponent() == 0 => 0,
            Self::Chargebee => 2,
            // Recurly's `amount_in_cents` (v2 XML, e.g. 100 for 1.00 USD in
            // https://docs.recurly.com/recurly-subscriptions/v2.29/reference/createtransaction)
            // and Maxio's `amount_in_cents` (https://docs.maxio.com, Webhooks Reference): no
            // per-currency table of theirs was found, so the ISO 4217 minor unit is assumed;
            // zero- and three-decimal currencies are unverified for both.
            Self::Recurly | Self::Chargify => currency.exponent(),
        }
    }

    /// An integer amount the provider wrote in `currency`, as an exact decimal held to the
    /// currency's ISO minor unit (Stripe's 550 ISK, 5.50, is 6 ISK: ISO gives ISK no decimals).
    pub fn amount(self, minor: i64, currency: Currency) -> Result<Decimal, MoneyError> {
        let minor = check_minor(minor)?;
        let amount = Decimal::try_new(minor, u32::from(self.exponent(currency)))
            .map_err(|_| MoneyError::TooLarge(minor.to_string()))?;
        Ok(currency.round(amount))
    }
}

/// Checks an integer amount before its currency is known: not negative, and no larger than
/// [`MAX_AMOUNT`] even if its currency has no decimals, so that it fits in any currency.
pub fn check_minor(minor: i64) -> Result<i64, MoneyError> {
    if minor < 0 {
        return Err(MoneyError::Negative(minor.to_string()));
    }
    if Decimal::from(minor) > MAX_AMOUNT {
        return Err(MoneyError::TooLarge(minor.to_string()));
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(units: MinorUnits, minor: i64, code: &str) -> String {
        units
            .amount(minor, Currency::parse(code).unwrap())
            .unwrap()
            .to_string()
    }

    /// https://docs.stripe.com/currencies#zero-decimal, #three-decimal and #special-cases.
    #[test]
    fn stripe_reads_isk_and_ugx_with_two_decimals_and_mga_with_none() {
        // ISO gives ISK and UGX no decimals and MGA two; Stripe the other way round.
        assert_eq!(read(MinorUnits::Stripe, 50_000, "isk"), "500");
        assert_eq!(read(MinorUnits::Stripe, 500, "UGX"), "5");
        assert_eq!(read(MinorUnits::Stripe, 5_000, "MGA"), "5000.00");
        // Fractions Stripe no longer takes are held to the ISO unit, half away from zero.
        assert_eq!(read(MinorUnits::Stripe, 550, "ISK"), "6");
        // HUF and TWD charges keep two decimals (zero-decimal for payouts only).
        assert_eq!(read(MinorUnits::Stripe, 1_045, "HUF"), "10.45");
        assert_eq!(read(MinorUnits::Stripe, 80_045, "TWD"), "800.45");
        for code in STRIPE_ZERO_DECIMAL {
            let currency = Currency::parse(code).unwrap();
            let amount = MinorUnits::Stripe.amount(500, currency).unwrap();
            assert_eq!(amount, Decimal::from(500), "{code}");
        }
        for code in STRIPE_THREE_DECIMAL {
            assert_eq!(read(MinorUnits::Stripe, 5_120, code), "5.120", "{code}");
        }
        assert_eq!(read(MinorUnits::Stripe, 4_900, "usd"), "49.00");
    }

    /// https://apidocs.chargebee.com/docs/api/currencies
    #[test]
    fn chargebee_writes_zero_decimal_currencies_whole_and_every_other_one_in_hundredths() {
        assert_eq!(read(MinorUnits::Chargebee, 15, "JPY"), "15");
        for code in ["KRW", "XAF", "XOF"] {
            assert_eq!(read(MinorUnits::Chargebee, 15, code), "15", "{code}");
        }
        assert_eq!(read(MinorUnits::Chargebee, 153, "USD"), "1.53");
        // Three-decimal currencies too: 1234 is 12.34 KWD, not ISO's 1.234.
        assert_eq!(read(MinorUnits::Chargebee, 1_234, "KWD"), "12.340");
        assert_eq!(read(MinorUnits::Chargebee, 1_234, "MGA"), "12.34");
    }

    #[test]
    fn recurly_and_chargify_follow_iso_4217() {
        for units in [MinorUnits::Recurly, MinorUnits::Chargify] {
            assert_eq!(read(units, 3_295, "USD"), "32.95");
            assert_eq!(read(units, 3_295, "JPY"), "3295");
            assert_eq!(read(units, 3_295, "KWD"), "3.295");
            assert_eq!(read(units, 3_295, "ISK"), "3295");
        }
    }

    #[test]
    fn negative_and_oversized_integers_are_refused() {
        let usd = Currency::parse("USD").unwrap();
        assert!(matches!(
            MinorUnits::Stripe.amount(-1, usd),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            MinorUnits::Stripe.amount(i64::MAX, usd),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(check_minor(1_000_000_000_000).is_ok());
        assert!(check_minor(1_000_000_000_001).is_err());
    }

    proptest! {
        #[test]
        fn any_integer_in_any_currency_is_read_or_refused_never_a_panic(minor in any::<i64>(), pick in 0usize..200) {
            let codes = ["USD", "JPY", "KWD", "ISK", "UGX", "MGA", "CLF", "IDR"];
            let currency = Currency::parse(codes[pick % codes.len()]).unwrap();
            for units in [MinorUnits::Stripe, MinorUnits::Chargebee, MinorUnits::Recurly, MinorUnits::Chargify] {
                if let Ok(amount) = units.amount(minor, currency) {
                    prop_assert!(amount >= Decimal::ZERO && amount <= MAX_AMOUNT);
                    prop_assert!(currency.to_minor(amount).is_ok());
                }
            }
        }
    }
}
