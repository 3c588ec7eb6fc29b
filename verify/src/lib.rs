//! kyso-verify: validation of CMS, PDF and timestamp signatures per ETSI EN 319 102-1.
//!
//! Not built yet (issue 4). It depends on no other kyso crate.

/// ETSI EN 319 102-1 §5.1.2 main indications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indication {
    TotalPassed,
    TotalFailed,
    Indeterminate,
}
