//! Errors as HTTP answers: a status and a JSON body `{"error": CODE, "message": TEXT}`. Every
//! code has one status ([`Code`]); docs/api.md lists the same codes (a test checks it). Messages
//! say what was wrong with the request; they never carry a PIN, a token or document bytes.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The machine-readable error codes, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// 400: the request is wrong (a field, a value, a header).
    BadRequest,
    /// 400: the query string does not parse.
    BadQuery,
    /// 400: a path parameter does not parse.
    BadPath,
    /// 400: the body is not JSON.
    MalformedJson,
    /// 401: no credential, or one that is not accepted.
    Unauthenticated,
    /// 403: the credential does not allow this.
    Forbidden,
    /// 404
    NotFound,
    /// 405: the route does not take this method (`Allow` says which it takes).
    MethodNotAllowed,
    /// 408: the request did not arrive within the deadline.
    Timeout,
    /// 409: the record's status cannot change so (a revoked record).
    StatusConflict,
    /// 409: the `request_id` was used for another request.
    RequestConflict,
    /// 409: the export job is not done (no package yet), or running (not deleted).
    ExportNotReady,
    /// 413
    TooLarge,
    /// 415
    UnsupportedMediaType,
    /// 422: valid JSON, wrong fields or values.
    InvalidJson,
    /// 422: the document's signatures do not pass and it is not stored.
    NotVerified,
    /// 422: the service cannot sign this (document, certificate or signature).
    CannotSign,
    /// 422: the validator failed on the document.
    Unreadable,
    /// 422: the validation (or a remote `prepare`'s reading of its document) ran past
    /// `limits.validation_secs` and was stopped: the document was not judged (nor stored, nor
    /// prepared).
    TooSlow,
    /// 422: the validation (or a remote `prepare`'s reading of its document) held more memory
    /// than `limits.validation_memory_mib` and was stopped: the document was not judged (nor
    /// stored, nor prepared).
    TooMuchMemory,
    /// 422: this status change is not allowed for this record.
    StatusRefused,
    /// 429: too many requests (`Retry-After`).
    RateLimited,
    /// 429: too many requests, validations or bytes in flight for this client (`Retry-After`).
    TooManyInFlight,
    /// 429: too many prepared remote signatures, or bytes of them, for this user (`Retry-After`).
    TooManyPending,
    /// 429: the user holds as many export jobs as `export.jobs_per_user`.
    TooManyExports,
    /// 416: the `Range` is outside the package.
    RangeNotSatisfiable,
    /// 500
    Internal,
    /// 502: the time-stamping authority failed.
    Timestamp,
    /// 503: the service is busy or stopping (`Retry-After`).
    Unavailable,
}

