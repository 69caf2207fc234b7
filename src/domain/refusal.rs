//! The one answer a pure rule gives when an input breaks it: the field at fault, spelled as clients
//! spell it, and what is wrong with it. The service turns it into a BAD_USER_INPUT error.

/// Why an input is refused; names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

pub fn refuse(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        message: message.into(),
    }
}
