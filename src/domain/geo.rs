//! Geography rules: great-circle distance, travel-time estimates and coordinate validation.
//!
//! Coordinates are decimal degrees, latitude first, the order `LatLngInput` uses; a [`LatLng`] is a
//! point already checked to be on the globe.

use std::fmt;

/// Mean earth radius (IUGG), so distances agree with common mapping tools to a few metres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Default travel pace for ETAs: city traffic makes 3 minutes per km a fair planning figure.
pub const DEFAULT_MINUTES_PER_KM: f64 = 3.0;

/// No ETA is shorter than this: even a neighbour needs time to pack tools and walk over.
pub const MIN_ETA_MINUTES: u32 = 5;

/// Great-circle distance in kilometres between two `(lat, lng)` points, by the haversine formula.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lng1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lng2) = (b.0.to_radians(), b.1.to_radians());
    let half_dlat = (lat2 - lat1) / 2.0;
    let half_dlng = (lng2 - lng1) / 2.0;
    let h = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlng.sin().powi(2);
    // Rounding can push `h` a hair past 1 for near-antipodal points; asin would then be NaN.
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

/// Estimated minutes to cover `distance_km` at `minutes_per_km`, never below [`MIN_ETA_MINUTES`].
///
/// Nonsense input (negative or NaN) yields the minimum rather than an error, because an ETA is
/// advice to a customer, not a promise that should fail a request.
pub fn eta_minutes(distance_km: f64, minutes_per_km: f64) -> u32 {
    // Saturating: NaN and negatives become 0, huge values u32::MAX.
    let minutes = super::whole::saturating_i64((minutes_per_km * distance_km).round()).max(0);
    let minutes = u32::try_from(minutes).unwrap_or(u32::MAX);
    minutes.max(MIN_ETA_MINUTES)
}

/// Which coordinate was wrong, named as the API field so errors can point at it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoordinateError {
    /// Latitude not a finite number in -90..=90.
    Lat(f64),
    /// Longitude not a finite number in -180..=180.
    Lng(f64),
}

impl CoordinateError {
    /// The input field at fault, as clients spell it (`lat` or `lng`).
    pub fn field(&self) -> &'static str {
        match self {
            CoordinateError::Lat(_) => "lat",
            CoordinateError::Lng(_) => "lng",
        }
    }
}

impl fmt::Display for CoordinateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoordinateError::Lat(v) => {
                write!(f, "lat must be a number from -90 to 90, got {v}")
            }
            CoordinateError::Lng(v) => {
                write!(f, "lng must be a number from -180 to 180, got {v}")
            }
        }
    }
}

impl std::error::Error for CoordinateError {}

/// A point on the globe: both parts finite and in range, checked once when it is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLng {
    lat: f64,
    lng: f64,
}

