//! Invoices and credit notes of a booking, as its customer, its technician and staff see them.

use crate::db::entities::invoice;
use crate::domain::invoices::InvoiceKind;
use crate::graphql::accounts::person::Person;
use crate::graphql::common::Money;
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::services::money::invoices as service;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

pub struct Invoice(pub invoice::Model);

#[derive(SimpleObject)]
pub struct InvoiceLine {
    /// LABOUR, TIP or REFUND.
    pub kind: String,
    pub description: String,
    pub amount: Money,
}

#[Object]
impl Invoice {
    /// FND-<year>-<six digits>, one sequence per year without gaps.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// INVOICE or CREDIT_NOTE.
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }
    async fn booking_id(&self) -> ID {
        ids::encode(Kind::Booking, self.0.booking_id)
    }
    /// The technician who did the work.
    async fn seller(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        match self.0.seller_id {
            Some(id) => Person::load(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn buyer(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Person::load(ctx, self.0.buyer_id).await
    }
    async fn lines(&self) -> Result<Vec<InvoiceLine>> {
        Ok(service::lines(&self.0)?
            .into_iter()
            .map(|l| InvoiceLine {
                kind: l.kind.as_str().to_owned(),
                description: l.description,
                amount: Money::new(l.amount_minor, self.0.currency),
            })
            .collect())
    }
    async fn subtotal(&self) -> Money {
        Money::new(self.0.subtotal_minor, self.0.currency)
    }
    /// Tax rate in basis points (1,600 = 16%).
    async fn tax_basis_points(&self) -> i32 {
        self.0.tax_bp
    }
    async fn tax(&self) -> Money {
        Money::new(self.0.tax_minor, self.0.currency)
    }
    async fn total(&self) -> Money {
        Money::new(self.0.total_minor, self.0.currency)
    }
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }
    /// This document as a PDF: a link relative to the API's origin, signed afresh on each read
    /// and working for 5 minutes without a token. Only those who can see the invoice get one.
    async fn pdf_url(&self, ctx: &Context<'_>) -> String {
        let services = services(ctx);
        service::pdf_link(
            services,
            self.0.id,
            services.clock.now(),
            crate::services::platform::storage::DOWNLOAD_LINK_SECS,
        )
        .url
    }
}

#[derive(Default)]
pub struct InvoiceQuery;

#[Object]
impl InvoiceQuery {
    /// The invoice of a paid booking; null until it is paid.
    async fn invoice(&self, ctx: &Context<'_>, booking_id: ID) -> Result<Option<Invoice>> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let documents = service::for_booking(services(ctx), &viewer, uuid).await?;
        Ok(documents
            .into_iter()
            .find(|d| d.kind == InvoiceKind::Invoice)
            .map(Invoice))
    }
}
