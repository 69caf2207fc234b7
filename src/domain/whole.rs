//! Whole numbers from floats: the one place a float becomes an integer, so every caller names the
//! rounding it means and money read as a float is never truncated by accident.

/// `value` rounded toward zero, saturating at the bounds of `i64`, NaN as 0. For scores, waits and
/// demo data; money goes through [`exact_i64`].
#[allow(clippy::cast_possible_truncation)] // a float-to-int `as` saturates and maps NaN to 0: this function's meaning
pub fn saturating_i64(value: f64) -> i64 {
    value as i64
}

/// `value` as an `i64` when it is a whole number that `i64` holds exactly, else `None`.
pub fn exact_i64(value: f64) -> Option<i64> {
    // 2^63 is exact as an f64, and every whole f64 in [-2^63, 2^63) is an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value)).then(|| saturating_i64(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_and_truncates_toward_zero() {
        for (value, expected) in [
            (1.9, 1),
            (-1.9, -1),
            (f64::NAN, 0),
            (1e300, i64::MAX),
            (-1e300, i64::MIN),
        ] {
            assert_eq!(saturating_i64(value), expected, "{value}");
        }
    }

    #[test]
    fn exact_only_for_whole_numbers_in_range() {
        for (value, expected) in [
            (1500.0, Some(1500)),
            (-3.0, Some(-3)),
            (1500.5, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (9_223_372_036_854_775_808.0, None),
            (-9_223_372_036_854_775_808.0, Some(i64::MIN)),
        ] {
            assert_eq!(exact_i64(value), expected, "{value}");
        }
    }
}
