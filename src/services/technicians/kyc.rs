//! KYC (identity checks of technicians): submitting a government ID and a selfie, the review queue,
//! decisions, and access to the stored documents through signed links.
//!
//! Who may do what: the technician submits and reads their own documents; ADMIN reads the queue and
//! documents and decides; SUPPORT may read the queue and documents (to answer a technician's
//! questions) but not decide, so every approval is an administrator's.

use crate::db::begin_write;
use crate::db::entities::{kyc_document, kyc_event, kyc_submission, user};
use crate::db::technicians::{kyc as db_kyc, technician as db_technician};
use crate::domain::account::Role;
use crate::domain::technician::{DocumentKind, KycStatus};
use crate::error::{AppError, AppResult};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::platform::pagination::{Page, Slice};
use crate::services::platform::storage::{self, CheckedDocument, SignedLink};
use crate::services::{Effects, Services, Viewer, matching::search};
use chrono::{DateTime, Utc};
use object_store::path::Path as StorePath;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// Longest feedback an administrator may give, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// The state a decision leads to, and the feedback to keep: a rejection must say why.
pub fn decide(
    decision: Decision,
    feedback: Option<&str>,
) -> AppResult<(KycStatus, Option<String>)> {
    let feedback = feedback.map(str::trim).filter(|f| !f.is_empty());
    if let Some(text) = feedback
        && text.chars().count() > MAX_FEEDBACK_CHARS
    {
        return Err(AppError::bad_input(
            "feedback",
            format!("feedback may be at most {MAX_FEEDBACK_CHARS} characters"),
        ));
    }
    match (decision, feedback) {
        (Decision::Approve, feedback) => Ok((KycStatus::Approved, feedback.map(Into::into))),
        (Decision::Reject, Some(text)) => Ok((KycStatus::Rejected, Some(text.into()))),
        (Decision::Reject, None) => Err(AppError::bad_input(
            "feedback",
            "say why the documents are rejected, so the technician can fix them",
        )),
    }
}

/// The two files of a submission, as received.
pub struct Files {
    pub government_id: Vec<u8>,
    pub selfie: Vec<u8>,
}

/// A stored document, with a fresh download link for a viewer already allowed to see it.
#[derive(Debug, Clone)]
pub struct DocumentView {
    pub row: kyc_document::Model,
    pub link: SignedLink,
}

/// A submission with its documents and the technician's account.
#[derive(Debug, Clone)]
pub struct SubmissionView {
    pub row: kyc_submission::Model,
    pub documents: Vec<DocumentView>,
    pub technician: Option<user::Model>,
}

/// A technician's own view: the current status, the latest submission and every change.
pub struct Overview {
    pub status: KycStatus,
    pub latest: Option<SubmissionView>,
    pub history: Vec<kyc_event::Model>,
}

/// Submits both documents for review. Both are checked before anything is stored, and stored files
/// are removed again if the database refuses the submission.
pub async fn submit(
    services: &Services,
    viewer: &Viewer,
    files: Files,
) -> AppResult<SubmissionView> {
    viewer.require_role(&[Role::Technician])?;
    let government_id = storage::check_document("governmentId", files.government_id)?;
    let selfie = storage::check_document("selfie", files.selfie)?;
    let profile = db_technician::profile_by_id(&services.db, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("technician profile".into()))?;
    if !profile.kyc_status.may_submit() {
        return Err(conflict_for(profile.kyc_status));
    }
    let now = services.clock.now();
    let submission_id = Uuid::now_v7();
    let documents: Vec<(kyc_document::Model, CheckedDocument)> = [
        (DocumentKind::GovernmentId, government_id),
        (DocumentKind::Selfie, selfie),
    ]
    .into_iter()
    .map(|(kind, checked)| {
        let row = document_row(viewer.user_id, submission_id, kind, &checked, now);
        (row, checked)
    })
    .collect();
    let keys: Vec<StorePath> = documents
        .iter()
        .map(|(row, _)| StorePath::from(row.storage_key.as_str()))
        .collect();
    // Files go to the store before the transaction, so a slow bucket never holds the write lock.
    let mut rows = Vec::new();
    for ((row, checked), key) in documents.into_iter().zip(&keys) {
        rows.push(row);
        if let Err(e) = services.storage.put(key, checked.bytes.into()).await {
            discard(services, &keys).await;
            return Err(AppError::internal(e));
        }
    }
    let from = profile.kyc_status;
    let submission = match record_submission(services, viewer, from, submission_id, rows, now).await
    {
        Ok(submission) => submission,
        Err(e) => {
            discard(services, &keys).await;
            return Err(e);
        }
    };
    // Committed: from here on a failure must not touch the stored files.
    let mut views = complete(services, vec![submission], now).await?;
    Ok(views.remove(0))
}

