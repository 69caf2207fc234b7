//! Matching: `matchTechnicians` with its explained score, and the weights admins and customers set.

use crate::domain::matching::{Band, Factor, Weights};
use crate::domain::pricing::Priority as PricingPriority;
use crate::error::AppError;
use crate::graphql::common::{LatLngInput, Money, MoneyInput};
use crate::graphql::context::{services, viewer};
use crate::graphql::loaders::{self, TechnicianById};
use crate::graphql::technicians::operations::{technician_shown, technician_view};
use crate::graphql::technicians::types::Technician;
use crate::services::matching::search::{self as matching_service, MatchRequest};
use crate::services::technicians::profiles::{self, TechnicianRecord};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "PricingPriority")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

#[derive(InputObject)]
pub struct MatchInput {
    /// Category slug, e.g. `plumbing`.
    pub category: String,
    /// Where the job is.
    pub location: LatLngInput,
    /// How far to look, in km (default 10, at most 50).
    pub radius_km: Option<f64>,
    #[graphql(default_with = "Priority::Medium")]
    pub priority: Priority,
    /// The most the customer wants to pay per hour; compared with each technician's rate.
    pub budget: Option<MoneyInput>,
    /// When the job should start; scores whether each technician works then.
    pub preferred_start: Option<DateTime<Utc>>,
    /// How many matches (default 10, at most 50).
    pub first: Option<i32>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatchBand {
    Excellent,
    VeryGood,
    Good,
    Fair,
    Poor,
}

impl From<Band> for MatchBand {
    fn from(b: Band) -> Self {
        match b {
            Band::Excellent => MatchBand::Excellent,
            Band::VeryGood => MatchBand::VeryGood,
            Band::Good => MatchBand::Good,
            Band::Fair => MatchBand::Fair,
            Band::Poor => MatchBand::Poor,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatchFactorKind {
    Skill,
    Distance,
    Availability,
    Rating,
    Experience,
    PriceVsBudget,
    ResponseTime,
    CompletionRate,
    CustomerPreference,
}

impl From<Factor> for MatchFactorKind {
    fn from(f: Factor) -> Self {
        match f {
            Factor::Skill => MatchFactorKind::Skill,
            Factor::Distance => MatchFactorKind::Distance,
            Factor::Availability => MatchFactorKind::Availability,
            Factor::Rating => MatchFactorKind::Rating,
            Factor::Experience => MatchFactorKind::Experience,
            Factor::PriceVsBudget => MatchFactorKind::PriceVsBudget,
            Factor::ResponseTime => MatchFactorKind::ResponseTime,
            Factor::CompletionRate => MatchFactorKind::CompletionRate,
            Factor::CustomerPreference => MatchFactorKind::CustomerPreference,
        }
    }
}

#[derive(SimpleObject)]
pub struct MatchFactor {
    pub factor: MatchFactorKind,
    /// Share of the total, out of 100.
    pub weight: i32,
    /// 0 to 100.
    pub score: f64,
    pub explanation: String,
}

pub struct TechnicianMatch {
    found: matching_service::TechnicianMatch,
    /// The technician's account and profile when `matchTechnicians` read them with the matches
    /// (`Some(None)`: no such technician any more).
    record: Option<Option<Arc<TechnicianRecord>>>,
}

#[Object]
impl TechnicianMatch {
    async fn technician(&self, ctx: &Context<'_>) -> Result<Technician> {
        let shown = match &self.record {
            Some(record) => {
                let viewer = viewer(ctx).await.ok();
                record
                    .clone()
                    .and_then(|record| technician_shown(viewer.as_ref(), record))
            }
            None => technician_view(ctx, self.found.technician_id).await?,
        };
        Ok(shown.ok_or_else(|| AppError::NotFound("technician".into()))?)
    }
    /// 0 to 100, one decimal.
    async fn score(&self) -> f64 {
        self.found.score.total
    }
    async fn band(&self) -> MatchBand {
        self.found.score.band.into()
    }
    /// Great-circle distance to the job.
    async fn distance_km(&self) -> f64 {
        (self.found.distance_km * 100.0).round() / 100.0
    }
    async fn eta_minutes(&self) -> i32 {
        self.found.eta_minutes as i32
    }
    /// The technician's hourly rate with the priority surge (+10% HIGH, +20% URGENT).
    async fn quoted_hourly_rate(&self) -> Money {
        self.found.quoted_hourly_rate.into()
    }
    // Written only when selected, and only for the matches returned.
    async fn factors(&self) -> Vec<MatchFactor> {
        self.found
            .factors()
            .into_iter()
            .map(|f| MatchFactor {
                factor: f.factor.into(),
                weight: f.weight as i32,
                score: f.score,
                explanation: f.explanation,
            })
            .collect()
    }
}

/// Weights of the nine factors; they add up to 100.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "MatchingWeightsInput")]
pub struct MatchingWeights {
    pub skill: i32,
    pub distance: i32,
    pub availability: i32,
    pub rating: i32,
    pub experience: i32,
    pub price_vs_budget: i32,
    pub response_time: i32,
    pub completion_rate: i32,
    pub customer_preference: i32,
}

impl From<Weights> for MatchingWeights {
    fn from(w: Weights) -> Self {
        MatchingWeights {
            skill: w.skill as i32,
            distance: w.distance as i32,
            availability: w.availability as i32,
            rating: w.rating as i32,
            experience: w.experience as i32,
            price_vs_budget: w.price_vs_budget as i32,
            response_time: w.response_time as i32,
            completion_rate: w.completion_rate as i32,
            customer_preference: w.customer_preference as i32,
        }
    }
}

impl TryFrom<MatchingWeights> for Weights {
    type Error = AppError;

    fn try_from(w: MatchingWeights) -> Result<Self, AppError> {
        let each = |v: i32, field: &str| {
            u32::try_from(v).map_err(|_| {
                AppError::bad_input(format!("weights.{field}"), "weights cannot be negative")
            })
        };
        Ok(Weights {
            skill: each(w.skill, "skill")?,
            distance: each(w.distance, "distance")?,
            availability: each(w.availability, "availability")?,
            rating: each(w.rating, "rating")?,
            experience: each(w.experience, "experience")?,
            price_vs_budget: each(w.price_vs_budget, "priceVsBudget")?,
            response_time: each(w.response_time, "responseTime")?,
            completion_rate: each(w.completion_rate, "completionRate")?,
            customer_preference: each(w.customer_preference, "customerPreference")?,
        })
    }
}

#[derive(Default)]
pub struct MatchingQuery;

#[Object]
impl MatchingQuery {
    /// Technicians who can take this job, best first, each with the reasons for its score.
    async fn match_technicians(
        &self,
        ctx: &Context<'_>,
        input: MatchInput,
    ) -> Result<Vec<TechnicianMatch>> {
        let viewer = viewer(ctx).await?;
        let request = MatchRequest {
            category: input.category,
            location: input.location.parse("location")?,
            radius_km: input.radius_km,
            priority: input.priority.into(),
            budget: input.budget.map(|m| m.parse("budget")).transpose()?,
            preferred_start: input.preferred_start,
            first: input.first,
        };
        let matches = matching_service::match_technicians(services(ctx), &viewer, request).await?;
        // The matched technicians' accounts and profiles in one statement, read here rather than
        // through the request's DataLoader, which would first wait out its batching window.
        let mut records: Option<HashMap<Uuid, Arc<TechnicianRecord>>> = None;
        if ctx.look_ahead().field("technician").exists() {
            let ids: Vec<Uuid> = matches.iter().map(|m| m.technician_id).collect();
            let found: HashMap<Uuid, Arc<TechnicianRecord>> =
                profiles::load_many(&services(ctx).db, &ids)
                    .await?
                    .into_iter()
                    .map(|(id, record)| (id, Arc::new(record)))
                    .collect();
            loaders::feed(
                ctx,
                found
                    .iter()
                    .map(|(id, record)| (TechnicianById(*id), record.clone())),
            )
            .await;
            records = Some(found);
        }
        Ok(matches
            .into_iter()
            .map(|found| TechnicianMatch {
                record: records
                    .as_ref()
                    .map(|records| records.get(&found.technician_id).cloned()),
                found,
            })
            .collect())
    }

    /// The platform's weights, used for customers who set none.
    async fn matching_weights(&self, ctx: &Context<'_>) -> Result<MatchingWeights> {
        viewer(ctx).await?;
        Ok(matching_service::platform_weights(&services(ctx).db)
            .await?
            .into())
    }

    /// The viewer's own weights, if they saved any.
    async fn my_matching_preferences(&self, ctx: &Context<'_>) -> Result<Option<MatchingWeights>> {
        let viewer = viewer(ctx).await?;
        Ok(
            matching_service::customer_weights(&services(ctx).db, viewer.user_id)
                .await?
                .map(Into::into),
        )
    }
}

#[derive(Default)]
pub struct MatchingMutation;

#[Object]
impl MatchingMutation {
    /// Admins: the platform's weights; they must add up to 100.
    async fn update_matching_weights(
        &self,
        ctx: &Context<'_>,
        input: MatchingWeights,
    ) -> Result<MatchingWeights> {
        let viewer = viewer(ctx).await?;
        let weights = Weights::try_from(input)?;
        Ok(
            matching_service::set_platform_weights(services(ctx), &viewer, weights)
                .await?
                .into(),
        )
    }

    /// Customers: their own weights (they must add up to 100); null goes back to the platform's.
    async fn set_matching_preferences(
        &self,
        ctx: &Context<'_>,
        weights: Option<MatchingWeights>,
    ) -> Result<Option<MatchingWeights>> {
        let viewer = viewer(ctx).await?;
        let weights = weights.map(Weights::try_from).transpose()?;
        Ok(
            matching_service::set_customer_weights(services(ctx), &viewer, weights)
                .await?
                .map(Into::into),
        )
    }
}
