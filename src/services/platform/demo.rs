//! Demo data: a city of customers and approved technicians around a point, for trying the API by hand.

use crate::db::begin_write;
use crate::db::entities::{technician_profile, technician_skill, user, working_hours};
use crate::db::platform::demo as db_demo;
use crate::db::reviews::aggregates as db_ratings;
use crate::db::technicians::{profiles as db_profiles, technician as db_technician};
use crate::domain::account::Role;
use crate::domain::ratings::{Totals, average, bayesian_average};
use crate::domain::technician::{Availability, KycStatus};
use crate::domain::whole;
use crate::error::{AppError, AppResult};
use crate::services::{Services, accounts::passwords, catalogue::categories};
use uuid::Uuid;

pub const DEMO_PASSWORD: &str = "fundi-demo-password";
pub const CUSTOMERS: usize = 20;
pub const TECHNICIANS: usize = 300;

pub struct DemoLogins {
    pub admin: String,
    pub customers: Vec<String>,
    pub technicians: Vec<DemoTechnician>,
}

/// A demo technician as `matchTechnicians` shows them, with the login that acts as them.
pub struct DemoTechnician {
    pub id: Uuid,
    pub full_name: String,
    pub category: String,
    pub email: String,
}

/// A small deterministic generator, so every demo city looks the same for the same centre.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A whole number in `0..n`, drawn in integers so no float is cast: `floor(next() * n)`.
    fn below(&mut self, n: i32) -> i32 {
        self.next();
        let drawn = (u128::from(self.0 >> 11) * u128::from(n.unsigned_abs())) >> 53;
        // Below `n` by construction, so this never saturates.
        i32::try_from(drawn).unwrap_or(i32::MAX)
    }

    /// An index into `items`, which are few (names), so their count fits an i32.
    fn index<T>(&mut self, items: &[T]) -> usize {
        let len = i32::try_from(items.len()).unwrap_or(i32::MAX);
        usize::try_from(self.below(len)).unwrap_or(0)
    }
}

const FIRST: &[&str] = &[
    "Amina", "Brian", "Chebet", "David", "Esther", "Faith", "George", "Halima", "Ian", "Joy",
    "Kamau", "Lilian", "Musa", "Njeri", "Otieno", "Purity", "Rashid", "Sharon", "Tom", "Wanjiru",
];
const LAST: &[&str] = &[
    "Achieng", "Barasa", "Chege", "Kariuki", "Kiptoo", "Mwangi", "Njoroge", "Odhiambo", "Omondi",
    "Wafula",
];

/// How many reviews gave 1 to 5 stars, for the `i`th demo technician: every fourth is new, the rest
/// mostly well rated.
fn demo_stars(rng: &mut Lcg, i: usize) -> [i64; 5] {
    let mut stars = [0i64; 5];
    if i.is_multiple_of(4) {
        return stars;
    }
    for _ in 0..=rng.below(120) {
        let slot = match rng.below(20) {
            0 => 0,
            1 => 1,
            2..=4 => 2,
            5..=10 => 3,
            _ => 4,
        };
        stars[slot] += 1;
    }
    stars
}

/// Rating totals for star counts, every aspect rated as the stars were.
fn totals_of(stars: [i64; 5]) -> Totals {
    let count: i64 = stars.iter().sum();
    let sum: i64 = (1..).zip(stars).map(|(s, n)| s * n).sum();
    Totals {
        count,
        sum,
        aspect_sums: [sum; 5],
        stars,
    }
}

fn person(rng: &mut Lcg) -> String {
    let first = FIRST[rng.index(FIRST)];
    let last = LAST[rng.index(LAST)];
    format!("{first} {last}")
}