fn document_row(
    technician_id: Uuid,
    submission_id: Uuid,
    kind: DocumentKind,
    checked: &CheckedDocument,
    now: DateTime<Utc>,
) -> kyc_document::Model {
    let id = Uuid::now_v7();
    kyc_document::Model {
        id,
        technician_id,
        submission_id,
        kind,
        storage_key: format!("kyc/{technician_id}/{id}"),
        content_type: checked.doc_type.content_type().into(),
        size_bytes: checked.size(),
        sha256: checked.sha256.clone(),
        created_at: now,
        updated_at: now,
    }
}

/// Best effort: a file left behind is only wasted space, so a failure here is logged, not raised.
async fn discard(services: &Services, keys: &[StorePath]) {
    for key in keys {
        match services.storage.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(key = %key, error = %e, "stored KYC file not removed"),
        }
    }
}

async fn record_submission(
    services: &Services,
    viewer: &Viewer,
    from: KycStatus,
    submission_id: Uuid,
    documents: Vec<kyc_document::Model>,
    now: DateTime<Utc>,
) -> AppResult<kyc_submission::Model> {
    let txn = begin_write(&services.db).await?;
    // Conditional on the status just read: of two submissions racing, exactly one moves it.
    let moved =
        db_kyc::set_status_if(&txn, viewer.user_id, from, KycStatus::UnderReview, now).await?;
    if moved != 1 {
        return Err(AppError::Conflict(
            "the KYC status changed meanwhile; reload and try again".into(),
        ));
    }
    let submission = db_kyc::insert_submission(
        &txn,
        kyc_submission::Model {
            id: submission_id,
            technician_id: viewer.user_id,
            status: KycStatus::UnderReview,
            feedback: None,
            reviewed_by: None,
            reviewed_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    for row in documents {
        db_kyc::insert_document(&txn, row).await?;
    }
    let mut effects = Effects::default();
    record_event(
        &txn,
        viewer.user_id,
        from,
        KycStatus::UnderReview,
        viewer.user_id,
        None,
        now,
    )
    .await?;
    let note = NewNotification {
        data: Some(serde_json::json!({ "kycStatus": KycStatus::UnderReview.as_str() })),
        ..NewNotification::new(
            viewer.user_id,
            Kind::KycSubmitted,
            "Documents received",
            "Your ID and selfie are with our team for review. We will let you know the outcome.",
        )
    };
    in_app::create(&txn, &mut effects, now, note).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(submission)
}

async fn record_event(
    txn: &impl ConnectionTrait,
    technician_id: Uuid,
    from: KycStatus,
    to: KycStatus,
    actor: Uuid,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = kyc_event::Model {
        id: Uuid::now_v7(),
        technician_id,
        from_status: Some(from),
        to_status: to,
        actor_id: Some(actor),
        note,
        created_at: now,
        updated_at: now,
    };
    db_kyc::insert_event(txn, row).await?;
    Ok(())
}

fn conflict_for(status: KycStatus) -> AppError {
    AppError::Conflict(match status {
        KycStatus::UnderReview => "your documents are already under review".into(),
        KycStatus::Approved => "your identity is already verified".into(),
        other => format!("KYC cannot be submitted while {}", other.as_str()),
    })
}

/// Approves or rejects the technician's submission under review. Only ADMIN decides.
pub async fn review(
    services: &Services,
    viewer: &Viewer,
    technician_id: Uuid,
    decision: Decision,
    feedback: Option<&str>,
) -> AppResult<SubmissionView> {
    viewer.require_role(&[Role::Admin])?;
    let (to, feedback) = decide(decision, feedback)?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    db_technician::profile_by_id(&txn, technician_id)
        .await?
        .ok_or_else(|| AppError::NotFound("technician".into()))?;
    let latest = db_kyc::latest_submission_of(&txn, technician_id)
        .await?
        .filter(|s| s.status == KycStatus::UnderReview)
        .ok_or_else(|| {
            AppError::Conflict("this technician has no KYC submission under review".into())
        })?;
    // Conditional on the status, so of two administrators deciding at once exactly one succeeds.
    let decision_row = db_kyc::DecisionRow {
        status: to,
        feedback: feedback.clone(),
        reviewed_by: viewer.user_id,
    };
    let decided =
        db_kyc::decide_if(&txn, latest.id, KycStatus::UnderReview, decision_row, now).await?;
    let profile_moved =
        db_kyc::set_status_if(&txn, technician_id, KycStatus::UnderReview, to, now).await?;
    if decided != 1 || profile_moved != 1 {
        return Err(AppError::Conflict(
            "this submission was already decided".into(),
        ));
    }
    record_event(
        &txn,
        technician_id,
        KycStatus::UnderReview,
        to,
        viewer.user_id,
        feedback.clone(),
        now,
    )
    .await?;
    let mut effects = Effects::default();
    let note = match decision {
        Decision::Approve => NewNotification::new(
            technician_id,
            Kind::KycApproved,
            "Identity verified",
            "Your documents were approved. Customers can now be matched with you.",
        ),
        Decision::Reject => NewNotification::new(
            technician_id,
            Kind::KycRejected,
            "Documents not accepted",
            format!(
                "Please submit your documents again. The reviewer's note: {}",
                feedback.as_deref().unwrap_or_default()
            ),
        ),
    };
    let note = NewNotification {
        data: Some(serde_json::json!({ "kycStatus": to.as_str() })),
        ..note
    };
    in_app::create(&txn, &mut effects, now, note).await?;
    // Only approved technicians are matched, so every replica's matching directory must hear of it.
    search::directory_changed(&txn, &mut effects, technician_id).await?;
    let row = db_kyc::submission_by_id(&txn, latest.id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("decided submission vanished")))?;
    txn.commit().await?;
    services.after_commit(effects);
    if let Err(e) = search::refresh_local(services, technician_id).await {
        // The directory event above still reaches this replica through the bus.
        tracing::warn!(error = ?e, "matching directory not refreshed after a KYC decision");
    }
    let mut views = complete(services, vec![row], now).await?;
    Ok(views.remove(0))
}

/// Submissions waiting for a decision, oldest first (UUIDv7 ids sort by creation time).
pub async fn queue(
    services: &Services,
    viewer: &Viewer,
    page: Page,
) -> AppResult<Slice<SubmissionView>> {
    viewer.require_role(&[Role::Admin, Role::Support])?;
    let rows = db_kyc::with_status(
        &services.db,
        KycStatus::UnderReview,
        page.after,
        page.limit + 1,
    )
    .await?;
    let slice = Slice::from_probe(rows, page.limit);
    let items = complete(services, slice.items, services.clock.now()).await?;
    Ok(Slice {
        items,
        has_next: slice.has_next,
    })
}

/// How many submissions wait for review, in one statement. ADMIN and SUPPORT.
pub async fn queue_count(services: &Services, viewer: &Viewer) -> AppResult<u64> {
    viewer.require_role(&[Role::Admin, Role::Support])?;
    Ok(db_kyc::count_with_status(&services.db, KycStatus::UnderReview).await?)
}

/// The technician's own KYC state.
pub async fn overview(services: &Services, viewer: &Viewer) -> AppResult<Overview> {
    viewer.require_role(&[Role::Technician])?;
    let profile = db_technician::profile_by_id(&services.db, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("technician profile".into()))?;
    let latest = db_kyc::latest_submission_of(&services.db, viewer.user_id).await?;
    let history = db_kyc::events_of(&services.db, viewer.user_id).await?;
    let latest = complete(services, latest.into_iter().collect(), services.clock.now())
        .await?
        .pop();
    Ok(Overview {
        status: profile.kyc_status,
        latest,
        history,
    })
}

/// Owners and staff (ADMIN, SUPPORT) may see a technician's KYC documents; nobody else.
fn may_see(viewer: &Viewer, technician_id: Uuid) -> bool {
    viewer.user_id == technician_id || viewer.is_staff()
}

/// One document with a fresh download link; FORBIDDEN for anyone but its owner and staff.
pub async fn document(services: &Services, viewer: &Viewer, id: Uuid) -> AppResult<DocumentView> {
    let row = db_kyc::document_by_id(&services.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("KYC document".into()))?;
    if !may_see(viewer, row.technician_id) {
        return Err(AppError::forbidden());
    }
    Ok(with_link(services, row, services.clock.now()))
}

/// For `node(id)`: the document if the viewer may see it, otherwise nothing.
pub async fn find_document(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<DocumentView>> {
    match document(services, viewer, id).await {
        Ok(view) => Ok(Some(view)),
        Err(AppError::NotFound(_) | AppError::Forbidden(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// For `node(id)`: the submission if the viewer may see it, otherwise nothing.
pub async fn find_submission(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<SubmissionView>> {
    let Some(row) = db_kyc::submission_by_id(&services.db, id)
        .await?
        .filter(|s| may_see(viewer, s.technician_id))
    else {
        return Ok(None);
    };
    Ok(complete(services, vec![row], services.clock.now())
        .await?
        .pop())
}

fn with_link(services: &Services, row: kyc_document::Model, now: DateTime<Utc>) -> DocumentView {
    let link = storage::download_link(
        services.config.jwt_secret_bytes(),
        storage::LinkKind::KycDocument,
        row.id,
        now,
    );
    DocumentView { row, link }
}

/// Adds documents and accounts to submissions in two queries, however many submissions there are.
async fn complete(
    services: &Services,
    rows: Vec<kyc_submission::Model>,
    now: DateTime<Utc>,
) -> AppResult<Vec<SubmissionView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let technician_ids: Vec<Uuid> = rows.iter().map(|r| r.technician_id).collect();
    let mut documents: HashMap<Uuid, Vec<DocumentView>> = HashMap::new();
    for doc in db_kyc::documents_of(&services.db, ids).await? {
        documents
            .entry(doc.submission_id)
            .or_default()
            .push(with_link(services, doc, now));
    }
    let accounts: HashMap<Uuid, user::Model> =
        crate::db::accounts::account::users_by_ids(&services.db, technician_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
    Ok(rows
        .into_iter()
        .map(|row| SubmissionView {
            documents: documents.remove(&row.id).unwrap_or_default(),
            technician: accounts.get(&row.technician_id).cloned(),
            row,
        })
        .collect())
}

/// Opens a document for a signed link. The link is the permission: a bad signature or an expired
/// link is FORBIDDEN, checked against the service clock.
pub async fn open_download(
    services: &Services,
    id: Uuid,
    expires: i64,
    sig: &str,
) -> AppResult<storage::Download> {
    let now = services.clock.now();
    if !storage::link_is_valid(
        services.config.jwt_secret_bytes(),
        storage::LinkKind::KycDocument,
        id,
        expires,
        sig,
        now,
    ) {
        return Err(AppError::Forbidden(
            "this download link is invalid or has expired".into(),
        ));
    }
    let row = db_kyc::document_by_id(&services.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("KYC document".into()))?;
    let extension = storage::DocumentType::from_content_type(&row.content_type)
        .map(|t| t.extension())
        .unwrap_or("bin");
    let stem = row.kind.file_stem();
    storage::open(
        services.storage.as_ref(),
        &row.storage_key,
        row.content_type,
        format!("{stem}.{extension}"),
        "KYC document",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_needs_feedback_and_an_approval_does_not() {
        assert_eq!(
            decide(Decision::Approve, None).unwrap(),
            (KycStatus::Approved, None)
        );
        assert_eq!(
            decide(Decision::Reject, Some("  photo is blurred ")).unwrap(),
            (KycStatus::Rejected, Some("photo is blurred".into()))
        );
        for feedback in [None, Some(""), Some("   ")] {
            assert!(matches!(
                decide(Decision::Reject, feedback),
                Err(AppError::BadInput { field, .. }) if field == "feedback"
            ));
        }
        let long = "x".repeat(MAX_FEEDBACK_CHARS + 1);
        assert!(decide(Decision::Approve, Some(&long)).is_err());
    }
}
