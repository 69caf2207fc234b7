//! invoices and invoice_sequences: issued invoices and credit notes, and the per-year counter
//! that numbers them without gaps.

use crate::db::entities::invoice;
use crate::db::sql::stmt;
use crate::domain::invoices::InvoiceKind;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Counts the year's next number in one upsert, which holds the year's row lock until the
/// caller commits; the new last number, or None if the statement returned no row.
pub async fn next_number(db: &impl ConnectionTrait, year: i32) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO invoice_sequences (year, last_number) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last_number = invoice_sequences.last_number + 1 \
             RETURNING last_number",
            [year.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "last_number")).transpose()
}

/// The document issued for this source.
pub async fn by_source_key(
    db: &impl ConnectionTrait,
    source_key: &str,
) -> Result<Option<invoice::Model>, DbErr> {
    invoice::Entity::find()
        .filter(invoice::Column::SourceKey.eq(source_key))
        .one(db)
        .await
}

/// The document with this id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<invoice::Model>, DbErr> {
    invoice::Entity::find_by_id(id).one(db).await
}

/// Inserts a document.
pub async fn insert(db: &impl ConnectionTrait, row: invoice::Model) -> Result<(), DbErr> {
    invoice::Entity::insert(row.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// Every document of the given bookings, oldest first.
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> Result<Vec<invoice::Model>, DbErr> {
    invoice::Entity::find()
        .filter(invoice::Column::BookingId.is_in(bookings.iter().copied()))
        .order_by_asc(invoice::Column::Id)
        .all(db)
        .await
}

/// One document of the booking of `kind` with an id below `before`, if any.
pub async fn one_of_kind_before(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    kind: InvoiceKind,
    before: Uuid,
) -> Result<Option<invoice::Model>, DbErr> {
    invoice::Entity::find()
        .filter(invoice::Column::BookingId.eq(booking_id))
        .filter(invoice::Column::Kind.eq(kind))
        .filter(invoice::Column::Id.lt(before))
        .one(db)
        .await
}
