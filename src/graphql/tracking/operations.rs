//! Live tracking over GraphQL: `shareLocation`, the `technicianLocation` subscription, `Booking.trail`.

use crate::db::entities::booking;
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::live::{BookingEvent, Live};
use crate::graphql::loaders::{self, TrailOfJob};
use crate::services::tracking::positions::{self, LocationShare};
use async_graphql::{Context, ID, InputObject, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;

/// One reading from the technician's device.
#[derive(InputObject)]
pub struct LocationInput {
    /// -90 to 90.
    pub lat: f64,
    /// -180 to 180.
    pub lng: f64,
    /// Radius of the fix's uncertainty in metres, 0 to 10000.
    pub accuracy_m: Option<f64>,
    /// Degrees clockwise from north, 0 to 360.
    pub heading_deg: Option<f64>,
    /// 0 to 300.
    pub speed_kmh: Option<f64>,
    /// When the device took the reading: later than the booking's last accepted point, and at most
    /// 2 minutes ahead of the server's clock.
    pub recorded_at: DateTime<Utc>,
}

/// Where the technician was, with the distance to the job and the ETA from there.
pub struct TrackingPoint(pub positions::TrackingPoint);

#[Object]
impl TrackingPoint {
    async fn booking_id(&self) -> ID {
        ids::encode(Kind::Booking, self.0.booking_id)
    }
    async fn lat(&self) -> f64 {
        self.0.lat
    }
    async fn lng(&self) -> f64 {
        self.0.lng
    }
    async fn accuracy_m(&self) -> Option<f64> {
        self.0.accuracy_m
    }
    async fn heading_deg(&self) -> Option<f64> {
        self.0.heading_deg
    }
    async fn speed_kmh(&self) -> Option<f64> {
        self.0.speed_kmh
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// Great-circle distance to the job's location.
    async fn distance_km(&self) -> f64 {
        self.0.distance_km
    }
    /// At the platform's planning speed (default 20 km/h, so 3 minutes per km), never under 5.
    async fn eta_minutes(&self) -> u32 {
        self.0.eta_minutes
    }
}

/// `Booking.trail`: the stored points of the job, oldest first, at most one per trail interval.
pub async fn trail(ctx: &Context<'_>, booking: &booking::Model) -> Result<Vec<TrackingPoint>> {
    let Some(technician) = booking.technician_id else {
        return Ok(Vec::new());
    };
    let rows = loaders::list(ctx, TrailOfJob(booking.id, technician)).await?;
    let points = positions::trail_points(services(ctx), booking, rows);
    Ok(points.into_iter().map(TrackingPoint).collect())
}

#[derive(Default)]
pub struct TrackingMutation;

#[Object]
impl TrackingMutation {
    /// The booking's technician shares where they are, while the job is ACCEPTED, EN_ROUTE, ARRIVED
    /// or IN_PROGRESS; at most one point per second. Inside the arrival geofence an EN_ROUTE booking
    /// becomes ARRIVED.
    async fn share_location(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        input: LocationInput,
    ) -> Result<TrackingPoint> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let share = LocationShare {
            lat: input.lat,
            lng: input.lng,
            accuracy_m: input.accuracy_m,
            heading_deg: input.heading_deg,
            speed_kmh: input.speed_kmh,
            recorded_at: input.recorded_at,
        };
        let point = positions::share(services(ctx), &viewer, uuid, share).await?;
        Ok(TrackingPoint(point))
    }
}

#[derive(Default)]
pub struct TrackingSubscription;

#[Subscription]
impl TrackingSubscription {
    /// The technician's position on a booking, for its customer, its technician and staff: the
    /// latest point at once, then each new one.
    async fn technician_location(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
    ) -> Result<Live<TrackingPoint>> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let points = positions::watch(services(ctx), &viewer, uuid).await?;
        let points = points.map(|point| {
            Ok(BookingEvent {
                booking_version: point.booking_version,
                event: TrackingPoint(point),
            })
        });
        Ok(Live::booking(ctx, viewer, uuid, points))
    }
}
