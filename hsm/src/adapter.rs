//! Adapters from [`SignDigest`] to RustCrypto's `signature` traits, so that the `x509-cert`
//! and `cms` builders can sign with a key on a token.

use crate::key::SignDigest;
use der::{asn1::BitString, Encode};
use spki::{
    AlgorithmIdentifierOwned, Document, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};

/// A key on a token seen through `signature::Signer` + `signature::Keypair`.
pub struct RustCryptoSigner<'a, K: SignDigest + ?Sized>(pub &'a K);

/// The public key as the builders want it (`EncodePublicKey`).
#[derive(Clone, Debug)]
pub struct PublicKeyInfo(pub SubjectPublicKeyInfoOwned);

impl EncodePublicKey for PublicKeyInfo {
    fn to_public_key_der(&self) -> spki::Result<Document> {
        Ok(Document::try_from(self.0.to_der()?)?)
    }
}

/// A signature value as the token made it (PKCS#1/PSS bytes or DER ECDSA-Sig-Value).
#[derive(Clone, Debug)]
pub struct TokenSignature(pub Vec<u8>);

impl SignatureBitStringEncoding for TokenSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl<K: SignDigest + ?Sized> signature::Keypair for RustCryptoSigner<'_, K> {
    type VerifyingKey = PublicKeyInfo;
    fn verifying_key(&self) -> PublicKeyInfo {
        PublicKeyInfo(self.0.public_key_info().clone())
    }
}

impl<K: SignDigest + ?Sized> DynSignatureAlgorithmIdentifier for RustCryptoSigner<'_, K> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.0.algorithm().algorithm_identifier())
    }
}

impl<K: SignDigest + ?Sized> signature::Signer<TokenSignature> for RustCryptoSigner<'_, K> {
    fn try_sign(&self, msg: &[u8]) -> Result<TokenSignature, signature::Error> {
        self.0
            .sign_message(msg)
            .map(TokenSignature)
            .map_err(signature::Error::from_source)
    }
}
