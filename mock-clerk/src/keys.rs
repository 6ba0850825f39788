//! The key ring: RSA-2048 signing keys with their `kid`s, the JWKS, and the key file.
//!
//! The key file is a concatenation of PKCS#8 PEM blocks: the first is the active signing key, the rest are
//! older keys still published in the JWKS until they are retired. A restart with the same file keeps every
//! `kid`, so tokens and JWKS caches of running apps stay valid.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde::Serialize;

const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// What went wrong with a key or the key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFileIo {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A PEM block is not a PKCS#8 RSA private key.
    #[error("key file {path}: block {index} is not a PKCS#8 RSA private key: {reason}")]
    KeyFileRejected {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// 0-based index of the PEM block.
        index: usize,
        /// Why it was rejected.
        reason: String,
    },
    /// The key file holds no key at all.
    #[error("key file {0} holds no PRIVATE KEY block")]
    KeyFileEmpty(PathBuf),
    /// Clerk's SDK needs RSA-2048 with e = 65537 (`loadClerkJwkFromPem`).
    #[error("key file {path}: block {index} (kid {kid}) is not RSA-2048 with e = 65537")]
    KeyNotRsa2048 {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// 0-based index of the PEM block.
        index: usize,
        /// The key's kid.
        kid: String,
    },
    /// The system could not generate a key.
    #[error("RSA key generation failed")]
    KeyGenerationFailed,
    /// The active key cannot be retired.
    #[error("kid {0} is the active signing key and cannot be retired")]
    RetireActiveKey(String),
    /// No key with this kid.
    #[error("no key with kid {0}")]
    UnknownKid(String),
}

/// One RSA signing key, parsed once.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    pair: Arc<KeyPair>,
    pkcs8_der: Arc<[u8]>,
    jwk: Jwk,
    spki_der: Arc<[u8]>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// One entry of a JWKS, as Clerk publishes it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Jwk {
    /// Key id, referenced by the token header.
    pub kid: String,
    /// Always `RSA`.
    pub kty: String,
    /// Always `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url (`AQAB`).
    pub e: String,
}

/// `{"keys":[…]}`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Jwks {
    /// The published keys, active first.
    pub keys: Vec<Jwk>,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::KeyGenerationFailed)?;
        let der: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| KeyError::KeyGenerationFailed)?;
        Self::from_pkcs8_der(der.as_ref(), Path::new("<generated>"), 0)
    }

    /// Parses one PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// ```
    /// let key = mock_clerk::keys::SigningKey::from_pkcs8_pem(mock_clerk::keys::TEST_KEY_PEM).unwrap();
    /// assert!(key.kid().starts_with("ins_"));
    /// ```
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let path = Path::new("<memory>");
        let blocks = pem_blocks(pem, PRIVATE_KEY_LABEL);
        let first = blocks.first().ok_or_else(|| KeyError::KeyFileEmpty(path.into()))?;
        Self::from_pkcs8_der(first, path, 0)
    }

    fn from_pkcs8_der(der: &[u8], path: &Path, index: usize) -> Result<Self, KeyError> {
        let pair = KeyPair::from_pkcs8(der).map_err(|e| KeyError::KeyFileRejected { path: path.into(), index, reason: e.to_string() })?;
        let public = pair.public_key();
        let spki: PublicKeyX509Der<'static> = public.as_der().map_err(|_| KeyError::KeyGenerationFailed)?;
        let kid = kid_for(spki.as_ref());
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        if n.len() != 256 || e != [1, 0, 1] {
            return Err(KeyError::KeyNotRsa2048 { path: path.into(), index, kid });
        }
        let jwk = Jwk {
            kid: kid.clone(),
            kty: "RSA".into(),
            alg: "RS256".into(),
            use_: "sig".into(),
            n: URL_SAFE_NO_PAD.encode(&n),
            e: URL_SAFE_NO_PAD.encode(&e),
        };
        Ok(Self { kid, pair: Arc::new(pair), pkcs8_der: der.into(), jwk, spki_der: spki.as_ref().into() })
    }

    /// The `kid`: `ins_` + base64url of the SHA-256 of the public key, truncated. Stable for a key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The public key as an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as `CLERK_JWT_KEY` would hold it.
    pub fn public_key_pem(&self) -> String {
        to_pem(PUBLIC_KEY_LABEL, &self.spki_der)
    }

    /// The private key as a PKCS#8 PEM.
    pub fn private_key_pem(&self) -> String {
        to_pem(PRIVATE_KEY_LABEL, &self.pkcs8_der)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), message, &mut signature)
            .expect("RSA signing with a validated 2048-bit key cannot fail");
        signature
    }
}

