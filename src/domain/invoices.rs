//! Invoice rules: the yearly number format and what an invoice or a credit note lists.

/// `FND-2026-000001`: the prefix, the year, and the year's sequence number.
pub fn number(year: i32, sequence: i64) -> String {
    format!("FND-{year}-{sequence:06}")
}

/// What a document is: the invoice of a paid job, or a credit note for a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}

impl InvoiceKind {
    pub const ALL: [InvoiceKind; 2] = [InvoiceKind::Invoice, InvoiceKind::CreditNote];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "INVOICE",
            InvoiceKind::CreditNote => "CREDIT_NOTE",
        }
    }

    pub fn parse(name: &str) -> Option<InvoiceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// What an invoice line is for; kept by name in the invoice's stored lines, and an unknown name
/// there does not read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineKind {
    Labour,
    Tip,
    Refund,
}

impl LineKind {
    pub const ALL: [LineKind; 3] = [LineKind::Labour, LineKind::Tip, LineKind::Refund];

    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Labour => "LABOUR",
            LineKind::Tip => "TIP",
            LineKind::Refund => "REFUND",
        }
    }

    pub fn parse(name: &str) -> Option<LineKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub amount_minor: i64,
}

/// An invoice's body: lines before tax, the tax, and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub lines: Vec<Line>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
}

/// The invoice of a paid job: the work at its agreed price (tax shown apart) and each tip.
pub fn job_invoice(title: &str, total: i64, tax: i64, tips: &[i64]) -> Totals {
    let mut lines = vec![Line {
        kind: LineKind::Labour,
        description: title.to_string(),
        amount_minor: total - tax,
    }];
    lines.extend(tips.iter().map(|&tip| Line {
        kind: LineKind::Tip,
        description: "Tip for the technician".into(),
        amount_minor: tip,
    }));
    let subtotal = lines.iter().map(|l| l.amount_minor).sum();
    Totals {
        lines,
        subtotal,
        tax,
        total: subtotal + tax,
    }
}

/// The credit note of a refund: the amount returned, as a negative line, tax included in it.
pub fn credit_note(description: &str, refunded: i64) -> Totals {
    Totals {
        lines: vec![Line {
            kind: LineKind::Refund,
            description: description.to_string(),
            amount_minor: -refunded,
        }],
        subtotal: -refunded,
        tax: 0,
        total: -refunded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_ones_parse_to_none() {
        for kind in InvoiceKind::ALL {
            assert_eq!(InvoiceKind::parse(kind.as_str()), Some(kind));
        }
        for unknown in ["invoice", "RECEIPT", ""] {
            assert_eq!(InvoiceKind::parse(unknown), None);
        }
    }

    #[test]
    fn line_kinds_keep_their_names_in_stored_lines_and_unknown_ones_do_not_read() {
        let cases = [
            (LineKind::Labour, "LABOUR"),
            (LineKind::Tip, "TIP"),
            (LineKind::Refund, "REFUND"),
        ];
        assert_eq!(cases.len(), LineKind::ALL.len());
        for (kind, name) in cases {
            assert_eq!(kind.as_str(), name);
            assert_eq!(LineKind::parse(name), Some(kind));
            let line = Line {
                kind,
                description: "Work".into(),
                amount_minor: 100,
            };
            let stored = format!(r#"{{"kind":"{name}","description":"Work","amount_minor":100}}"#);
            assert_eq!(serde_json::to_string(&line).unwrap(), stored);
            assert_eq!(serde_json::from_str::<Line>(&stored).unwrap(), line);
        }
        for unknown in ["labour", "MATERIAL", "DISCOUNT", ""] {
            assert_eq!(LineKind::parse(unknown), None);
            let stored = format!(r#"{{"kind":"{unknown}","description":"x","amount_minor":1}}"#);
            let error = serde_json::from_str::<Line>(&stored)
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("`{unknown}`")), "{error}");
        }
    }

    #[test]
    fn numbers_are_zero_padded_per_year() {
        assert_eq!(number(2026, 1), "FND-2026-000001");
        assert_eq!(number(2027, 123_456), "FND-2027-123456");
        assert_eq!(number(2026, 1_234_567), "FND-2026-1234567");
    }

    #[test]
    fn a_job_invoice_adds_up_to_what_was_paid() {
        let cases = [
            (100_000, 0, vec![], (100_000, 0, 100_000)),
            (116_000, 16_000, vec![], (100_000, 16_000, 116_000)),
            (100_000, 0, vec![5_000, 2_500], (107_500, 0, 107_500)),
        ];
        for (total, tax, tips, (subtotal, t, grand)) in cases {
            let invoice = job_invoice("Leaking tap", total, tax, &tips);
            assert_eq!(
                (invoice.subtotal, invoice.tax, invoice.total),
                (subtotal, t, grand)
            );
            assert_eq!(invoice.lines.len(), 1 + tips.len());
            assert_eq!(
                invoice.lines.iter().map(|l| l.amount_minor).sum::<i64>(),
                invoice.subtotal
            );
        }
        let credit = credit_note("Refund", 20_000);
        assert_eq!(credit.total, -20_000);
    }
}
