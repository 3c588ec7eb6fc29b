//! Errors as HTTP answers: a status and a JSON body `{"error": CODE, "message": TEXT}`. Messages
//! say what was wrong with the request; they never carry a PIN, a token or document bytes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The error body of every 4xx and 5xx answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `bad_request`, `forbidden`, `too_large`.
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
    pub fn unsupported_media(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), error = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: self.code.to_string(),
            message: self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        let status = r.status();
        let code = match &r {
            J::MissingJsonContentType(_) => "unsupported_media_type",
            J::JsonSyntaxError(_) => "malformed_json",
            J::JsonDataError(_) => "invalid_json",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            _ => "bad_request",
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_query", r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text())
    }
}

impl From<kyso_archive::ArchiveError> for ApiError {
    fn from(e: kyso_archive::ArchiveError) -> Self {
        use kyso_archive::ArchiveError as A;
        match &e {
            A::Input(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.to_string()),
            A::NoRecord(_) => ApiError::not_found(e.to_string()),
            A::Status { .. } => {
                ApiError::new(StatusCode::CONFLICT, "status_conflict", e.to_string())
            }
            A::NotVerified { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_verified",
                e.to_string(),
            ),
            A::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            }
            A::RequestConflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "request_conflict", e.to_string())
            }
            A::Locked { .. } | A::Db(_) | A::Corrupt(_) | A::Inconsistent(_) | A::Checkpoint(_) => {
                ApiError::internal(format!("archive: {e}"))
            }
        }
    }
}

impl From<kyso_signer::SignError> for ApiError {
    fn from(e: kyso_signer::SignError) -> Self {
        use kyso_signer::SignError as S;
        match &e {
            S::Pdf(_) | S::Input(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cannot_sign",
                e.to_string(),
            ),
            S::Timestamp(_) => ApiError::new(StatusCode::BAD_GATEWAY, "timestamp", e.to_string()),
            S::Token(_) => ApiError::unavailable(format!("token: {e}")),
            S::Encoding(_) | S::TooLarge { .. } | S::Io { .. } => ApiError::internal(e.to_string()),
        }
    }
}

/// A blocking task that panicked or was cancelled.
impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        if e.is_panic() {
            ApiError::internal("the request's work panicked (logged); nothing was changed by it")
        } else {
            ApiError::unavailable("the service is shutting down")
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
