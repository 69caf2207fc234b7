//! KYC over GraphQL: a technician's submission (multipart uploads) and status, the staff review queue,
//! decisions, and documents with short-lived download links.

use crate::db::entities::kyc_event;
use crate::domain::technician::DocumentKind;
use crate::error::{AppError, AppResult};
use crate::graphql::accounts::types::User;
use crate::graphql::common::{Counted, TotalCount, connection};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::technicians::types::KycStatus;
use crate::graphql::uploads::read_upload;
use crate::services::platform::pagination::Page;
use crate::services::platform::storage::MAX_DOCUMENT_BYTES;
use crate::services::technicians::kyc::{
    self as kyc_service, Decision, DocumentView, Files, Overview, SubmissionView,
};
use async_graphql::{Context, Enum, ID, Object, Result, Upload};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum KycDecision {
    Approve,
    Reject,
}

impl From<KycDecision> for Decision {
    fn from(d: KycDecision) -> Self {
        match d {
            KycDecision::Approve => Decision::Approve,
            KycDecision::Reject => Decision::Reject,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "DocumentKind")]
pub enum KycDocumentKind {
    GovernmentId,
    Selfie,
}

/// One stored file of a submission. Only its owner and staff ever receive one.
pub struct KycDocument(pub DocumentView);

#[Object]
impl KycDocument {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::KycDocument, self.0.row.id)
    }
    async fn kind(&self) -> KycDocumentKind {
        self.0.row.kind.into()
    }
    /// The type found in the file's bytes: image/jpeg, image/png or application/pdf.
    async fn content_type(&self) -> &str {
        &self.0.row.content_type
    }
    async fn size_bytes(&self) -> i64 {
        self.0.row.size_bytes
    }
    /// SHA-256 of the bytes, in hex, to check a download against.
    async fn sha256(&self) -> &str {
        &self.0.row.sha256
    }
    /// Where to GET the file, relative to this API's origin; works until `expiresAt` (5 minutes).
    async fn download_url(&self) -> &str {
        &self.0.link.url
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.link.expires_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// A government ID and a selfie sent together for review.
pub struct KycSubmission(pub SubmissionView);

#[Object]
impl KycSubmission {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::KycSubmission, self.0.row.id)
    }
    /// The technician's account.
    async fn technician(&self) -> Option<User> {
        self.0.technician.clone().map(User)
    }
    async fn status(&self) -> KycStatus {
        self.0.row.status.into()
    }
    /// Why the documents were rejected (or a note with an approval).
    async fn feedback(&self) -> Option<&str> {
        self.0.row.feedback.as_deref()
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.reviewed_at
    }
    async fn documents(&self) -> Vec<KycDocument> {
        self.0.documents.iter().cloned().map(KycDocument).collect()
    }
}

/// One change of a technician's KYC status.
pub struct KycEvent(pub kyc_event::Model);

#[Object]
impl KycEvent {
    #[graphql(name = "fromStatus")]
    async fn previous_status(&self) -> Option<KycStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to_status(&self) -> KycStatus {
        self.0.to_status.into()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The signed-in technician's KYC: status, latest submission and history.
pub struct KycOverview(pub Overview);

#[Object]
impl KycOverview {
    async fn status(&self) -> KycStatus {
        self.0.status.into()
    }
    async fn latest_submission(&self) -> Option<KycSubmission> {
        self.0.latest.clone().map(KycSubmission)
    }
    /// Every status change, oldest first.
    async fn history(&self) -> Vec<KycEvent> {
        self.0.history.iter().cloned().map(KycEvent).collect()
    }
}

/// A technician's profile shares its account's UUID, so either of their ids names them.
fn technician_uuid(id: &ID) -> AppResult<uuid::Uuid> {
    match ids::decode_any(id, "technicianId")? {
        (Kind::Technician | Kind::User, uuid) => Ok(uuid),
        _ => Err(AppError::bad_input(
            "technicianId",
            "expected a Technician or User id",
        )),
    }
}

#[derive(Default)]
pub struct KycQuery;

#[Object]
impl KycQuery {
    /// The signed-in technician's KYC status and latest submission.
    async fn my_kyc(&self, ctx: &Context<'_>) -> Result<KycOverview> {
        let viewer = viewer(ctx).await?;
        Ok(KycOverview(
            kyc_service::overview(services(ctx), &viewer).await?,
        ))
    }

    /// Submissions waiting for review, oldest first. ADMIN and SUPPORT.
    async fn kyc_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Counted<KycSubmission>> {
        let viewer = viewer(ctx).await?;
        let page = Page::parse(first, after.as_deref())?;
        let slice = kyc_service::queue(services(ctx), &viewer, page).await?;
        let services = services(ctx).clone();
        let total = TotalCount::new(move || {
            let (services, viewer) = (services.clone(), viewer.clone());
            async move { kyc_service::queue_count(&services, &viewer).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |s| s.row.id,
            KycSubmission,
        ))
    }

    /// One KYC document with a fresh 5-minute download link. Its technician, ADMIN and SUPPORT.
    async fn kyc_document(&self, ctx: &Context<'_>, id: ID) -> Result<KycDocument> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::KycDocument, &id, "id")?;
        Ok(KycDocument(
            kyc_service::document(services(ctx), &viewer, id).await?,
        ))
    }
}

#[derive(Default)]
pub struct KycMutation;

#[Object]
impl KycMutation {
    /// Sends a government ID and a selfie (JPEG, PNG or PDF, at most 5 MB each) for review, as a
    /// multipart request. Technicians only; allowed before the first review and after a rejection.
    async fn submit_kyc(
        &self,
        ctx: &Context<'_>,
        government_id: Upload,
        selfie: Upload,
    ) -> Result<KycSubmission> {
        let viewer = viewer(ctx).await?;
        let files = Files {
            government_id: read_upload(ctx, &government_id, "governmentId", MAX_DOCUMENT_BYTES)
                .await?,
            selfie: read_upload(ctx, &selfie, "selfie", MAX_DOCUMENT_BYTES).await?,
        };
        Ok(KycSubmission(
            kyc_service::submit(services(ctx), &viewer, files).await?,
        ))
    }

    /// Approves or rejects the technician's submission under review; a rejection needs feedback. ADMIN only.
    async fn review_kyc(
        &self,
        ctx: &Context<'_>,
        technician_id: ID,
        decision: KycDecision,
        feedback: Option<String>,
    ) -> Result<KycSubmission> {
        let viewer = viewer(ctx).await?;
        let technician_id = technician_uuid(&technician_id)?;
        let reviewed = kyc_service::review(
            services(ctx),
            &viewer,
            technician_id,
            decision.into(),
            feedback.as_deref(),
        )
        .await?;
        Ok(KycSubmission(reviewed))
    }
}
