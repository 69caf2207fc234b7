//! Invoice and credit-note PDFs: one pure function from a stored document's data to PDF bytes (A4,
//! the built-in Helvetica and Courier, so no font is embedded and nothing is read from disk).

use crate::domain::invoices::{Line, LineKind};
use crate::domain::money::{Currency, Money};
use chrono::{DateTime, Utc};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// Everything the PDF shows, already loaded and checked by the caller.
#[derive(Debug, Clone)]
pub struct InvoicePdf<'a> {
    pub number: &'a str,
    pub credit_note: bool,
    pub issued_at: DateTime<Utc>,
    /// The technician; a booking cancelled before anyone accepted it has none.
    pub seller: Option<&'a str>,
    pub buyer: &'a str,
    pub booking_reference: &'a str,
    pub lines: &'a [Line],
    pub currency: Currency,
    pub tax_bp: i32,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// For a credit note: the number of the invoice it credits, when the booking has one.
    pub credits: Option<&'a str>,
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BOTTOM: f32 = 90.0;
const AMOUNT_RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// Courier's every glyph is 600/1000 of an em wide, so amounts can be right-aligned exactly.
const COURIER_EM: f32 = 0.6;
/// Descriptions are wrapped at this many characters to stay clear of the amount column.
const DESCRIPTION_CHARS: usize = 52;

const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");
const MONO: Name = Name(b"F3");

/// Renders the document. The same input always gives the same bytes.
pub fn render(doc: &InvoicePdf<'_>) -> Vec<u8> {
    let mut pages = Pages::new(doc.number);
    let title = if doc.credit_note {
        "CREDIT NOTE"
    } else {
        "INVOICE"
    };
    pages.text(BOLD, 20.0, MARGIN, title);
    pages.advance(30.0);
    pages.label_value("Number", doc.number);
    pages.label_value("Issue date", &doc.issued_at.format("%Y-%m-%d").to_string());
    pages.label_value("Booking", doc.booking_reference);
    pages.label_value("Currency", doc.currency.code());
    if doc.credit_note {
        let credited = doc
            .credits
            .map(|n| format!("invoice {n}"))
            .unwrap_or_else(|| "a payment made before the job was invoiced".into());
        pages.label_value("Credits", &credited);
    }
    pages.advance(12.0);
    pages.text(BOLD, 11.0, MARGIN, "Seller (technician)");
    pages.text(BOLD, 11.0, 320.0, "Buyer (customer)");
    pages.advance(15.0);
    pages.text(REGULAR, 11.0, MARGIN, doc.seller.unwrap_or("-"));
    pages.text(REGULAR, 11.0, 320.0, doc.buyer);
    pages.advance(30.0);

    pages.text(BOLD, 10.0, MARGIN, "Item");
    pages.text(BOLD, 10.0, 140.0, "Description");
    pages.amount(BOLD, 10.0, "Amount");
    pages.advance(6.0);
    pages.rule();
    pages.advance(14.0);
    for line in doc.lines {
        let wrapped = wrap(&line.description, DESCRIPTION_CHARS);
        pages.room_for(14.0 * wrapped.len() as f32);
        pages.text(REGULAR, 10.0, MARGIN, kind_label(line.kind));
        pages.amount(MONO, 10.0, &money(line.amount_minor, doc.currency));
        for (i, part) in wrapped.iter().enumerate() {
            if i > 0 {
                pages.advance(12.0);
            }
            pages.text(REGULAR, 10.0, 140.0, part);
        }
        pages.advance(16.0);
    }
    pages.room_for(80.0);
    pages.rule();
    pages.advance(16.0);
    let rows = [
        ("Subtotal".to_string(), doc.subtotal_minor, REGULAR),
        (
            format!("Tax at {}", percent(doc.tax_bp)),
            doc.tax_minor,
            REGULAR,
        ),
        (format!("Total ({})", doc.currency), doc.total_minor, BOLD),
    ];
    for (label, amount, font) in rows {
        pages.text(font, 11.0, 320.0, &label);
        pages.amount(MONO, 11.0, &money(amount, doc.currency));
        pages.advance(16.0);
    }
    pages.advance(20.0);
    pages.room_for(14.0);
    pages.text(
        REGULAR,
        8.0,
        MARGIN,
        "Issued through Fundi on behalf of the seller. Amounts are in the currency shown.",
    );
    pages.finish(doc.number)
}

/// The page contents written so far and where the next line goes.
struct Pages {
    done: Vec<Content>,
    current: Content,
    y: f32,
    /// Printed atop every page after the first, so a loose page still says whose it is.
    continued: String,
}