impl SigningKey {
    /// Signs a throwaway message, so that the one-time costs of a process's first RSA signature — aws-lc seeds
    /// its RNG (used for RSA blinding) from CPU jitter entropy, ~20 ms of CPU — are not paid by the first token.
    /// `mock-clerk serve` runs it on a background thread once it is serving.
    pub fn warm_up(&self) {
        std::hint::black_box(self.sign_rs256(b"warm-up"));
    }

    /// Checks an RS256 signature made by this key.
    pub fn verify_rs256(&self, message: &[u8], signature: &[u8]) -> bool {
        let public = self.pair.public_key();
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, public.as_ref())
            .verify(message, signature)
            .is_ok()
    }
}

fn kid_for(spki_der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki_der);
    format!("ins_{}", &URL_SAFE_NO_PAD.encode(digest.as_ref())[..27])
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes every PEM block with this label; blocks with other labels are skipped.
fn pem_blocks(text: &str, label: &str) -> Vec<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let Some(stop) = after.find(&end) else { break };
        let body: String = after[..stop].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = STANDARD.decode(body) {
            out.push(der);
        }
        rest = &after[stop + end.len()..];
    }
    out
}

/// The active key and the older keys still published.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<SigningKey>,
    file: Option<PathBuf>,
    /// The JWKS document, serialised once per change of the ring: both JWKS routes answer these bytes.
    jwks_json: Bytes,
}

impl KeyRing {
    /// A ring holding one key, kept in memory only.
    pub fn ephemeral(key: SigningKey) -> Self {
        Self::with_keys(vec![key], None)
    }

    fn with_keys(keys: Vec<SigningKey>, file: Option<PathBuf>) -> Self {
        let mut ring = Self { keys, file, jwks_json: Bytes::new() };
        ring.serialise_jwks();
        ring
    }

    /// Through `serde_json::Value`, whose objects keep their keys sorted: the bytes the routes always answered.
    fn serialise_jwks(&mut self) {
        let value = serde_json::to_value(self.jwks()).expect("a JWKS serialises");
        self.jwks_json = serde_json::to_vec(&value).expect("a JSON value serialises").into();
    }

