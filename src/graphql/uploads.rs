//! Multipart uploads as resolvers read them: bounded, off the async threads, from the file's start.

use crate::error::{AppError, AppResult};
use async_graphql::{Context, Upload};
use std::io::{Read, Seek};

/// Reads an uploaded file, at most one byte past `limit` so the service can tell it is too large.
pub async fn read_upload(
    ctx: &Context<'_>,
    upload: &Upload,
    field: &str,
    limit: usize,
) -> AppResult<Vec<u8>> {
    let value = upload
        .value(ctx)
        .map_err(|_| AppError::bad_input(field, "the file is missing from the request"))?;
    let read = tokio::task::spawn_blocking(move || {
        let mut file = value.content;
        // Two variables may map to one uploaded file and share its cursor; read from the start.
        file.rewind()?;
        let mut bytes = Vec::new();
        file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
        Ok::<_, std::io::Error>(bytes)
    });
    read.await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}
