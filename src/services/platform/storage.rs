//! Stored files: the object store (a local directory or an S3-compatible bucket), document checks by
//! content, hashing, and the short-lived signed links fundi serves downloads through.

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::gateways::http::hmac_sha256;
use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Largest KYC document accepted, per file.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// How long a signed download link works.
pub const DOWNLOAD_LINK_SECS: i64 = 300;
/// Largest chat image accepted.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// What a signed link opens. Each kind signs under its own domain, so a link for one kind of file
/// never opens another, and signatures stay apart from every other use of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    KycDocument,
    ChatAttachment,
    /// An invoice or credit note rendered as PDF, at `/invoices/{id}.pdf`.
    InvoicePdf,
}

impl LinkKind {
    fn domain(self) -> &'static str {
        match self {
            LinkKind::KycDocument => "kyc-document-download",
            LinkKind::ChatAttachment => "chat-attachment-download",
            LinkKind::InvoicePdf => "invoice-pdf-download",
        }
    }

    fn path(self) -> &'static str {
        match self {
            LinkKind::KycDocument => "/files/kyc",
            LinkKind::ChatAttachment => "/files/chat",
            LinkKind::InvoicePdf => "/invoices",
        }
    }

    /// What follows the id in the path, so a browser saving the file knows its type.
    fn suffix(self) -> &'static str {
        match self {
            LinkKind::InvoicePdf => ".pdf",
            LinkKind::KycDocument | LinkKind::ChatAttachment => "",
        }
    }
}

/// The object store configured by the settings: S3 when FUNDI_S3_BUCKET is set, otherwise
/// `<data dir>/uploads` on local disk.
pub fn build(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(s3) = &config.s3 {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region);
        if let Some(endpoint) = &s3.endpoint {
            // Self-hosted stores (MinIO and the like) often listen on plain HTTP inside a cluster.
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret.expose_secret());
        }
        return Ok(Arc::new(builder.build().context("FUNDI_S3_BUCKET")?));
    }
    let root = config.data_dir.join("uploads");
    std::fs::create_dir_all(&root)
        .with_context(|| format!("FUNDI_DATA_DIR: cannot create {}", root.display()))?;
    let local = LocalFileSystem::new_with_prefix(&root)
        .with_context(|| format!("FUNDI_DATA_DIR: cannot use {}", root.display()))?
        .with_automatic_cleanup(true);
    Ok(Arc::new(local))
}

/// The file types a KYC document may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    Jpeg,
    Png,
    Pdf,
}

impl DocumentType {
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentType::Jpeg => "image/jpeg",
            DocumentType::Png => "image/png",
            DocumentType::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            DocumentType::Jpeg => "jpg",
            DocumentType::Png => "png",
            DocumentType::Pdf => "pdf",
        }
    }

    pub fn from_content_type(content_type: &str) -> Option<DocumentType> {
        [DocumentType::Jpeg, DocumentType::Png, DocumentType::Pdf]
            .into_iter()
            .find(|t| t.content_type() == content_type)
    }
}

/// What the bytes are, judged by their signature alone: the file's name and declared type are
/// chosen by the client and prove nothing.
pub fn sniff(bytes: &[u8]) -> Result<DocumentType, String> {
    let found = infer::get(bytes);
    match found.map(|t| t.mime_type()) {
        Some("image/jpeg") => Ok(DocumentType::Jpeg),
        Some("image/png") => Ok(DocumentType::Png),
        // infer accepts "%PDF" anywhere in the first KiB; a real PDF starts with it, and a file that
        // only hides it further in (say, after some HTML) is not one.
        Some("application/pdf") if bytes.starts_with(b"%PDF-") => Ok(DocumentType::Pdf),
        Some(other) => Err(other.to_string()),
        None => Err("unrecognised data".to_string()),
    }
}

