//! Checkpoints: C2SP `tlog-checkpoint` bodies signed as C2SP signed notes with an ECDSA P-256
//! key on the token (signature type 0x02, as transparency-dev/witness implements it: key ID =
//! SHA-256(DER SubjectPublicKeyInfo)[:4], signature = DER ECDSA over SHA-256 of the note text).

use crate::merkle::Hash;
use base64::Engine;
use der::Encode;
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Largest signed note kyso reads (a checkpoint is a few hundred bytes).
pub const MAX_NOTE: usize = 16 * 1024;

/// `<origin>\n<tree size>\n<base64 root hash>\n` (c2sp.org/tlog-checkpoint).
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

/// Key ID of an ECDSA key for signed notes (type 0x02): SHA-256(DER SPKI)[:4].
pub fn key_id(spki: &spki::SubjectPublicKeyInfoOwned) -> [u8; 4] {
    key_id_der(&spki.to_der().unwrap_or_default())
}

/// Key ID from the DER SPKI.
pub fn key_id_der(spki_der: &[u8]) -> [u8; 4] {
    let h = Sha256::digest(spki_der);
    [h[0], h[1], h[2], h[3]]
}

/// A log's origin (one non-empty line: it is the note's first) and its key's name (no
/// whitespace, no '+': c2sp.org/signed-note) as a note may carry them.
/// Longest origin or key name (bytes): a note is at most [`MAX_NOTE`], and an origin of
/// 16,400 bytes made every checkpoint too long to sign (helper 170).
pub const MAX_NAME: usize = 1024;

pub fn check_names(origin: &str, key_name: &str) -> Result<(), String> {
    if origin.len() > MAX_NAME || key_name.len() > MAX_NAME {
        return Err(format!(
            "the log's origin and key name are at most {MAX_NAME} bytes each"
        ));
    }
    // A line break in the origin (the CLI's `--origin`) made the log key sign a note that
    // reads as another size and root (found by an insider's reading, 2026-12-03).
    if origin.trim().is_empty() || origin.contains(['\n', '\r']) {
        return Err(format!(
            "the log's origin {origin:?} must be one non-empty line"
        ));
    }
    // No control character anywhere in a note (golang.org/x/mod/sumdb/note refuses the
    // whole note for one): a recorded name with \x01 was copied into a co-signed note
    // (helper 114, 2026-12-04).
    if origin.contains(|c: char| c.is_control()) {
        return Err(format!(
            "the log's origin {origin:?} must hold no control character"
        ));
    }
    if key_name.is_empty()
        || key_name.contains(char::is_whitespace)
        || key_name.contains('+')
        || key_name.contains(|c: char| c.is_control())
    {
        return Err(format!(
            "key name {key_name:?} must be non-empty, without spaces, '+' or control characters"
        ));
    }
    Ok(())
}

/// The algorithm a checkpoint key must sign with.
pub fn check_algorithm(signer: &dyn kyso_hsm::SignDigest) -> Result<(), String> {
    if signer.algorithm() != kyso_hsm::SignatureAlgorithm::Ecdsa(kyso_hsm::HashAlg::Sha256) {
        return Err(format!(
            "checkpoints are signed with ECDSA P-256 and SHA-256; the key signs with {}",
            signer.algorithm()
        ));
    }
    Ok(())
}

/// Sign a note text with `signer` (must be ECDSA P-256 with SHA-256).
pub fn sign(
    text: &str,
    key_name: &str,
    signer: &dyn kyso_hsm::SignDigest,
) -> Result<String, String> {
    check_algorithm(signer)?;
    check_names(text.lines().next().unwrap_or(""), key_name)?;
    let sig = signer
        .sign_message(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut blob = key_id(signer.public_key_info()).to_vec();
    blob.extend_from_slice(&sig);
    Ok(format!(
        "{text}\n\u{2014} {key_name} {}\n",
        B64.encode(blob)
    ))
}

/// A checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub key_name: String,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, as a note carries it.
    pub fn line(&self) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.key_name, B64.encode(blob))
    }
}

