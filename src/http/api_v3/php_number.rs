//! Float formatting as PHP prints it, because Kaltura's serializers write floats
//! with PHP's own conversions and the clients read those texts back.
//!
//! The XML serializer echoes floats, which PHP formats with the `precision` setting
//! (14 significant digits). `json_encode` uses `serialize_precision = -1`: the
//! shortest text that reads back as the same double. Both drop a zero fraction
//! (`3.0` prints as `3`) and switch to exponent form outside a range of magnitudes
//! (`zend_gcvt` in php-src).

/// Significant digits of PHP's default `precision` setting.
const ECHO_PRECISION: usize = 14;

/// The digit count `zend_gcvt` uses for its exponent decision when
/// `serialize_precision` is -1.
const SHORTEST_EXPONENT_LIMIT: i32 = 17;

/// Formats a float as PHP's `echo` does with the default settings (`3`, `3.5`,
/// `0.0001`, `1.0E-5`, `1.0E+14`).
pub fn echo_float(value: f64) -> String {
    if !value.is_finite() {
        return non_finite(value);
    }
    let scientific = format!("{:.*e}", ECHO_PRECISION - 1, value.abs());
    layout(value, &scientific, ECHO_PRECISION as i32, 'E')
}

/// Formats a float as PHP's `json_encode` does (`3`, `0.30000000000000004`,
/// `1.0e+25`). JSON has no infinity or NaN; those become `0`, where PHP's
/// `json_encode` would fail.
pub fn json_float(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_string();
    }
    let scientific = format!("{:e}", value.abs());
    layout(value, &scientific, SHORTEST_EXPONENT_LIMIT, 'e')
}

fn non_finite(value: f64) -> String {
    if value.is_nan() {
        "NAN".to_string()
    } else if value > 0.0 {
        "INF".to_string()
    } else {
        "-INF".to_string()
    }
}

/// Lays out the digits of Rust's scientific notation (`d.ddde±x`) the way
/// `zend_gcvt` does: fixed notation unless the decimal point would sit more than
/// `exponent_limit` digits right of the first digit, or more than 3 zeros left of
/// it.
fn layout(value: f64, scientific: &str, exponent_limit: i32, exponent_char: char) -> String {
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("Rust's {:e} output always contains an exponent");
    let exponent: i32 = exponent
        .parse()
        .expect("Rust's {:e} exponent is an integer");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let sign = if value.is_sign_negative() { "-" } else { "" };

    if digits.is_empty() {
        return format!("{sign}0");
    }

    // Position of the decimal point relative to the first digit, as `zend_dtoa`
    // reports it: 1 for 3.5, 0 for 0.35, -3 for 0.0001.
    let point = exponent + 1;
    let exponential = if point < 0 {
        point < -3
    } else {
        point > exponent_limit
    };

    if exponential {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() { "0" } else { rest };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}.{fraction}{exponent_char}{exponent_sign}{}",
            exponent.abs()
        );
    }

    let fixed = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        format!("{whole}.{fraction}")
    };
    format!("{sign}{fixed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_matches_php() {
        let cases = [
            (3.0, "3"),
            (3.5, "3.5"),
            (-2.25, "-2.25"),
            (0.0, "0"),
            (0.1 + 0.2, "0.3"),
            (0.0001, "0.0001"),
            (0.00001, "1.0E-5"),
            (8814.0, "8814"),
            (1e13, "10000000000000"),
            (1e14, "1.0E+14"),
            (1.5e20, "1.5E+20"),
            (0.0012049674987793, "0.0012049674987793"),
            (1.0 / 3.0, "0.33333333333333"),
        ];
        for (value, expected) in cases {
            assert_eq!(echo_float(value), expected, "echo of {value:?}");
        }
    }

    #[test]
    fn echo_of_non_finite() {
        assert_eq!(echo_float(f64::INFINITY), "INF");
        assert_eq!(echo_float(f64::NEG_INFINITY), "-INF");
        assert_eq!(echo_float(f64::NAN), "NAN");
    }

    #[test]
    fn json_matches_php() {
        let cases = [
            (3.0, "3"),
            (2.5, "2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1000000000000000"),
            (1e25, "1.0e+25"),
            (0.00001, "1.0e-5"),
            (-0.5, "-0.5"),
        ];
        for (value, expected) in cases {
            assert_eq!(json_float(value), expected, "json_encode of {value:?}");
        }
    }
}
