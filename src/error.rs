//! The one application error type and its single mapping to GraphQL errors with `extensions.code`.

use async_graphql::ErrorExtensions;

tokio::task_local! {
    /// The id of the HTTP request being served, so an internal error can name it to the client and the log.
    pub static REQUEST_ID: String;
}

/// Deliberately not `Display`: async-graphql converts any displayable error into a GraphQL error
/// without a code, so keeping `Display` off forces every conversion through the mapping below.
#[derive(Debug)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    BadInput {
        field: String,
        message: String,
    },
    NotFound(String),
    Conflict(String),
    InvalidTransition {
        message: String,
        allowed: Vec<String>,
    },
    RateLimited {
        message: String,
        retry_after_secs: i64,
    },
    /// The database could not be reached in time. Worth retrying (mutations with the same
    /// idempotency key); the cause goes to the log, never to the client.
    Unavailable(anyhow::Error),
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> Self {
        AppError::Unauthenticated("authentication required".into())
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("you are not allowed to do this".into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }

    /// What the client is told. Internal causes are never part of it.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(m) | AppError::Forbidden(m) | AppError::Conflict(m) => {
                m.clone()
            }
            AppError::BadInput { message, .. }
            | AppError::InvalidTransition { message, .. }
            | AppError::RateLimited { message, .. } => message.clone(),
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::Unavailable(_) => "the database is unavailable; try again shortly".into(),
            AppError::Internal(_) => "internal error".into(),
        }
    }

    /// The code clients switch on; one closed set.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::BadInput { .. } => "BAD_USER_INPUT",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Conflict(_) => "CONFLICT",
            AppError::InvalidTransition { .. } => "INVALID_TRANSITION",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// A pure rule's refusal is bad input at the field it names.
impl From<crate::domain::refusal::Refusal> for AppError {
    fn from(refusal: crate::domain::refusal::Refusal) -> Self {
        AppError::bad_input(refusal.field, refusal.message)
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&e) {
            AppError::Unavailable(e.into())
        } else {
            AppError::Internal(e.into())
        }
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        let code = e.code();
        let request_id = || {
            REQUEST_ID
                .try_with(Clone::clone)
                .unwrap_or_else(|_| "-".into())
        };
        let message = match &e {
            AppError::Internal(source) => {
                let request_id = request_id();
                tracing::error!(request_id = %request_id, error = ?source, "internal error");
                format!("internal error (request id {request_id})")
            }
            AppError::Unavailable(source) => {
                let request_id = request_id();
                tracing::warn!(request_id = %request_id, error = %source, "database unavailable");
                format!("{} (request id {request_id})", e.message())
            }
            other => other.message(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            match &e {
                AppError::BadInput { field, .. } => ext.set("field", field.as_str()),
                AppError::InvalidTransition { allowed, .. } => ext.set("allowed", allowed.clone()),
                AppError::RateLimited {
                    retry_after_secs, ..
                } => ext.set("retryAfterSeconds", *retry_after_secs),
                AppError::Internal(_) | AppError::Unavailable(_) => {
                    if let Ok(id) = REQUEST_ID.try_with(Clone::clone) {
                        ext.set("requestId", id);
                    }
                }
                _ => {}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extensions(e: AppError) -> (String, serde_json::Value) {
        let gql: async_graphql::Error = e.into();
        let value = serde_json::to_value(gql.extensions.unwrap()).unwrap();
        (gql.message, value)
    }

    #[test]
    fn bad_input_names_its_field() {
        let (message, ext) = extensions(AppError::bad_input("email", "not an email address"));
        assert_eq!(message, "not an email address");
        assert_eq!(ext["code"], "BAD_USER_INPUT");
        assert_eq!(ext["field"], "email");
    }

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let (message, ext) = extensions(AppError::internal(anyhow::anyhow!(
            "connection to 10.0.0.5:5432 refused"
        )));
        assert!(message.starts_with("internal error"));
        assert!(!message.contains("10.0.0.5"));
        assert_eq!(ext["code"], "INTERNAL_SERVER_ERROR");
    }

    #[tokio::test]
    async fn internal_errors_carry_the_request_id() {
        let (message, ext) = REQUEST_ID
            .scope("req-42".into(), async {
                extensions(AppError::internal(anyhow::anyhow!("boom")))
            })
            .await;
        assert_eq!(message, "internal error (request id req-42)");
        assert_eq!(ext["requestId"], "req-42");
    }

    #[test]
    fn an_unreachable_database_is_service_unavailable_without_its_address() {
        let (message, ext) = extensions(AppError::from(sea_orm::DbErr::Conn(
            sea_orm::RuntimeErr::Internal("connection to 10.0.0.5:5432 refused".into()),
        )));
        assert!(
            message.starts_with("the database is unavailable"),
            "{message}"
        );
        assert!(!message.contains("10.0.0.5"));
        assert_eq!(ext["code"], "SERVICE_UNAVAILABLE");
    }

    #[test]
    fn invalid_transition_lists_allowed_targets() {
        let (_, ext) = extensions(AppError::InvalidTransition {
            message: "no".into(),
            allowed: vec!["ACCEPTED".into()],
        });
        assert_eq!(ext["code"], "INVALID_TRANSITION");
        assert_eq!(ext["allowed"][0], "ACCEPTED");
    }
}
