//! The quarterly digitization report for administrators and auditors: the archive's
//! statistics counters (kyso-archive `stats`), as JSON or CSV. No record is read and the
//! answer names no person.

use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::server::{blocking, Shared};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kyso_archive::stats::{Row, StatsQuery as Q, StatsReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// First day (YYYY-MM-DD); its whole quarter is counted. Default: three quarters before
    /// `to`'s.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD); its whole quarter is counted. Default: today (+07:00). At most
    /// 40 quarters from `from`.
    pub to: Option<String>,
    /// `agency`, `type` or `quarter`: one row each. Default: one row per agency × type ×
    /// quarter.
    pub by: Option<String>,
    /// `json` (default) or `csv` (RFC 4180, a header line, CRLF).
    pub format: Option<String>,
}

/// One row: counters of an agency, a type, a quarter or a cell of the three.
#[derive(Serialize, ToSchema)]
pub struct StatsRow {
    /// Absent when rows are not by agency; empty when records named no agency (signatures
    /// name none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The document type code.
    #[serde(skip_serializing_if = "Option::is_none", rename = "type")]
    pub doc_type: Option<String>,
    /// `2026-Q1` (Vietnamese quarters; a record's by its issue date, else its ingest time at
    /// +07:00; a signature or lookup by its time at +07:00).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarter: Option<String>,
    /// Records archived.
    pub ingested: u64,
    /// Of these, now superseded by a later version.
    pub superseded: u64,
    /// Now revoked.
    pub revoked: u64,
    /// Now expired.
    pub expired: u64,
    /// Still valid.
    pub valid: u64,
    /// Signatures the service made.
    pub signatures: u64,
    /// Lookups by code or subject that found a valid record (per agency × type found).
    pub reused: u64,
    /// Results issued, as an administrator gave them (null: not given).
    pub total: Option<u64>,
    /// Ingested minus superseded, over the cells with a total.
    pub digitized: Option<u64>,
    /// digitized / total, percent with one decimal.
    pub percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsAnswer {
    /// First day of the first quarter covered.
    pub from: String,
    /// Last day of the last quarter covered.
    pub to: String,
    /// The grouping (null: agency × type × quarter).
    pub by: Option<String>,
    pub rows: Vec<StatsRow>,
    /// All rows together.
    pub all: StatsRow,
}

impl From<Row> for StatsRow {
    fn from(r: Row) -> StatsRow {
        StatsRow {
            agency: r.agency,
            doc_type: r.doc_type,
            quarter: r.quarter,
            ingested: r.ingested,
            superseded: r.superseded,
            revoked: r.revoked,
            expired: r.expired,
            valid: r.valid,
            signatures: r.signatures,
            reused: r.reused,
            total: r.total,
            digitized: r.digitized,
            percent: r.percent,
        }
    }
}

impl From<StatsReport> for StatsAnswer {
    fn from(r: StatsReport) -> StatsAnswer {
        StatsAnswer {
            from: r.from,
            to: r.to,
            by: r.by.map(|b| {
                serde_json::to_value(b)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            rows: r.rows.into_iter().map(StatsRow::from).collect(),
            all: r.all.into(),
        }
    }
}

/// Records ingested, superseded, revoked and expired; signatures made; documents reused;
/// digitized vs total where a total was given — per agency, document type and quarter, from
/// the archive's counters.
#[utoipa::path(get, path = "/v1/stats", operation_id = "stats", tag = "archive",
    params(StatsQuery),
    responses((status = 200, description = "JSON (the default), or CSV with format=csv",
            content((StatsAnswer = "application/json"), (String = "text/csv; charset=utf-8"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn stats(
    State(st): State<Shared>,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(ApiError::bad(format!("format {other:?}: json or csv"))),
    };
    let query = Q::new(q.from.as_deref(), q.to.as_deref(), q.by.as_deref())?;
    // Two reports are made at a time, the rest wait: each may hold 100,000 cells and its
    // answer (eight at once took the service past 1 GB; helper 167).
    static REPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let turn = REPORTS
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable("the statistics are closed"))?;
    let store = st.store.clone();
    // The turn goes with the work into its thread, the answer's text made there too: a caller
    // that hung up dropped the handler and its turn while the report went on being made
    // (helper 169: 16 reports at once).
    let body = blocking(move || {
        let _turn = turn;
        let report = store.stats(&query)?;
        Ok::<_, ApiError>(if csv {
            report.to_csv()
        } else {
            serde_json::to_vec(&StatsAnswer::from(report))
                .map_err(|e| ApiError::internal(format!("the report: {e}")))?
        })
    })
    .await??;
    Ok(if csv {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"kyso-stats.csv\"",
                ),
            ],
            body,
        )
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    })
}