impl LatLng {
    /// The point, or which part is off the globe (latitude is checked first).
    pub fn new(lat: f64, lng: f64) -> Result<LatLng, CoordinateError> {
        validate_lat_lng(lat, lng)?;
        Ok(LatLng { lat, lng })
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lng(self) -> f64 {
        self.lng
    }

    /// Great-circle distance to `other`, in kilometres.
    pub fn km_to(self, other: LatLng) -> f64 {
        haversine_km((self.lat, self.lng), (other.lat, other.lng))
    }
}

/// Accepts a point only when both parts are finite and within range; latitude is checked first.
pub fn validate_lat_lng(lat: f64, lng: f64) -> Result<(), CoordinateError> {
    // RangeInclusive::contains is false for NaN, and infinities are out of range, so this
    // one check also enforces "finite".
    if !(-90.0..=90.0).contains(&lat) {
        return Err(CoordinateError::Lat(lat));
    }
    if !(-180.0..=180.0).contains(&lng) {
        return Err(CoordinateError::Lng(lng));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAIROBI_CBD: (f64, f64) = (-1.286389, 36.817223);
    const JKIA: (f64, f64) = (-1.319167, 36.9275);
    const MOMBASA: (f64, f64) = (-4.043477, 39.668206);

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn a_point_is_made_only_on_the_globe() {
        let cases = [
            ((-1.286389, 36.817223), Ok(())),
            ((90.0, 180.0), Ok(())),
            ((-90.0, -180.0), Ok(())),
            ((90.5, 0.0), Err("lat")),
            ((f64::NAN, 0.0), Err("lat")),
            ((0.0, -180.1), Err("lng")),
            ((0.0, f64::INFINITY), Err("lng")),
            ((100.0, 200.0), Err("lat")),
        ];
        for ((lat, lng), expected) in cases {
            let made = LatLng::new(lat, lng);
            assert_eq!(
                made.map(|_| ()).map_err(|e| e.field()),
                expected,
                "{lat},{lng}"
            );
            if let Ok(point) = made {
                assert_eq!((point.lat(), point.lng()), (lat, lng));
            }
        }
        let cbd = LatLng::new(NAIROBI_CBD.0, NAIROBI_CBD.1).unwrap();
        let jkia = LatLng::new(JKIA.0, JKIA.1).unwrap();
        assert_eq!(cbd.km_to(jkia), haversine_km(NAIROBI_CBD, JKIA));
    }

    #[test]
    fn haversine_distances_match_hand_computed_values() {
        let cases = [
            (
                "one degree along the equator",
                (0.0, 0.0),
                (0.0, 1.0),
                111.195_080,
            ),
            ("pole to pole", (90.0, 0.0), (-90.0, 0.0), 20_015.114_442),
            ("Nairobi CBD to JKIA", NAIROBI_CBD, JKIA, 12.789_430),
            ("Nairobi to Mombasa", NAIROBI_CBD, MOMBASA, 440.737_913),
            (
                "across the antimeridian",
                (0.0, 179.5),
                (0.0, -179.5),
                111.195_080,
            ),
            ("same point", NAIROBI_CBD, NAIROBI_CBD, 0.0),
        ];
        for (name, a, b, km) in cases {
            let got = haversine_km(a, b);
            assert!(close(got, km, 1e-5), "{name}: got {got}, want {km}");
        }
    }

    #[test]
    fn distance_is_the_same_in_both_directions() {
        let there = haversine_km(NAIROBI_CBD, MOMBASA);
        let back = haversine_km(MOMBASA, NAIROBI_CBD);
        assert!(close(there, back, 1e-9));
    }

    #[test]
    fn antipodal_points_give_half_the_circumference_not_nan() {
        let d = haversine_km((0.0, 0.0), (0.0, 180.0));
        assert!(
            close(d, std::f64::consts::PI * EARTH_RADIUS_KM, 1e-6),
            "got {d}"
        );
    }

    #[test]
    fn eta_is_three_minutes_per_km_but_never_under_five() {
        let cases = [
            (0.0, 5),
            (1.0, 5),
            (1.6, 5),  // 4.8 rounds to 5
            (1.7, 5),  // 5.1 rounds to 5
            (2.0, 6),  // 6 minutes
            (3.2, 10), // 9.6 rounds to 10
            (12.79, 38),
            (-4.0, 5),
            (f64::NAN, 5),
        ];
        for (km, minutes) in cases {
            assert_eq!(eta_minutes(km, DEFAULT_MINUTES_PER_KM), minutes, "{km} km");
        }
    }

    #[test]
    fn eta_uses_the_given_pace() {
        assert_eq!(eta_minutes(10.0, 1.5), 15);
        assert_eq!(eta_minutes(10.0, 0.0), MIN_ETA_MINUTES);
    }

    #[test]
    fn coordinates_in_range_are_accepted() {
        for (lat, lng) in [(0.0, 0.0), (90.0, 180.0), (-90.0, -180.0), NAIROBI_CBD] {
            assert_eq!(validate_lat_lng(lat, lng), Ok(()), "({lat}, {lng})");
        }
    }

    #[test]
    fn bad_coordinates_name_the_field_at_fault() {
        let cases = [
            (90.000_1, 0.0, "lat"),
            (-90.000_1, 0.0, "lat"),
            (f64::NAN, 0.0, "lat"),
            (f64::INFINITY, 0.0, "lat"),
            (0.0, 180.000_1, "lng"),
            (0.0, -180.000_1, "lng"),
            (0.0, f64::NAN, "lng"),
            (0.0, f64::NEG_INFINITY, "lng"),
            (100.0, 200.0, "lat"),
        ];
        for (lat, lng, field) in cases {
            let err = validate_lat_lng(lat, lng).expect_err("should be rejected");
            assert_eq!(err.field(), field, "({lat}, {lng})");
        }
    }

    #[test]
    fn coordinate_error_message_says_what_is_allowed() {
        let msg = validate_lat_lng(91.0, 0.0).unwrap_err().to_string();
        assert_eq!(msg, "lat must be a number from -90 to 90, got 91");
    }
}
