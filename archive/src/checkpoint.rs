//! Checkpoints: C2SP `tlog-checkpoint` bodies signed as C2SP signed notes with an ECDSA P-256
//! key on the token (signature type 0x02, as transparency-dev/witness implements it: key ID =
//! SHA-256(DER SubjectPublicKeyInfo)[:4], signature = DER ECDSA over SHA-256 of the note text).

use crate::merkle::Hash;
use base64::Engine;
use der::Encode;
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `<origin>\n<tree size>\n<base64 root hash>\n` (c2sp.org/tlog-checkpoint).
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

/// Key ID of an ECDSA key for signed notes (type 0x02).
pub fn key_id(spki: &spki::SubjectPublicKeyInfoOwned) -> [u8; 4] {
    let der = spki.to_der().unwrap_or_default();
    let h = Sha256::digest(der);
    [h[0], h[1], h[2], h[3]]
}

/// Sign a note text with `signer` (must be ECDSA P-256 with SHA-256).
pub fn sign(
    text: &str,
    key_name: &str,
    signer: &dyn kyso_hsm::SignDigest,
) -> Result<String, String> {
    if signer.algorithm() != kyso_hsm::SignatureAlgorithm::Ecdsa(kyso_hsm::HashAlg::Sha256) {
        return Err(format!(
            "checkpoints are signed with ECDSA P-256 and SHA-256; the key signs with {}",
            signer.algorithm()
        ));
    }
    if key_name.is_empty() || key_name.contains(char::is_whitespace) || key_name.contains('+') {
        return Err(format!(
            "key name {key_name:?} must be non-empty, without spaces or '+'"
        ));
    }
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

/// A checkpoint read from a signed note whose signature by `key_name`/`spki` verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Verify a signed note with the public key alone and parse its checkpoint.
pub fn verify(note: &str, key_name: &str, spki_der: &[u8]) -> Result<Checkpoint, String> {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let (text, sigs) = note
        .split_once("\n\n")
        .map(|(t, s)| (format!("{t}\n"), s))
        .ok_or("not a signed note (no blank line before the signatures)")?;
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
        .map_err(|e| format!("public key: {e}"))?;
    let spki = <spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(spki_der)
        .map_err(|e| e.to_string())?;
    let want_id = key_id(&spki);
    let mut verified = false;
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(format!("bad signature line {line:?}"));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err("bad signature line".into());
        };
        let blob = B64
            .decode(b64)
            .map_err(|e| format!("signature is not base64: {e}"))?;
        if name != key_name || blob.len() < 4 || blob[..4] != want_id {
            continue; // another key's signature
        }
        let sig = p256::ecdsa::DerSignature::try_from(&blob[4..])
            .map_err(|e| format!("signature: {e}"))?;
        vk.verify(text.as_bytes(), &sig)
            .map_err(|_| "the checkpoint's signature does not verify".to_string())?;
        verified = true;
    }
    if !verified {
        return Err(format!("no signature by {key_name} with this key"));
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
    Ok(Checkpoint { origin, size, root })
}