/// A signed note taken apart, its signatures not yet checked.
#[derive(Debug, Clone)]
pub struct Note {
    /// The signed text, up to and including its last newline.
    pub text: String,
    pub checkpoint: Checkpoint,
    pub signatures: Vec<NoteSignature>,
}

/// Take a signed note apart (c2sp.org/signed-note), without checking any signature.
pub fn parse(note: &str) -> Result<Note, String> {
    if note.len() > MAX_NOTE {
        return Err(format!("a signed note of {} bytes is too long", note.len()));
    }
    let (text, sigs) = note
        .split_once("\n\n")
        .map(|(t, s)| (format!("{t}\n"), s))
        .ok_or("not a signed note (no blank line before the signatures)")?;
    let mut signatures = Vec::new();
    for line in sigs.lines() {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("bad signature line {line:?}"))?;
        let (name, b64) = rest.split_once(' ').ok_or("bad signature line")?;
        let blob = B64
            .decode(b64)
            .map_err(|e| format!("signature is not base64: {e}"))?;
        if blob.len() < 5 {
            return Err("signature too short".into());
        }
        signatures.push(NoteSignature {
            key_name: name.to_string(),
            key_id: blob[..4].try_into().expect("4 bytes"),
            signature: blob[4..].to_vec(),
        });
    }
    let mut lines = text.lines();
    let origin = lines.next().ok_or("empty checkpoint")?.to_string();
    let size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or("checkpoint size is not a number")?;
    let root: Hash = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .and_then(|v| v.try_into().ok())
        .ok_or("checkpoint root is not a base64 SHA-256")?;
    Ok(Note {
        text,
        checkpoint: Checkpoint { origin, size, root },
        signatures,
    })
}

impl Note {
    /// Whether standard verifiers (golang.org/x/mod/sumdb/note) take this note: at most 100
    /// signatures, and each line's name one kyso could sign under ([`check_names`]: no
    /// whitespace, '+' or control character, which those verifiers refuse the whole note for).
    pub fn check_standard(&self) -> Result<(), String> {
        if self.signatures.len() > 100 {
            return Err(format!(
                "carries {} signatures: standard verifiers refuse more than 100",
                self.signatures.len()
            ));
        }
        for g in &self.signatures {
            check_names(&self.checkpoint.origin, &g.key_name)
                .map_err(|e| format!("carries a line no kyso signs: {e}"))?;
        }
        Ok(())
    }

    /// Check the signature made with `spki_der` (a P-256 key, DER SubjectPublicKeyInfo), under
    /// `key_name` if one is given: the note must carry one, and it must verify.
    pub fn verify(&self, key_name: Option<&str>, spki_der: &[u8]) -> Result<(), String> {
        use p256::ecdsa::signature::Verifier;
        use p256::pkcs8::DecodePublicKey;
        let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
            .map_err(|e| format!("public key: {e}"))?;
        let id = key_id_der(spki_der);
        let mut found = false;
        for s in &self.signatures {
            if s.key_id != id || key_name.is_some_and(|n| n != s.key_name) {
                continue; // another key's signature
            }
            let sig = p256::ecdsa::DerSignature::try_from(s.signature.as_slice())
                .map_err(|e| format!("signature: {e}"))?;
            vk.verify(self.text.as_bytes(), &sig)
                .map_err(|_| "the checkpoint's signature does not verify".to_string())?;
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(format!(
                "no signature{} by the key with ID {}",
                key_name.map(|n| format!(" of {n}")).unwrap_or_default(),
                hex::encode(id)
            ))
        }
    }

    /// The name under which the key `spki_der` signed this note, if it did: every signature
    /// bearing its key ID verifies (as [`Note::verify`] without a name), and the first names it.
    /// `None` when none bears its ID, or one that does fails.
    pub fn signed_by(&self, spki_der: &[u8]) -> Option<String> {
        self.verify(None, spki_der).ok()?;
        let id = key_id_der(spki_der);
        self.signatures
            .iter()
            .find(|s| s.key_id == id)
            .map(|s| s.key_name.clone())
    }