fn account(
    id: Uuid,
    email: String,
    name: String,
    role: Role,
    hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> user::Model {
    user::Model {
        id,
        email,
        phone: None,
        password_hash: hash.to_string(),
        full_name: name,
        role,
        email_verified_at: Some(now),
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        login_locked_until: None,
        login_failures: 0,
        login_window_started_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Fills an empty database; refuses one that already has users unless `force`.
pub async fn seed(services: &Services, centre: (f64, f64), force: bool) -> AppResult<DemoLogins> {
    let existing = db_demo::count_users(&services.db).await?;
    if existing > 0 && !force {
        return Err(AppError::Conflict(format!(
            "the database already has {existing} users; pass --force to add the demo city anyway"
        )));
    }
    let now = services.clock.now();
    let categories = categories::list(&services.db, false).await?;
    // Every demo account shares one password, so one hash serves them all.
    let hash = passwords::hash(DEMO_PASSWORD.into())
        .await
        .map_err(AppError::internal)?;
    // The random tail of a UUIDv7, so a forced second city never collides with the first.
    let tag = Uuid::now_v7().simple().to_string()[26..].to_string();
    let microdegrees = |degrees: f64| whole::saturating_i64(degrees * 1e6) as u64;
    let mut rng = Lcg(microdegrees(centre.0) ^ microdegrees(centre.1).rotate_left(32));
    let txn = begin_write(&services.db).await?;
    let admin = format!("admin+{tag}@demo.fundi.local");
    db_demo::insert_user(
        &txn,
        account(
            Uuid::now_v7(),
            admin.clone(),
            "Demo Admin".into(),
            Role::Admin,
            &hash,
            now,
        ),
    )
    .await?;
    let customers: Vec<String> = (0..CUSTOMERS)
        .map(|i| format!("customer{:02}+{tag}@demo.fundi.local", i + 1))
        .collect();
    let rows: Vec<_> = customers
        .iter()
        .map(|email| {
            account(
                Uuid::now_v7(),
                email.clone(),
                person(&mut rng),
                Role::Customer,
                &hash,
                now,
            )
        })
        .collect();
    db_demo::insert_users(&txn, rows).await?;
    // Ratings come from a generator of their own, so the rest of the city is drawn as before.
    let mut ratings_rng = Lcg(rng.0 ^ 0x5EED_0F5E_ED5E_ED00);
    let ratings: Vec<Totals> = (0..TECHNICIANS)
        .map(|i| totals_of(demo_stars(&mut ratings_rng, i)))
        .collect();
    let platform = ratings
        .iter()
        .fold((0, 0), |(count, sum), t| (count + t.count, sum + t.sum));
    let platform_mean = average(platform.1, platform.0);
    let prior_weight = services.config.reviews.prior_weight;
    let mut technicians = Vec::with_capacity(TECHNICIANS);
    for (i, rating) in ratings.into_iter().enumerate() {
        let id = Uuid::now_v7();
        let email = format!("tech{:03}+{tag}@demo.fundi.local", i + 1);
        let full_name = person(&mut rng);
        db_demo::insert_user(
            &txn,
            account(
                id,
                email.clone(),
                full_name.clone(),
                Role::Technician,
                &hash,
                now,
            ),
        )
        .await?;
        // Spread over about 30 x 30 km around the centre.
        let base = (
            centre.0 + (rng.next() - 0.5) * 0.27,
            centre.1 + (rng.next() - 0.5) * 0.27,
        );
        let online = i % 3 == 0;
        let years = 1 + rng.below(20);
        let category = &categories[i % categories.len()];
        let profile = technician_profile::Model {
            id,
            bio: format!(
                "{} specialist with {years} years on the job.",
                category.name
            ),
            years_of_experience: years,
            hourly_rate_minor: category.default_hourly_rate_minor + i64::from(rng.below(50_000))
                - 25_000,
            currency: category.currency,
            service_radius_km: 5.0 + (rng.next() * 20.0).round(),
            base_lat: Some(base.0),
            base_lng: Some(base.1),
            time_zone: "Africa/Nairobi".into(),
            kyc_status: KycStatus::Approved,
            availability: if i % 3 == 2 {
                Availability::Offline
            } else {
                Availability::Available
            },
            live_lat: online.then(|| base.0 + (rng.next() - 0.5) * 0.02),
            live_lng: online.then(|| base.1 + (rng.next() - 0.5) * 0.02),
            live_accuracy_m: online.then_some(15.0),
            live_heading_deg: None,
            live_speed_kmh: None,
            live_at: online.then_some(now),
            rating_average: average(rating.sum, rating.count).unwrap_or(0.0),
            rating_count: i32::try_from(rating.count).unwrap_or(i32::MAX),
            jobs_completed: rng.below(150),
            jobs_withdrawn: rng.below(5),
            jobs_cancelled: rng.below(3),
            median_response_secs: Some(60 + rng.below(1200)),
            rating_sum: rating.sum,
            quality_sum: rating.aspect_sums[0],
            punctuality_sum: rating.aspect_sums[1],
            communication_sum: rating.aspect_sums[2],
            value_sum: rating.aspect_sums[3],
            professionalism_sum: rating.aspect_sums[4],
            stars_1: rating.stars[0],
            stars_2: rating.stars[1],
            stars_3: rating.stars[2],
            stars_4: rating.stars[3],
            stars_5: rating.stars[4],
            rating_bayesian: bayesian_average(
                rating.sum,
                rating.count,
                platform_mean,
                prior_weight,
            )
            .unwrap_or(0.0),
            created_at: now,
            updated_at: now,
        };
        db_technician::insert_profile(&txn, profile).await?;
        let mut skill_ids = vec![category.id];
        if i % 2 == 0 {
            skill_ids.push(categories[(i / 2 + 3) % categories.len()].id);
        }
        skill_ids.dedup();
        let skills = skill_ids
            .into_iter()
            .map(|category_id| technician_skill::Model {
                id: Uuid::now_v7(),
                technician_id: id,
                category_id,
                years: years.min(10),
                created_at: now,
                updated_at: now,
            })
            .collect();
        db_profiles::insert_skills(&txn, skills).await?;
        let hours = (1..=6)
            .map(|weekday| working_hours::Model {
                id: Uuid::now_v7(),
                technician_id: id,
                weekday,
                start_minute: 8 * 60,
                end_minute: 18 * 60,
                created_at: now,
                updated_at: now,
            })
            .collect();
        db_technician::insert_hours(&txn, hours).await?;
        technicians.push(DemoTechnician {
            id,
            full_name,
            category: category.slug.clone(),
            email,
        });
    }
    db_ratings::add_to_platform(&txn, platform.0, platform.1, now).await?;
    txn.commit().await?;
    Ok(DemoLogins {
        admin,
        customers,
        technicians,
    })
}
