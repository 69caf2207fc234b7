//! Issuing invoices (when a booking becomes PAID) and credit notes (for each refund), numbered
//! without gaps per year in the transaction that settles the money, and reading them back.

use crate::db::batch;
use crate::db::entities::{booking, invoice, payment, user};
use crate::db::money::{invoices as store, payments as payment_store};
use crate::domain::invoices::{self as rules, InvoiceKind, Totals};
use crate::domain::payments::{PaymentKind, PaymentStatus};
use crate::error::{AppError, AppResult};
use crate::gateways::mail::Mail;
use crate::services::platform::storage::{self, LinkKind, SignedLink};
use crate::services::{Effects, Services, Viewer, bookings::access, money::invoice_pdf};
use chrono::{DateTime, Datelike, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// The document's stored lines. Lines that do not read (an unknown kind, say) are an error naming
/// the invoice, not an empty list.
pub fn lines(doc: &invoice::Model) -> AppResult<Vec<rules::Line>> {
    serde_json::from_str(&doc.lines).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "the lines stored on invoice {} do not read: {e}",
            doc.id
        ))
    })
}

/// The year's next number. The upsert takes the year's row lock until the caller commits, so
/// concurrent issuers queue, and a rolled-back issue gives its number back: no gaps, no repeats.
async fn next_number(txn: &impl ConnectionTrait, year: i32) -> AppResult<i64> {
    store::next_number(txn, year)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("invoice counter returned no row")))
}

struct Draft<'a> {
    kind: InvoiceKind,
    source_key: String,
    booking: &'a booking::Model,
    payment_id: Option<Uuid>,
    totals: Totals,
}

/// Writes one document unless its source already has one; returns it either way.
async fn issue(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    draft: Draft<'_>,
) -> AppResult<invoice::Model> {
    if let Some(existing) = store::by_source_key(txn, draft.source_key.as_str()).await? {
        return Ok(existing);
    }
    let year = now.year();
    let number = rules::number(year, next_number(txn, year).await?);
    let row = invoice::Model {
        id: Uuid::now_v7(),
        number,
        kind: draft.kind,
        source_key: draft.source_key,
        booking_id: draft.booking.id,
        payment_id: draft.payment_id,
        seller_id: draft.booking.technician_id,
        buyer_id: draft.booking.customer_id,
        currency: draft.booking.currency,
        lines: serde_json::to_string(&draft.totals.lines).map_err(AppError::internal)?,
        subtotal_minor: draft.totals.subtotal,
        tax_minor: draft.totals.tax,
        total_minor: draft.totals.total,
        tax_bp: services.config.bookings.pricing.tax_bp as i32,
        issued_at: now,
        created_at: now,
        updated_at: now,
    };
    store::insert(txn, row.clone()).await?;
    Ok(row)
}

