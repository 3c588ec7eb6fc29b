//! The ingest policy: what the archive takes, and on what terms. `kyso archive put` and the
//! HTTP service both call [`ingest`]; neither decides anything of it.
//!
//! 1. The caller names the acting user (the service: the authenticated identity) and may give
//!    a client request id; the metadata and the document code are checked first.
//! 2. The document is no larger than the archive's configured limit.
//! 3. Its signatures are validated with the caller's [`Validator`] (trust anchors, CRLs); a
//!    result that is not TOTAL-PASSED is refused unless the caller allows it *with a reason*,
//!    which the record keeps.
//! 4. The record keeps the validation report, the signatures found, and the request id.
//! 5. A request id already used by the same user: the same document under the same code gets
//!    the existing record back (`existing: true`), never a second one, so a client that got an
//!    error — a failed sync may still have stored its batch — can simply retry; another
//!    document or code under that id is refused ([`ArchiveError::RequestConflict`]).

use crate::code::DocumentCode;
use crate::error::{db_err, ArchiveError, Result};
use crate::model::{
    check_request_id, check_text, check_user, FoundSignature, Gathered, Metadata, NewRecord, Record,
};
use crate::schema::{cf, parse_u64_key, request_key, CF_REQUESTS};
use crate::store::Archive;
use crate::writer::stored_record;
use kyso_verify::{Indication, Report, Validator};

/// What a clerk (CLI) or an agency (HTTP) sends to archive a document.
#[derive(Debug, Clone, Default)]
pub struct Ingest {
    /// The signed document: a PDF, an attached CMS, or the content of `detached_signature`.
    pub document: Vec<u8>,
    /// A detached CMS signature over `document`; kept beside it.
    pub detached_signature: Option<Vec<u8>>,
    pub metadata: Metadata,
    /// The acting user, as the caller authenticated it.
    pub user: String,
    /// Keep the document even though its signatures are not TOTAL-PASSED, for this reason.
    pub allow_unverified: Option<String>,
    /// The client's id for this request (unique per user): makes a retry safe.
    pub request_id: Option<String>,
    /// The media type, if the caller knows it (else: PDF, CMS, or octet-stream).
    pub media_type: Option<String>,
}

/// What [`ingest`] answers.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub record: u64,
    /// The log index of the record's ingest event.
    pub leaf: u64,
    /// The request id had already stored this document: this is that record.
    pub existing: bool,
    /// The verdict on the document's signatures at ingest (for an existing record, the one
    /// made when it was stored).
    pub indication: String,
    /// The validation made now (`None` for an existing record: nothing was validated).
    pub report: Option<Report>,
    /// What the record holds of the document: the PDF/A it declares, its pages.
    pub pdfa_declared: Option<String>,
    pub pages: Option<u64>,
}

/// A document the policy accepted, validated, not yet stored: the CPU half of [`ingest`],
/// which a service runs on its validation threads while the durable write ([`store`]) waits
/// with the other writers. Only this module makes one.
pub struct Prepared {
    step: Step,
}

enum Step {
    /// A retry of a stored request: nothing to write.
    Existing(Ingested),
    Store {
        rec: Box<NewRecord>,
        code: DocumentCode,
        document: Vec<u8>,
        signature: Option<Vec<u8>>,
        report: Box<Report>,
    },
}

/// Validate, apply the policy, and store (durably) — or say why not.
pub fn ingest(archive: &Archive, validator: &Validator, req: Ingest) -> Result<Ingested> {
    store(archive, prepare(archive, validator, req)?)
}

/// Store what [`prepare`] accepted; returns once it is durable. The writer checks the request
/// id again, in order with concurrent requests.
pub fn store(archive: &Archive, p: Prepared) -> Result<Ingested> {
    match p.step {
        // Found by a read that may have seen the first try applied but not yet synced: told
        // only once it is durable.
        Step::Existing(i) => {
            archive.durable_through(i.leaf)?;
            Ok(i)
        }
        Step::Store {
            rec,
            code,
            document,
            signature,
            report,
        } => {
            let (pdfa_declared, pages) = (rec.pdfa_declared.clone(), rec.pages);
            let o = archive.put(*rec, code, document, signature)?;
            let (indication, pdfa_declared, pages) = if o.existing {
                stored_record(&archive.db, o.record.unwrap_or_default())
                    .map(|r| (indication_of(&r), r.pdfa_declared, r.pages))
                    .unwrap_or_default()
            } else {
                (report.indication.as_str().to_string(), pdfa_declared, pages)
            };
            Ok(Ingested {
                record: o.record.unwrap_or_default(),
                leaf: o.leaf,
                existing: o.existing,
                indication,
                report: (!o.existing).then_some(*report),
                pdfa_declared,
                pages,
            })
        }
    }
}