impl Code {
    /// Every code (docs/api.md lists them; a test checks it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [Code; 29] = [
        Code::BadRequest,
        Code::BadQuery,
        Code::BadPath,
        Code::MalformedJson,
        Code::Unauthenticated,
        Code::Forbidden,
        Code::NotFound,
        Code::MethodNotAllowed,
        Code::Timeout,
        Code::StatusConflict,
        Code::RequestConflict,
        Code::ExportNotReady,
        Code::TooLarge,
        Code::UnsupportedMediaType,
        Code::InvalidJson,
        Code::NotVerified,
        Code::CannotSign,
        Code::Unreadable,
        Code::TooSlow,
        Code::TooMuchMemory,
        Code::StatusRefused,
        Code::RateLimited,
        Code::TooManyInFlight,
        Code::TooManyPending,
        Code::TooManyExports,
        Code::RangeNotSatisfiable,
        Code::Internal,
        Code::Timestamp,
        Code::Unavailable,
    ];

    pub fn status(self) -> StatusCode {
        use Code::*;
        match self {
            BadRequest | BadQuery | BadPath | MalformedJson => StatusCode::BAD_REQUEST,
            Unauthenticated => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Timeout => StatusCode::REQUEST_TIMEOUT,
            StatusConflict | RequestConflict | ExportNotReady => StatusCode::CONFLICT,
            TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InvalidJson | NotVerified | CannotSign | Unreadable | TooSlow | TooMuchMemory
            | StatusRefused => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited | TooManyInFlight | TooManyPending | TooManyExports => {
                StatusCode::TOO_MANY_REQUESTS
            }
            RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Timestamp => StatusCode::BAD_GATEWAY,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            BadRequest => "bad_request",
            BadQuery => "bad_query",
            BadPath => "bad_path",
            MalformedJson => "malformed_json",
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            Timeout => "timeout",
            StatusConflict => "status_conflict",
            RequestConflict => "request_conflict",
            ExportNotReady => "export_not_ready",
            TooLarge => "too_large",
            UnsupportedMediaType => "unsupported_media_type",
            InvalidJson => "invalid_json",
            NotVerified => "not_verified",
            CannotSign => "cannot_sign",
            Unreadable => "unreadable",
            TooSlow => "too_slow",
            TooMuchMemory => "too_much_memory",
            StatusRefused => "status_refused",
            RateLimited => "rate_limited",
            TooManyInFlight => "too_many_in_flight",
            TooManyPending => "too_many_pending",
            TooManyExports => "too_many_exports",
            RangeNotSatisfiable => "range_not_satisfiable",
            Internal => "internal",
            Timestamp => "timestamp",
            Unavailable => "unavailable",
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
}

/// The error body of every 4xx and 5xx answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code; each has one HTTP status.
    pub error: Code,
    /// What was wrong, for a person.
    pub message: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// Tell the client when to try again (`Retry-After`, seconds, at least 1).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::new(Code::BadRequest, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(Code::InvalidJson, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(Code::Forbidden, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(Code::NotFound, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(Code::Internal, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(Code::Unavailable, message).retry_after(1)
    }
    pub fn unsupported_media(message: impl Into<String>) -> Self {
        ApiError::new(Code::UnsupportedMediaType, message)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError::new(Code::TooLarge, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = self.code.as_str(), message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: self.code,
            message: self.message,
        };
        let mut r = (status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        let code = match &r {
            J::MissingJsonContentType(_) => Code::UnsupportedMediaType,
            J::JsonSyntaxError(_) => Code::MalformedJson,
            J::JsonDataError(_) => Code::InvalidJson,
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Code::TooLarge,
            _ => Code::BadRequest,
        };
        ApiError::new(code, r.body_text())
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Code::TooLarge
        } else {
            Code::BadRequest
        };
        ApiError::new(code, r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::new(Code::BadQuery, r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::new(Code::BadPath, r.body_text())
    }
}

impl From<kyso_archive::ArchiveError> for ApiError {
    fn from(e: kyso_archive::ArchiveError) -> Self {
        use kyso_archive::ArchiveError as A;
        match &e {
            A::Input(_) => ApiError::bad(e.to_string()),
            A::NoRecord(_) => ApiError::not_found(e.to_string()),
            A::Status { .. } => ApiError::new(Code::StatusConflict, e.to_string()),
            A::StatusRefused { .. } => ApiError::new(Code::StatusRefused, e.to_string()),
            A::NotYours(_) => ApiError::forbidden(e.to_string()),
            A::NotVerified { .. } => ApiError::new(Code::NotVerified, e.to_string()),
            A::TooLarge { .. } => ApiError::new(Code::TooLarge, e.to_string()),
            A::RequestConflict { .. } => ApiError::new(Code::RequestConflict, e.to_string()),
            // RocksDB's messages, and the files', carry the appliance's paths: logged whole,
            // told with the files' names only (a full disk under an export read to the
            // archivist as a database failure at /var/lib/kyso/…; 2026-12-04).
            A::Locked { .. }
            | A::Db(_)
            | A::Corrupt(_)
            | A::DamagedBackup { .. }
            | A::Inconsistent(_)
            | A::NoArchive(_) => {
                tracing::error!(error = %e, "the archive failed");
                ApiError::internal(format!("archive: {}", file_names_only(&e.to_string())))
            }
            A::File {
                what,
                path,
                error,
                full,
            } => {
                tracing::error!(error = %e, "a file could not be read or written");
                let name = file_names_only(path);
                ApiError::internal(if *full {
                    format!(
                        "the appliance's disk is full ({what} {name}): nothing more can be written there until its operator frees space"
                    )
                } else {
                    format!("{what} {name}: {error}")
                })
            }
            // The cause names the appliance's files (the state file's path, its file system's
            // error): it is logged, and the client is told to retry (an insider's reading,
            // 2026-12-04).
            A::Checkpoint(_) => {
                tracing::error!(error = %e, "no checkpoint could be signed or time-stamped");
                ApiError::unavailable(
                    "the checkpoint could not be signed or time-stamped now (the cause is in the service's log); try again later",
                )
            }
        }
    }
}

/// A signing error as a caller reads it, with what to do where there is one: PAdES is the
/// default, and a clerk sending a Word file was told only "not a PDF file", where the command
/// line says which flag signs it (helper 216).
pub(crate) fn with_hint(e: &kyso_signer::SignError) -> String {
    match e {
        kyso_signer::SignError::Pdf(kyso_signer::PdfError::NotPdf) => {
            format!("{e}; to sign any other file, give \"format\": \"cades\"")
        }
        _ => e.to_string(),
    }
}

impl From<kyso_signer::SignError> for ApiError {
    fn from(e: kyso_signer::SignError) -> Self {
        use kyso_signer::SignError as S;
        match &e {
            S::Pdf(_) | S::Input(_) | S::BrokenSignature(_) => {
                ApiError::new(Code::CannotSign, with_hint(&e))
            }
            S::Timestamp(_) => ApiError::new(Code::Timestamp, e.to_string()),
            S::Token(_) => ApiError::unavailable(format!("token: {e}")),
            S::Encoding(_) | S::TooLarge { .. } | S::Io { .. } => ApiError::internal(e.to_string()),
        }
    }
}

/// The appliance's own directories (database, state file's, exports), as configured and as
/// resolved: [`file_names_only`] cuts a path under one of them whole, even one with a space
/// in it, which would otherwise end the word and leave the path's rest in the message.
static DIRS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Tell [`file_names_only`] the appliance's directories (once, at start; later calls are
/// ignored).
pub(crate) fn hide_dirs<'a>(dirs: impl IntoIterator<Item = &'a std::path::Path>) {
    let mut all = Vec::new();
    for d in dirs {
        let mut forms = vec![d.to_path_buf()];
        if let Ok(c) = d.canonicalize() {
            forms.push(c);
        }
        for f in forms {
            let f = f.display().to_string();
            let f = f.trim_end_matches('/');
            if f.len() > 1 && f.starts_with('/') && !all.iter().any(|a: &String| a == f) {
                all.push(f.to_string());
            }
        }
    }
    // The longest first: a directory inside another is cut as itself.
    all.sort_by_key(|d| std::cmp::Reverse(d.len()));
    let _ = DIRS.set(all);
}