impl Pages {
    fn new(number: &str) -> Pages {
        Pages {
            done: Vec::new(),
            current: Content::new(),
            y: PAGE_HEIGHT - MARGIN,
            continued: format!("{number} (continued)"),
        }
    }

    fn advance(&mut self, by: f32) {
        self.y -= by;
    }

    /// Starts a new page unless `height` still fits above the bottom margin.
    fn room_for(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            let full = std::mem::replace(&mut self.current, Content::new());
            self.done.push(full);
            self.y = PAGE_HEIGHT - MARGIN;
            let heading = self.continued.clone();
            self.text(BOLD, 10.0, MARGIN, &heading);
            self.advance(24.0);
        }
    }

    fn text(&mut self, font: Name<'static>, size: f32, x: f32, text: &str) {
        let bytes = win_ansi(text);
        self.current
            .begin_text()
            .set_font(font, size)
            .next_line(x, self.y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Right-aligned at the amount column; only Courier's widths are known exactly, and the header
    /// in bold is short enough that its estimate is close.
    fn amount(&mut self, font: Name<'static>, size: f32, text: &str) {
        let width = text.chars().count() as f32 * COURIER_EM * size;
        self.text(font, size, AMOUNT_RIGHT - width, text);
    }

    fn label_value(&mut self, label: &str, value: &str) {
        self.text(BOLD, 10.0, MARGIN, label);
        self.text(REGULAR, 10.0, 140.0, value);
        self.advance(14.0);
    }

    fn rule(&mut self) {
        self.current
            .set_line_width(0.5)
            .move_to(MARGIN, self.y)
            .line_to(PAGE_WIDTH - MARGIN, self.y)
            .stroke();
    }

    fn finish(mut self, number: &str) -> Vec<u8> {
        self.done.push(self.current);
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let fonts = [
            (REGULAR, Ref::new(4), "Helvetica"),
            (BOLD, Ref::new(5), "Helvetica-Bold"),
            (MONO, Ref::new(6), "Courier"),
        ];
        let first_page = 7;
        let page_ids: Vec<Ref> = (first_page..)
            .step_by(2)
            .take(self.done.len())
            .map(Ref::new)
            .collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            // An invoice has a handful of pages, far below i32::MAX.
            .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
        pdf.document_info(info)
            .title(TextStr(number))
            .producer(TextStr("Fundi"));
        for (_, id, base) in fonts {
            pdf.type1_font(id)
                .base_font(Name(base.as_bytes()))
                // WinAnsi covers Latin-1 and the euro sign, which is what `win_ansi` writes.
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for (content, page_id) in self.done.into_iter().zip(&page_ids) {
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(*page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
                .parent(tree)
                .contents(content_id);
            let mut resources = page.resources();
            let mut font_dict = resources.fonts();
            for (name, id, _) in fonts {
                font_dict.pair(name, id);
            }
            font_dict.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

fn kind_label(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Labour => "Labour",
        LineKind::Tip => "Tip",
        LineKind::Refund => "Refund",
    }
}

/// `16%`, `7.5%` or `0%` from basis points.
fn percent(bp: i32) -> String {
    let whole = bp / 100;
    let fraction = (bp % 100).abs();
    if fraction == 0 {
        format!("{whole}%")
    } else {
        format!(
            "{whole}.{}%",
            format!("{fraction:02}").trim_end_matches('0')
        )
    }
}

/// The amount as people read it. A currency sign the built-in fonts cannot draw (₹, ₦) gives way
/// to the ISO code, so `INR 1,23,456.00` rather than a missing glyph.
fn money(amount_minor: i64, currency: Currency) -> String {
    let formatted = Money::new(amount_minor, currency).format();
    if formatted.chars().all(|c| win_ansi_byte(c).is_some()) {
        return formatted;
    }
    let sign = if amount_minor < 0 { "-" } else { "" };
    let number: String = formatted
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .collect();
    format!("{sign}{currency} {number}")
}

/// Splits text into lines of at most `width` characters at spaces; a longer word is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        if word.is_empty() {
            continue;
        }
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// The WinAnsiEncoding byte of a character, if it has one.
fn win_ansi_byte(c: char) -> Option<u8> {
    Some(match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => u8::try_from(c).ok()?,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        _ => return None,
    })
}

/// Text in the fonts' encoding; characters it lacks (other scripts, emoji) print as `?` rather
/// than as garbage.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| win_ansi_byte(c).unwrap_or(b'?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<Line> {
        vec![
            Line {
                kind: LineKind::Labour,
                description: "Leaking kitchen tap (replace washer)".into(),
                amount_minor: 100_000,
            },
            Line {
                kind: LineKind::Tip,
                description: "Tip for the technician".into(),
                amount_minor: 5_000,
            },
        ]
    }

    fn document(lines: &[Line], currency: Currency) -> InvoicePdf<'_> {
        InvoicePdf {
            number: "FND-2026-000042",
            credit_note: false,
            issued_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            seller: Some("Wanjiru Kamau"),
            buyer: "Amani Otieno",
            booking_reference: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000",
            lines,
            currency,
            tax_bp: 1_600,
            subtotal_minor: 105_000,
            tax_minor: 16_800,
            total_minor: 121_800,
            credits: None,
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn an_invoice_renders_as_a_pdf_showing_its_number_parties_and_totals() {
        let lines = lines();
        let bytes = render(&document(&lines, Currency::KES));
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.ends_with(b"%%EOF\n") || bytes.ends_with(b"%%EOF"));
        for shown in [
            &b"FND-2026-000042"[..],
            b"(INVOICE)",
            b"2026-09-21",
            b"Wanjiru Kamau",
            b"Amani Otieno",
            b"Tax at 16%",
            b"KSh 1,218.00",
            b"KSh 50.00",
        ] {
            assert!(
                contains(&bytes, shown),
                "{:?} missing",
                String::from_utf8_lossy(shown)
            );
        }
        assert_eq!(
            bytes,
            render(&document(&lines, Currency::KES)),
            "deterministic output"
        );
    }

    #[test]
    fn a_credit_note_names_the_invoice_it_credits() {
        let refund = vec![Line {
            kind: LineKind::Refund,
            description: "Refund of the balance payment".into(),
            amount_minor: -20_000,
        }];
        let mut doc = document(&refund, Currency::KES);
        doc.credit_note = true;
        doc.number = "FND-2026-000043";
        doc.credits = Some("FND-2026-000042");
        doc.tax_bp = 0;
        (doc.subtotal_minor, doc.tax_minor, doc.total_minor) = (-20_000, 0, -20_000);
        let bytes = render(&doc);
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(contains(&bytes, b"(CREDIT NOTE)"));
        assert!(contains(&bytes, b"invoice FND-2026-000042"));
        assert!(contains(&bytes, b"-KSh 200.00"));
    }

    #[test]
    fn a_sign_the_fonts_lack_gives_way_to_the_iso_code() {
        assert_eq!(
            money(12_345_600, Currency::parse("INR").unwrap()),
            "INR 1,23,456.00"
        );
        assert_eq!(money(-300, Currency::parse("NGN").unwrap()), "-NGN 3.00");
        assert_eq!(money(1_250, Currency::parse("EUR").unwrap()), "€12.50");
        assert_eq!(money(-300, Currency::parse("USD").unwrap()), "-$3.00");
        assert_eq!(
            money(123_400, Currency::parse("KES").unwrap()),
            "KSh 1,234.00"
        );
        let lines = lines();
        let bytes = render(&document(&lines, Currency::parse("INR").unwrap()));
        assert!(contains(&bytes, b"INR 1,218.00"));
    }

    #[test]
    fn long_descriptions_wrap_and_many_lines_flow_onto_more_pages() {
        let wrapped = wrap(&"word ".repeat(40), 20);
        assert!(wrapped.iter().all(|l| l.chars().count() <= 20));
        assert_eq!(wrapped.join(" "), "word ".repeat(40).trim());
        assert_eq!(wrap("", 10), vec![String::new()]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        let many: Vec<Line> = (0..120)
            .map(|n| Line {
                kind: LineKind::Tip,
                description: format!("Tip number {n}"),
                amount_minor: 100,
            })
            .collect();
        let bytes = render(&document(&many, Currency::KES));
        assert!(contains(&bytes, b"/Count 3") || contains(&bytes, b"/Count 4"));
        assert!(contains(&bytes, b"Tip number 119"));
        assert!(contains(&bytes, b"FND-2026-000042 (continued)"));
    }

    #[test]
    fn text_outside_the_encoding_prints_as_question_marks() {
        assert_eq!(win_ansi("Café €5"), b"Caf\xe9 \x805".to_vec());
        assert_eq!(win_ansi("日本\n"), b"??".to_vec());
        assert_eq!(percent(750), "7.5%");
        assert_eq!(percent(1_625), "16.25%");
        assert_eq!(percent(0), "0%");
    }
}