/// The verdict a stored record's report gave.
fn indication_of(r: &Record) -> String {
    r.report
        .get("indication")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Check, validate and apply the policy (everything but the write).
pub fn prepare(archive: &Archive, validator: &Validator, req: Ingest) -> Result<Prepared> {
    check_user(&req.user)?;
    if let Some(r) = &req.request_id {
        check_request_id(r)?;
    }
    let code: DocumentCode = req.metadata.code.parse().map_err(ArchiveError::Input)?;
    req.metadata.check()?;
    if let Some(m) = &req.media_type {
        check_text("media type", m, 100)?;
    }
    let size = req.document.len() as u64
        + req
            .detached_signature
            .as_ref()
            .map_or(0, |s| s.len() as u64);
    let limit = archive.config().max_document_bytes;
    if size > limit {
        return Err(ArchiveError::TooLarge { size, limit });
    }
    // A signature in PEM text: the verifier reads it, but the archive keeps and exports what it
    // is given, named and typed as DER (`document.p7m`, application/pkcs7-mime), which tools
    // reading DER then fail on (helper 186).
    let cms = match &req.detached_signature {
        Some(s) => Some(s.as_slice()),
        None if !kyso_verify::looks_like_pdf(&req.document) => Some(req.document.as_slice()),
        None => None,
    };
    if cms.is_some_and(kyso_verify::pem_armoured) {
        return Err(ArchiveError::Input(
            "the signature is PEM text: the archive keeps signatures as DER; convert it first (openssl cms -inform PEM -outform DER -in FILE -out FILE.der)".into(),
        ));
    }
    // A retry of a stored request needs no second validation (the writer checks again, in
    // order with concurrent requests).
    if let Some(rid) = &req.request_id {
        if let Some(r) = earlier_request(archive, &req.user, rid)? {
            if !same_document(&r, &code, &req) {
                return Err(ArchiveError::RequestConflict {
                    user: req.user.clone(),
                    request_id: rid.clone(),
                    record: r.id,
                    what: format!("code {}, content SHA-256 {}", r.code, r.content_sha256),
                });
            }
            let differ = req.metadata.differences(&r);
            if !differ.is_empty() {
                return Err(ArchiveError::RequestConflict {
                    user: req.user.clone(),
                    request_id: rid.clone(),
                    record: r.id,
                    what: format!("stored with other {}", differ.join(", ")),
                });
            }
            return Ok(Prepared {
                step: Step::Existing(Ingested {
                    record: r.id,
                    leaf: r.leaf,
                    existing: true,
                    indication: indication_of(&r),
                    report: None,
                    pdfa_declared: r.pdfa_declared.clone(),
                    pages: r.pages,
                }),
            });
        }
    }
    let report = validator.verify_file(&req.document, req.detached_signature.as_deref());
    let kept_unverified = if report.indication == Indication::TotalPassed {
        None
    } else {
        match &req.allow_unverified {
            Some(reason) if !reason.trim().is_empty() => {
                let reason = crate::model::stated_form(reason);
                crate::model::check_stated("reason", &reason, crate::model::REASON_MAX)?;
                Some(reason)
            }
            Some(_) => {
                return Err(ArchiveError::Input(
                    "keeping a document whose signatures did not pass needs a reason".into(),
                ))
            }
            None => {
                let why = report
                    .signatures
                    .first()
                    .and_then(|s| s.messages.first())
                    .or_else(|| report.messages.first())
                    .cloned()
                    .unwrap_or_default();
                return Err(ArchiveError::NotVerified {
                    indication: report.indication.as_str().into(),
                    detail: why,
                });
            }
        }
    };
    let signatures = report
        .signatures
        .iter()
        .map(|s| FoundSignature {
            signer: s
                .signer
                .as_ref()
                .map(|x| x.subject.clone())
                .unwrap_or_default(),
            time: s.timestamp.clone().or_else(|| s.signing_time.clone()),
            format: s.format.clone(),
            indication: s.indication.as_str().into(),
        })
        .collect();
    let is_pdf = kyso_verify::looks_like_pdf(&req.document);
    let (pdfa_declared, pages) = if is_pdf {
        let (pdfa, pages) = kyso_verify::pdfa::pdf_facts(&req.document);
        (pdfa.map(|c| c.label()), pages)
    } else {
        (None, None)
    };
    let media_type = req.media_type.clone().unwrap_or_else(|| {
        if is_pdf {
            "application/pdf".into()
        } else if req.detached_signature.is_some() {
            "application/octet-stream".into()
        } else {
            "application/pkcs7-mime".into()
        }
    });
    let mut evidence = kyso_verify::Evidence::default();
    for s in &report.signatures {
        evidence.merge(&s.evidence);
    }
    let validation = Gathered {
        time: kyso_verify::rfc3339(validator.now),
        online: validator.fetch.is_some(),
        certificates: evidence.certs.iter().map(|c| c.der().to_vec()).collect(),
        crls: evidence.crls.iter().map(|c| c.der().to_vec()).collect(),
        ocsp_responses: evidence.ocsps.iter().map(|o| o.response_der()).collect(),
    };
    let rec = NewRecord {
        meta: req.metadata,
        media_type,
        signatures,
        report: serde_json::to_value(&report).map_err(|e| ArchiveError::Db(e.to_string()))?,
        kept_unverified,
        request_id: req.request_id,
        user: req.user,
        validation: Some(validation),
        pdfa_declared,
        pages,
    };
    Ok(Prepared {
        step: Step::Store {
            rec: Box::new(rec),
            code,
            document: req.document,
            signature: req.detached_signature,
            report: Box::new(report),
        },
    })
}

/// The record stored earlier under this user's request id.
fn earlier_request(archive: &Archive, user: &str, rid: &str) -> Result<Option<Record>> {
    let db = &archive.db;
    let Some(v) = db
        .get_cf(cf(db, CF_REQUESTS)?, request_key(user, rid))
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let id = parse_u64_key(&v)
        .ok_or_else(|| ArchiveError::Inconsistent("a request id entry is not 8 bytes".into()))?;
    stored_record(db, id).map(Some)
}

/// Is `r` this request's document under this code (with the same detached signature)?
fn same_document(r: &Record, code: &DocumentCode, req: &Ingest) -> bool {
    let sha256 = |b: &[u8]| hex::encode(ring::digest::digest(&ring::digest::SHA256, b));
    r.code == code.to_string()
        && r.content_sha256 == sha256(&req.document)
        && r.content_sha512 == hex::encode(openssl::sha::sha512(&req.document))
        && r.detached_signature.as_ref().map(|b| b.sha256.clone())
            == req.detached_signature.as_deref().map(sha256)
}