/// `s` with each absolute path in it cut to its file's name (`/var/lib/kyso/db/000012.log:` →
/// `000012.log:`): for a client, which has no business with the appliance's layout. A path
/// under one of the appliance's directories ([`hide_dirs`]) is cut from that directory on, so
/// a space in the directory's name does not leave its rest behind.
pub(crate) fn file_names_only(s: &str) -> String {
    let mut s = std::borrow::Cow::Borrowed(s);
    for d in DIRS.get().map(Vec::as_slice).unwrap_or_default() {
        if s.contains(d.as_str()) {
            s = std::borrow::Cow::Owned(cut_dir(&s, d));
        }
    }
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let quote = |c: char| matches!(c, '(' | '"' | '\'' | '`' | '[');
        match word.find('/').filter(|&k| word[..k].chars().all(quote)) {
            Some(k) => {
                let path = &word[k..];
                let end = path.trim_end_matches(|c: char| {
                    matches!(c, ':' | ',' | ';' | ')' | ']' | '"' | '\'' | '`')
                });
                out.push_str(&word[..k]);
                out.push_str(end.rsplit('/').next().unwrap_or_default());
                out.push_str(&path[end.len()..]);
            }
            None => out.push_str(word),
        }
    }
    out
}

/// `s` with the directory `d` cut where it is a whole path or a path's start: `d/x` → `/x`
/// (the caller cuts that to `x`), `d` alone → its own name; `d` as the start of a longer
/// name (`/srv/kyso` in `/srv/kyso2/x`) is left as it is.
fn cut_dir(s: &str, d: &str) -> String {
    let name = d.rsplit('/').next().unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(k) = rest.find(d) {
        out.push_str(&rest[..k]);
        let after = &rest[k + d.len()..];
        match after.chars().next() {
            Some('/') => {}
            Some(c) if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') => out.push_str(d),
            _ => out.push_str(name),
        }
        rest = after;
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A client reads the archive's failures with the files' names, not the appliance's paths.
    #[test]
    fn archive_failures_name_files_not_paths() {
        use kyso_archive::ArchiveError as A;
        let e = ApiError::from(A::Db(
            "IO error: No space left on device: While appending to file: /var/lib/kyso/db/000012.log: No space left on device".into(),
        ));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            e.message,
            "archive: database: IO error: No space left on device: While appending to file: 000012.log: No space left on device"
        );
        let e = ApiError::from(A::File {
            what: "write".into(),
            path: "/srv/kyso/exports/0b1c/records/1/metadata.json".into(),
            error: "No space left on device (os error 28)".into(),
            full: true,
        });
        assert!(!e.message.contains("/srv"), "{}", e.message);
        assert!(
            e.message
                .starts_with("the appliance's disk is full (write metadata.json)"),
            "{}",
            e.message
        );
        let e = ApiError::from(A::File {
            what: "read".into(),
            path: "(\"/tmp/x\")".into(),
            error: "Permission denied (os error 13)".into(),
            full: false,
        });
        assert_eq!(e.message, "read (\"x\"): Permission denied (os error 13)");
        // Relative paths (a package's own) and slashes inside words are kept.
        assert_eq!(
            file_names_only("write records/1/a.pdf: and/or / //x"),
            "write records/1/a.pdf: and/or  x"
        );
    }

    /// A space in the appliance's directory does not leave the path's rest in the message:
    /// the directories the service was told at start are cut whole.
    #[test]
    fn a_space_in_the_appliance_s_directory_does_not_leak_its_rest() {
        let dir = std::path::Path::new("/srv/kyso data/archive db");
        hide_dirs([dir, std::path::Path::new("/srv/kyso data")]);
        let e = ApiError::from(kyso_archive::ArchiveError::Db(
            "IO error: While appending to file: /srv/kyso data/archive db/000012.log: No space left on device".into(),
        ));
        assert_eq!(
            e.message,
            "archive: database: IO error: While appending to file: 000012.log: No space left on device"
        );
        let e = ApiError::from(kyso_archive::ArchiveError::File {
            what: "write".into(),
            path: "/srv/kyso data/exports/0b1c/records/1/metadata.json".into(),
            error: "Permission denied (os error 13)".into(),
            full: false,
        });
        assert_eq!(
            e.message,
            "write metadata.json: Permission denied (os error 13)"
        );
        assert_eq!(
            file_names_only("lock /srv/kyso data/archive db: busy"),
            "lock archive db: busy"
        );
        // A directory whose name only starts like the appliance's is not one of them.
        assert_eq!(
            cut_dir("/srv/kyso2/x /srv/kyso: /srv/kyso/y", "/srv/kyso"),
            "/srv/kyso2/x kyso: /y"
        );
    }

    /// docs/api.md's "Errors" section names every code with its status, and no other.
    #[test]
    fn docs_api_md_lists_every_error_code_with_its_status() {
        let doc = include_str!("../../docs/api.md");
        let start = doc.find("## Errors").expect("an Errors section");
        let section = &doc[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
        let mut listed = std::collections::BTreeMap::new();
        for line in section.lines() {
            // | `code` | status | meaning |
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() >= 4 && cells[1].starts_with('`') {
                listed.insert(cells[1].trim_matches('`').to_string(), cells[2].to_string());
            }
        }
        let ours: std::collections::BTreeMap<String, String> = Code::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.status().as_u16().to_string()))
            .collect();
        assert_eq!(
            listed, ours,
            "docs/api.md's error table and error.rs disagree"
        );
        for c in Code::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
    }
}
