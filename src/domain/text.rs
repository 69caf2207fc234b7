//! What a text a person typed may contain: no control characters but line breaks and tabs, and in
//! names no bidirectional overrides or isolates (which make a name display as something else).

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    ControlCharacter,
    BidiControl,
}

impl TextProblem {
    pub fn message(self) -> &'static str {
        match self {
            TextProblem::ControlCharacter => {
                "must not contain control characters (only line breaks and tabs are allowed)"
            }
            TextProblem::BidiControl => "must not contain text-direction override characters",
        }
    }
}

/// Why a bounded text was refused: its length, or what it contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRefusal {
    Length { min: usize, max: usize },
    Content(TextProblem),
}

impl TextRefusal {
    /// The whole sentence, with the text named as `label` ("title", "a caption").
    pub fn message(self, label: &str) -> String {
        match self {
            TextRefusal::Length { min, max } => {
                format!("{label} must be {min} to {max} characters")
            }
            TextRefusal::Content(problem) => format!("{label} {}", problem.message()),
        }
    }
}

/// Trims `value` and requires `min..=max` characters (not bytes) of plain text.
pub fn bounded(value: &str, min: usize, max: usize) -> Result<String, TextRefusal> {
    let v = value.trim();
    if !(min..=max).contains(&v.chars().count()) {
        return Err(TextRefusal::Length { min, max });
    }
    check_plain(v).map_err(TextRefusal::Content)?;
    Ok(v.to_string())
}

/// Line breaks (LF, or CR before LF) and tabs are text; every other control character is not. NUL
/// in particular, which PostgreSQL refuses to store and SQLite stores.
pub fn check_plain(value: &str) -> Result<(), TextProblem> {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\n' | '\t' => true,
            '\r' => chars.peek() == Some(&'\n'),
            other => !other.is_control(),
        };
        if !allowed {
            return Err(TextProblem::ControlCharacter);
        }
    }
    Ok(())
}

/// A name shows on another person's screen, so it may not reorder itself: no embeddings, overrides
/// or isolates (U+202A..U+202E, U+2066..U+2069), on top of the plain-text rule.
pub fn check_name(value: &str) -> Result<(), TextProblem> {
    check_plain(value)?;
    if value
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(TextProblem::BidiControl);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_allows_line_breaks_and_tabs_only() {
        let cases = [
            ("Leaky tap", Ok(())),
            ("two\nlines\tand a tab", Ok(())),
            ("windows\r\nline", Ok(())),
            ("ñandú 水 🚰", Ok(())),
            ("nul\0byte", Err(TextProblem::ControlCharacter)),
            ("bell\u{7}", Err(TextProblem::ControlCharacter)),
            ("lone\rreturn", Err(TextProblem::ControlCharacter)),
            ("escape\u{1b}[31m", Err(TextProblem::ControlCharacter)),
            ("delete\u{7f}", Err(TextProblem::ControlCharacter)),
            ("c1\u{85}", Err(TextProblem::ControlCharacter)),
            ("override\u{202E}is fine in a message", Ok(())),
        ];
        for (value, expected) in cases {
            assert_eq!(check_plain(value), expected, "{value:?}");
        }
    }

    #[test]
    fn names_refuse_direction_overrides_and_isolates() {
        let cases = [
            ("Amina Wanjiru", Ok(())),
            ("عائشة", Ok(())),
            ("Eve\u{202E}cod.exe", Err(TextProblem::BidiControl)),
            ("\u{202A}embedded", Err(TextProblem::BidiControl)),
            ("\u{2066}isolated\u{2069}", Err(TextProblem::BidiControl)),
            ("tab\tin name", Ok(())),
            ("nul\0", Err(TextProblem::ControlCharacter)),
        ];
        for (value, expected) in cases {
            assert_eq!(check_name(value), expected, "{value:?}");
        }
    }
}