    /// The names under which `keys` (DER SPKIs given from outside) signed this note: every
    /// signature bearing one of their IDs must verify (as [`Note::verify`] without a name);
    /// (key ID, name) of each such line. [`Note::verify_any`] checks one key's lines only.
    pub fn key_names(&self, keys: &[Vec<u8>]) -> Result<Vec<([u8; 4], &str)>, String> {
        let mut out = Vec::new();
        for k in keys {
            let id = key_id_der(k);
            if self.signatures.iter().any(|s| s.key_id == id) {
                self.verify(None, k)?;
                out.extend(
                    self.signatures
                        .iter()
                        .filter(|s| s.key_id == id)
                        .map(|s| (id, s.key_name.as_str())),
                );
            }
        }
        Ok(out)
    }

    /// Check the note against any of `keys` (DER SPKIs given from outside): the first key
    /// whose ID one of its signatures names must verify it. Returns that key's ID.
    pub fn verify_any(&self, keys: &[Vec<u8>]) -> Result<[u8; 4], String> {
        for k in keys {
            let id = key_id_der(k);
            if self.signatures.iter().any(|s| s.key_id == id) {
                self.verify(None, k)?;
                return Ok(id);
            }
        }
        // The IDs of the keys given too: a wrong key file (another certificate of the demo
        // token) read as tampering to a new auditor (a walk-through, 2026-12-04).
        Err(format!(
            "signed by key ID {} and no key given verifies it (the keys given have ID {}: give the log key that signed it)",
            self.signatures
                .iter()
                .map(|s| format!("{} ({})", hex::encode(s.key_id), s.key_name))
                .collect::<Vec<_>>()
                .join(", "),
            keys.iter()
                .map(|k| hex::encode(key_id_der(k)))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Verify a signed note with the public key alone and parse its checkpoint.
pub fn verify(note: &str, key_name: &str, spki_der: &[u8]) -> Result<Checkpoint, String> {
    let n = parse(note)?;
    n.verify(Some(key_name), spki_der)?;
    Ok(n.checkpoint)
}

/// A public key given as PEM (a `PUBLIC KEY` or a `CERTIFICATE`) or DER (SPKI or
/// certificate): its DER SubjectPublicKeyInfo.
/// When a log key given as a certificate (PEM or DER) may have signed: its notBefore and
/// notAfter. None for a bare public key, or bytes that are no certificate.
pub fn certified_validity(bytes: &[u8]) -> Option<(std::time::SystemTime, std::time::SystemTime)> {
    use der::Decode;
    let der = if bytes.starts_with(b"-----BEGIN") {
        der::pem::decode_vec(bytes).ok()?.1
    } else {
        bytes.to_vec()
    };
    let v = x509_cert::Certificate::from_der(&der)
        .ok()?
        .tbs_certificate
        .validity;
    Some((v.not_before.to_system_time(), v.not_after.to_system_time()))
}

pub fn public_key_der(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use der::Decode;
    // The service's answer saved whole: said what to keep of it (it read "expected SEQUENCE,
    // got APPLICATION [27]"; a new user's walk-through, helper 182).
    if bytes.trim_ascii_start().starts_with(b"{") {
        return Err(
            "JSON, not a key: from GET /v1/log/key keep its public_key_pem field (curl … /v1/log/key | jq -r .public_key_pem > log.pem)"
                .into(),
        );
    }
    let der = if bytes.starts_with(b"-----BEGIN") {
        der::pem::decode_vec(bytes)
            .map_err(|e| format!("PEM: {e}"))?
            .1
    } else {
        bytes.to_vec()
    };
    if let Ok(c) = x509_cert::Certificate::from_der(&der) {
        return c
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string());
    }
    spki::SubjectPublicKeyInfoOwned::from_der(&der)
        .map_err(|e| format!("neither a certificate nor a public key: {e}"))?;
    Ok(der)
}