    /// Loads the ring from `path`, or creates the file with a fresh key if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut ring = Self::with_keys(vec![SigningKey::generate()?], Some(path.into()));
                ring.save()?;
                Ok(ring)
            }
            Err(source) => Err(KeyError::KeyFileIo { path: path.into(), source }),
        }
    }

    fn parse(text: &str, path: &Path) -> Result<Self, KeyError> {
        let keys = pem_blocks(text, PRIVATE_KEY_LABEL)
            .iter()
            .enumerate()
            .map(|(i, der)| SigningKey::from_pkcs8_der(der, path, i))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(KeyError::KeyFileEmpty(path.into()));
        }
        Ok(Self::with_keys(keys, Some(path.into())))
    }

    /// Re-serialises the JWKS, then writes the key file (if any): after every change of the ring.
    fn save(&mut self) -> Result<(), KeyError> {
        self.serialise_jwks();
        let Some(path) = &self.file else { return Ok(()) };
        let text: String = self.keys.iter().map(SigningKey::private_key_pem).collect();
        crate::private_file::write_private(path, text.as_bytes()).map_err(|source| KeyError::KeyFileIo { path: path.clone(), source })
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// Every published key, active first.
    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// The key with this `kid`, if published.
    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Jwks {
        Jwks { keys: self.keys.iter().map(|k| k.jwk.clone()).collect() }
    }

    /// The JWKS document as served: JSON, serialised when the ring last changed (cheap to clone).
    pub fn jwks_json(&self) -> Bytes {
        self.jwks_json.clone()
    }

    /// Makes `new_key` the active key; the previous keys stay published until retired.
    pub fn rotate_to(&mut self, new_key: SigningKey) -> Result<(), KeyError> {
        self.keys.retain(|k| k.kid != new_key.kid);
        self.keys.insert(0, new_key);
        self.save()
    }

    /// Removes a non-active key from the JWKS.
    pub fn retire(&mut self, kid: &str) -> Result<(), KeyError> {
        if self.active().kid == kid {
            return Err(KeyError::RetireActiveKey(kid.into()));
        }
        let before = self.keys.len();
        self.keys.retain(|k| k.kid != kid);
        if self.keys.len() == before {
            return Err(KeyError::UnknownKid(kid.into()));
        }
        self.save()
    }

    /// Removes every key but the active one. Returns the retired kids.
    pub fn retire_inactive(&mut self) -> Result<Vec<String>, KeyError> {
        let retired = self.keys.drain(1..).map(|k| k.kid).collect();
        self.save()?;
        Ok(retired)
    }
}

/// A fixed RSA-2048 test key, so unit tests and doc examples never generate keys.
pub const TEST_KEY_PEM: &str = include_str!("../keys/test-key.pem");
/// A second fixed key that mock-clerk never publishes: the "foreign" key of forged tokens.
pub const FOREIGN_KEY_PEM: &str = include_str!("../keys/foreign-key.pem");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_key_is_rsa2048_with_standard_exponent() {
        let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
        assert_eq!(key.jwk().e, "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.jwk().n).unwrap().len(), 256);
        assert_eq!(key.jwk().alg, "RS256");
        // the SPKI PEM has the fixed prefix @clerk/backend's loadClerkJwkFromPem strips
        assert!(key.public_key_pem().contains("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"));
    }

    #[test]
    fn kid_is_stable_and_differs_between_keys() {
        let a = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
        let again = SigningKey::from_pkcs8_pem(&a.private_key_pem()).unwrap();
        let b = SigningKey::from_pkcs8_pem(FOREIGN_KEY_PEM).unwrap();
        assert_eq!(a.kid(), again.kid());
        assert_ne!(a.kid(), b.kid());
    }

    #[test]
    fn key_file_round_trips_and_rotation_keeps_old_key_published() {
        let dir = std::env::temp_dir().join(format!("mock-clerk-keys-{}", std::process::id()));
        let path = dir.join("keys.pem");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, TEST_KEY_PEM).unwrap();
        let mut ring = KeyRing::load_or_create(&path).unwrap();
        let old = ring.active().kid().to_owned();
        ring.rotate_to(SigningKey::from_pkcs8_pem(FOREIGN_KEY_PEM).unwrap()).unwrap();
        let reloaded = KeyRing::load_or_create(&path).unwrap();
        let kids: Vec<_> = reloaded.jwks().keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, vec![ring.active().kid().to_owned(), old.clone()]);
        let active = ring.active().kid().to_owned();
        assert!(matches!(ring.retire(&active), Err(KeyError::RetireActiveKey(_))));
        ring.retire(&old).unwrap();
        assert_eq!(KeyRing::load_or_create(&path).unwrap().keys().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn garbage_key_file_is_a_clear_error() {
        let err = KeyRing::parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", Path::new("x.pem"));
        assert!(matches!(err, Err(KeyError::KeyFileRejected { index: 0, .. })), "{err:?}");
        assert!(matches!(KeyRing::parse("hello", Path::new("x.pem")), Err(KeyError::KeyFileEmpty(_))));
    }
}