/// The invoice of a booking that has just become PAID, and an email to the customer.
pub async fn invoice_paid_booking(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<invoice::Model> {
    let tips: Vec<i64> = payment_store::of_kind_in_status(
        txn,
        booking.id,
        PaymentKind::Tip,
        PaymentStatus::Succeeded,
    )
    .await?
    .iter()
    .map(|p| p.amount_minor)
    .collect();
    let totals = rules::job_invoice(
        &booking.title,
        booking.price_total,
        booking.price_tax,
        &tips,
    );
    let draft = Draft {
        kind: InvoiceKind::Invoice,
        source_key: format!("invoice:{}", booking.id),
        booking,
        payment_id: None,
        totals,
    };
    let issued = issue(txn, services, now, draft).await?;
    if let Some(customer) =
        crate::db::accounts::account::user_by_id(txn, booking.customer_id).await?
    {
        // The mailed link outlives an in-app one (FUNDI_INVOICE_LINK_DAYS): mail is read later.
        let link = pdf_link(services, issued.id, now, services.config.invoice_link_secs);
        effects.mail(Mail {
            to: customer.email,
            subject: format!("Invoice {} for {}", issued.number, booking.title),
            body: format!(
                "Thank you for your payment.\n\nInvoice {}\nTotal: {}\n\nDownload the invoice (PDF, link valid until {}):\n{}{}\n\nThe invoice is also in the app under the booking.",
                issued.number,
                crate::domain::money::Money::new(issued.total_minor, issued.currency).format(),
                link.expires_at.format("%Y-%m-%d %H:%M UTC"),
                services.config.public_url,
                link.url,
            ),
        });
    }
    Ok(issued)
}

/// The credit note of one refund of `paid`: `refunded_before` tells refunds of one payment apart.
pub async fn credit_refund(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    paid: &payment::Model,
    amount: i64,
) -> AppResult<invoice::Model> {
    let booking = access::load(txn, paid.booking_id).await?;
    let draft = Draft {
        kind: InvoiceKind::CreditNote,
        source_key: format!("credit:{}:{}", paid.id, paid.refunded_minor),
        booking: &booking,
        payment_id: Some(paid.id),
        totals: rules::credit_note(
            &format!(
                "Refund of the {} payment",
                paid.kind.as_str().to_lowercase()
            ),
            amount,
        ),
    };
    issue(txn, services, now, draft).await
}

/// A booking's invoice and credit notes, oldest first, for whoever may see the booking.
pub async fn for_booking(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<Vec<invoice::Model>> {
    access::visible(services, viewer, booking_id).await?;
    Ok(of_bookings(&services.db, &[booking_id])
        .await?
        .remove(&booking_id)
        .unwrap_or_default())
}

/// Each booking's invoice and credit notes, oldest first, for many bookings in one statement.
/// Callers check access.
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<invoice::Model>>> {
    let rows = store::of_bookings(db, bookings).await?;
    Ok(batch::group(rows, |i| i.booking_id))
}

/// A link to one document's PDF, signed like file downloads and working for `lifetime_secs`.
/// Whoever holds it may download the PDF, so it is handed only to people who may see the document.
pub fn pdf_link(
    services: &Services,
    invoice_id: Uuid,
    now: DateTime<Utc>,
    lifetime_secs: i64,
) -> SignedLink {
    storage::download_link_for(
        services.config.jwt_secret_bytes(),
        LinkKind::InvoicePdf,
        invoice_id,
        now,
        lifetime_secs,
    )
}

/// A rendered PDF and the name to save it under.
pub struct RenderedPdf {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The PDF behind a signed link. The signature is checked before anything is looked up, so a
/// forged link learns nothing about which documents exist; an unknown id with a genuine signature
/// is NOT_FOUND.
pub async fn open_pdf(
    services: &Services,
    invoice_id: Uuid,
    expires: i64,
    sig: &str,
) -> AppResult<RenderedPdf> {
    if !storage::link_is_valid(
        services.config.jwt_secret_bytes(),
        LinkKind::InvoicePdf,
        invoice_id,
        expires,
        sig,
        services.clock.now(),
    ) {
        return Err(AppError::Forbidden(
            "this download link is invalid or has expired".into(),
        ));
    }
    let db = &services.db;
    let doc = store::by_id(db, invoice_id)
        .await?
        .ok_or_else(|| AppError::NotFound("invoice".into()))?;
    let name_of = |user: Option<user::Model>| user.map(|u| u.full_name);
    let buyer = name_of(crate::db::accounts::account::user_by_id(db, doc.buyer_id).await?)
        .unwrap_or_default();
    let seller = match doc.seller_id {
        Some(id) => name_of(crate::db::accounts::account::user_by_id(db, id).await?),
        None => None,
    };
    // A credit note credits the booking's invoice when one was issued before it; a refund before
    // the job was invoiced (a deposit) credits no invoice.
    let credits = if doc.kind == InvoiceKind::CreditNote {
        store::one_of_kind_before(db, doc.booking_id, InvoiceKind::Invoice, doc.id)
            .await?
            .map(|i| i.number)
    } else {
        None
    };
    let lines = lines(&doc)?;
    let booking_reference = doc.booking_id.to_string();
    let bytes = invoice_pdf::render(&invoice_pdf::InvoicePdf {
        number: &doc.number,
        credit_note: doc.kind == InvoiceKind::CreditNote,
        issued_at: doc.issued_at,
        seller: seller.as_deref(),
        buyer: &buyer,
        booking_reference: &booking_reference,
        lines: &lines,
        currency: doc.currency,
        tax_bp: doc.tax_bp,
        subtotal_minor: doc.subtotal_minor,
        tax_minor: doc.tax_minor,
        total_minor: doc.total_minor,
        credits: credits.as_deref(),
    });
    Ok(RenderedPdf {
        filename: format!("{}.pdf", doc.number),
        bytes,
    })
}