/// A chat image's type, judged by content: JPEG, PNG or WebP.
pub fn check_image(field: &str, bytes: &[u8]) -> AppResult<&'static str> {
    if bytes.is_empty() {
        return Err(AppError::bad_input(field, "the image is empty"));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(AppError::bad_input(
            field,
            format!(
                "the image is larger than {} MB",
                MAX_IMAGE_BYTES / (1024 * 1024)
            ),
        ));
    }
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(found @ ("image/jpeg" | "image/png" | "image/webp")) => Ok(found),
        Some(other) => Err(AppError::bad_input(
            field,
            format!("the image must be a JPEG, PNG or WebP; its content is {other}"),
        )),
        None => Err(AppError::bad_input(
            field,
            "the image must be a JPEG, PNG or WebP; its content is unrecognised data",
        )),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A document that passed the checks, ready to store.
#[derive(Debug)]
pub struct CheckedDocument {
    pub bytes: Vec<u8>,
    pub doc_type: DocumentType,
    pub sha256: String,
}

impl CheckedDocument {
    pub fn size(&self) -> i64 {
        self.bytes.len() as i64
    }
}

/// Checks size and type by content; a refusal names the GraphQL argument it concerns.
pub fn check_document(field: &str, bytes: Vec<u8>) -> AppResult<CheckedDocument> {
    if bytes.is_empty() {
        return Err(AppError::bad_input(field, "the file is empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(AppError::bad_input(
            field,
            format!(
                "the file is larger than {} MB",
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let doc_type = sniff(&bytes).map_err(|found| {
        AppError::bad_input(
            field,
            format!("the file must be a JPEG, PNG or PDF; its content is {found}"),
        )
    })?;
    let sha256 = sha256_hex(&bytes);
    Ok(CheckedDocument {
        bytes,
        doc_type,
        sha256,
    })
}

/// An open download: what to tell the client and the bytes to stream.
pub struct Download {
    pub content_type: String,
    pub size: u64,
    pub filename: String,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// Opens a stored file for streaming; a file that is gone is NOT_FOUND, named as `what`.
pub async fn open(
    store: &dyn ObjectStore,
    key: &str,
    content_type: String,
    filename: String,
    what: &str,
) -> AppResult<Download> {
    let stored = match store.get(&object_store::path::Path::from(key)).await {
        Ok(stored) => stored,
        Err(object_store::Error::NotFound { .. }) => return Err(AppError::NotFound(what.into())),
        Err(e) => return Err(AppError::internal(e)),
    };
    Ok(Download {
        content_type,
        filename,
        size: stored.meta.size,
        body: stored.into_stream().map_err(std::io::Error::other).boxed(),
    })
}

/// A link to download one document, valid until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// Relative to the API's origin, so it holds behind any proxy or host name.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

fn signature(key: &[u8], kind: LinkKind, file_id: Uuid, expires: i64) -> Vec<u8> {
    hmac_sha256(
        key,
        &[format!("{}|{file_id}|{expires}", kind.domain()).as_bytes()],
    )
}

pub fn download_link(key: &[u8], kind: LinkKind, file_id: Uuid, now: DateTime<Utc>) -> SignedLink {
    download_link_for(key, kind, file_id, now, DOWNLOAD_LINK_SECS)
}

/// A link like [`download_link`]'s that works for `lifetime_secs`, for links that travel by mail.
pub fn download_link_for(
    key: &[u8],
    kind: LinkKind,
    file_id: Uuid,
    now: DateTime<Utc>,
    lifetime_secs: i64,
) -> SignedLink {
    let expires = now.timestamp() + lifetime_secs;
    let sig = hex::encode(signature(key, kind, file_id, expires));
    SignedLink {
        url: format!(
            "{}/{file_id}{}?expires={expires}&sig={sig}",
            kind.path(),
            kind.suffix()
        ),
        expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(now),
    }
}

/// Whether a link's signature is ours and it has not expired. The comparison takes the same time
/// however many bytes match, so a forger learns nothing from timing.
pub fn link_is_valid(
    key: &[u8],
    kind: LinkKind,
    file_id: Uuid,
    expires: i64,
    sig: &str,
    now: DateTime<Utc>,
) -> bool {
    let Ok(given) = hex::decode(sig) else {
        return false;
    };
    let expected = signature(key, kind, file_id, expires);
    let genuine: bool = expected.ct_eq(&given).into();
    genuine && now.timestamp() <= expires
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
    ];
    const PDF: &[u8] = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n%%EOF\n";

    #[test]
    fn types_are_judged_by_content() {
        assert_eq!(sniff(JPEG), Ok(DocumentType::Jpeg));
        assert_eq!(sniff(PNG), Ok(DocumentType::Png));
        assert_eq!(sniff(PDF), Ok(DocumentType::Pdf));
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), Err("image/gif".into()));
        assert!(sniff(b"just some text that claims to be a photo").is_err());
        assert!(sniff(b"<html><body>%PDF-1.4</body></html>").is_err());
    }

    #[test]
    fn documents_are_checked_for_size_and_type_naming_the_field() {
        let ok = check_document("selfie", JPEG.to_vec()).unwrap();
        assert_eq!(ok.doc_type, DocumentType::Jpeg);
        assert_eq!(ok.sha256, sha256_hex(JPEG));
        assert_eq!(ok.size(), JPEG.len() as i64);
        let mut big = JPEG.to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, 0);
        let at_limit = check_document("selfie", big[..MAX_DOCUMENT_BYTES].to_vec());
        assert!(at_limit.is_ok());
        for (bytes, field) in [
            (big, "governmentId"),
            (Vec::new(), "selfie"),
            (b"GIF89a....".to_vec(), "selfie"),
        ] {
            match check_document(field, bytes) {
                Err(AppError::BadInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected BAD_USER_INPUT, got {other:?}"),
            }
        }
    }

    #[test]
    fn sha256_is_hex_of_the_bytes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn parts(url: &str) -> (Uuid, i64, String) {
        let (path, query) = url.split_once('?').unwrap();
        let id = Uuid::parse_str(path.strip_prefix("/files/kyc/").unwrap()).unwrap();
        let mut expires = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=').unwrap() {
                ("expires", v) => expires = v.parse().unwrap(),
                ("sig", v) => sig = v.to_string(),
                _ => {}
            }
        }
        (id, expires, sig)
    }

    #[test]
    fn signed_links_expire_and_resist_tampering() {
        let key = b"0123456789abcdef0123456789abcdef";
        let now = Utc::now();
        let doc = Uuid::now_v7();
        let link = download_link(key, LinkKind::KycDocument, doc, now);
        let (id, expires, sig) = parts(&link.url);
        assert_eq!(id, doc);
        assert_eq!(link.expires_at.timestamp(), expires);
        assert!(link_is_valid(
            key,
            LinkKind::KycDocument,
            doc,
            expires,
            &sig,
            now
        ));
        assert!(link_is_valid(
            key,
            LinkKind::KycDocument,
            doc,
            expires,
            &sig,
            now + chrono::Duration::seconds(DOWNLOAD_LINK_SECS - 1)
        ));
        let later = now + chrono::Duration::seconds(DOWNLOAD_LINK_SECS + 1);
        assert!(!link_is_valid(
            key,
            LinkKind::KycDocument,
            doc,
            expires,
            &sig,
            later
        ));
        assert!(!link_is_valid(
            key,
            LinkKind::KycDocument,
            doc,
            expires + 3600,
            &sig,
            now
        ));
        assert!(!link_is_valid(
            key,
            LinkKind::KycDocument,
            Uuid::now_v7(),
            expires,
            &sig,
            now
        ));
        assert!(!link_is_valid(
            b"another key entirely, 32 bytes!!",
            LinkKind::KycDocument,
            doc,
            expires,
            &sig,
            now
        ));
        assert!(!link_is_valid(
            key,
            LinkKind::KycDocument,
            doc,
            expires,
            "zz",
            now
        ));
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        assert!(!link_is_valid(
            key,
            LinkKind::KycDocument,
            doc,
            expires,
            std::str::from_utf8(&flipped).unwrap(),
            now
        ));
    }
}
