//! Input checks shared by every use case: bounded free text, named after the field it came from.

use crate::domain::text::{self as rules, TextProblem};
use crate::error::{AppError, AppResult};

/// Trims `value` and requires `min..=max` characters and no control characters but line breaks and
/// tabs; the error names `field` and says it as `label`.
pub fn text(
    value: &str,
    field: impl Into<String>,
    label: &str,
    min: usize,
    max: usize,
) -> AppResult<String> {
    rules::bounded(value, min, max)
        .map_err(|refusal| AppError::bad_input(field, refusal.message(label)))
}

/// A bounded text that names something other people see: also no text-direction overrides.
pub fn name(
    value: &str,
    field: impl Into<String>,
    label: &str,
    min: usize,
    max: usize,
) -> AppResult<String> {
    let field = field.into();
    let v = text(value, field.clone(), label, min, max)?;
    rules::check_name(&v).map_err(|problem| refused(field, label, problem))?;
    Ok(v)
}

/// A date the client names for the future, at most a year ahead of `now`.
pub fn not_too_far(
    at: chrono::DateTime<chrono::Utc>,
    field: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    crate::domain::bounds::check_not_too_far(at, now)
        .map_err(|problem| AppError::bad_input(field, format!("{field} {}", problem.message())))
}

fn refused(field: impl Into<String>, label: &str, problem: TextProblem) -> AppError {
    AppError::bad_input(field, format!("{label} {}", problem.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            text("  Leaky tap ", "title", "title", 3, 120).unwrap(),
            "Leaky tap"
        );
        assert!(
            matches!(text("ab", "title", "title", 3, 120), Err(AppError::BadInput { field, .. }) if field == "title")
        );
        assert!(text(&"x".repeat(121), "title", "title", 3, 120).is_err());
        assert!(
            text("ñandú", "name", "name", 5, 5).is_ok(),
            "characters, not bytes"
        );
        assert!(
            matches!(text("a\0b", "body", "body", 1, 10), Err(AppError::BadInput { field, .. }) if field == "body")
        );
        assert!(text("two\nlines", "body", "body", 1, 20).is_ok());
        assert!(name("Plumbing\u{202E}", "name", "name", 1, 20).is_err());
        assert!(text("Plumbing\u{202E}", "body", "body", 1, 20).is_ok());
        let nested = text("", "addresses[2].city", "city", 1, 100).unwrap_err();
        assert!(
            matches!(nested, AppError::BadInput { field, message } if field == "addresses[2].city" && message.starts_with("city "))
        );
    }
}
