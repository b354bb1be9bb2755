//! API keys: `{id}.{secret}`. Only the id is stored in plain text; the whole key is
//! stored as HMAC-SHA256 under a server-side pepper and compared in constant time.

use crate::{AuthError, ConfigError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use rand::RngCore;
use relinx_model::ApiKeyId;
use std::fmt;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Random bytes in a secret: 384 bits, 64 base64url characters.
const SECRET_BYTES: usize = 48;
/// Characters of a key id derived from the rest under the pepper (≈ 24 bits).
const CHECK_CHARS: usize = 4;
/// The shortest secret accepted from a caller (256 bits in base64url).
const MIN_SECRET_CHARS: usize = 43;

/// A whole key as shown to its owner once. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// A fresh key for `id`.
    pub fn generate(id: &ApiKeyId) -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{id}.{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// A key as a caller presented it, checked for shape but not yet verified.
pub struct PresentedKey<'a> {
    pub id: ApiKeyId,
    pub whole: &'a str,
}

impl<'a> PresentedKey<'a> {
    pub fn parse(raw: &'a str) -> Result<Self, AuthError> {
        let (id, secret) = raw.split_once('.').ok_or(AuthError::Malformed)?;
        let id = ApiKeyId::parse(id).ok_or(AuthError::Malformed)?;
        let secret_ok = secret.len() >= MIN_SECRET_CHARS
            && secret.len() <= 512
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !secret_ok {
            return Err(AuthError::Malformed);
        }
        Ok(Self { id, whole: raw })
    }
}

/// Hashes keys under the deployment's pepper.
#[derive(Clone)]
pub struct KeyHasher {
    pepper: Vec<u8>,
}

impl KeyHasher {
    pub fn new(pepper: &[u8]) -> Result<Self, ConfigError> {
        if pepper.len() < 32 {
            return Err(ConfigError(
                "the key pepper must be at least 32 bytes".to_owned(),
            ));
        }
        Ok(Self {
            pepper: pepper.to_vec(),
        })
    }

    fn mac(&self, key: &str) -> HmacSha256 {
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.pepper)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(key.as_bytes());
        mac
    }

    /// A new key id: 12 random characters and 4 derived from them under the pepper.
    /// Only this deployment can make an id that passes [`Self::issued_id`], so a
    /// request with a made-up key is refused without a database read.
    pub fn new_key_id(&self) -> ApiKeyId {
        let random = ApiKeyId::generate();
        let head = &random.as_str()[..ApiKeyId::LEN - CHECK_CHARS];
        let id = format!("{head}{}", self.id_check(head));
        ApiKeyId::parse(&id).unwrap_or(random)
    }

    /// Whether `id` is one this deployment issued (its check characters match).
    pub fn issued_id(&self, id: &ApiKeyId) -> bool {
        let (head, check) = id.as_str().split_at(ApiKeyId::LEN - CHECK_CHARS);
        self.id_check(head) == check
    }

    fn id_check(&self, head: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let digest = self
            .mac(&format!("relinx key id v1: {head}"))
            .finalize()
            .into_bytes();
        digest[..CHECK_CHARS]
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect()
    }

    /// The stored form of a key: base64url of HMAC-SHA256(pepper, key).
    pub fn hash(&self, key: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(key).finalize().into_bytes())
    }

    /// Constant-time comparison of a presented key with a stored hash.
    pub fn verify(&self, key: &str, stored_hash: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(stored_hash) {
            Ok(expected) => self.mac(key).verify_slice(&expected).is_ok(),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHasher(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> KeyHasher {
        KeyHasher::new(&[7u8; 32]).expect("pepper long enough")
    }

    #[test]
    fn generated_keys_parse_and_verify() {
        let id = ApiKeyId::generate();
        let key = SecretKey::generate(&id);
        let presented = PresentedKey::parse(key.expose()).expect("well formed");
        assert_eq!(presented.id, id);
        let hash = hasher().hash(key.expose());
        assert!(hasher().verify(key.expose(), &hash));
        assert!(
            !hash.contains(
                key.expose()
                    .split_once('.')
                    .map(|(_, s)| s)
                    .unwrap_or_default()
            )
        );
    }

    #[test]
    fn another_pepper_or_key_does_not_verify() {
        let id = ApiKeyId::generate();
        let key = SecretKey::generate(&id);
        let hash = hasher().hash(key.expose());
        let other = KeyHasher::new(&[8u8; 32]).expect("pepper long enough");
        assert!(!other.verify(key.expose(), &hash));
        let rotated = SecretKey::generate(&id);
        assert!(!hasher().verify(rotated.expose(), &hash));
        assert!(!hasher().verify(key.expose(), "not base64 !"));
    }

    #[test]
    fn malformed_keys_are_refused() {
        for raw in [
            "",
            "nodot",
            "short.secretsecretsecretsecretsecretsecretsecret",
            "AAAAAAAAAAAAAAAA.tooshort",
            "AAAAAAAAAAAAAAAA.has spaces in it and is long enough to pass length",
        ] {
            assert!(PresentedKey::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn only_this_deployment_issues_ids_that_check() {
        let id = hasher().new_key_id();
        assert!(hasher().issued_id(&id));
        let other = KeyHasher::new(&[8u8; 32]).expect("pepper long enough");
        assert!(!other.issued_id(&id));
        let forged = (0..1000)
            .filter(|_| hasher().issued_id(&ApiKeyId::generate()))
            .count();
        assert!(
            forged <= 1,
            "random ids pass about once in 14 million: {forged} of 1000"
        );
    }

    #[test]
    fn short_peppers_are_refused() {
        assert!(KeyHasher::new(b"short").is_err());
    }

    #[test]
    fn secrets_never_print() {
        let key = SecretKey::generate(&ApiKeyId::generate());
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }
}

/// Seals short secrets (an invite's URL inside its `user.invited` event) so that no
/// stored item holds them in the clear: AES-256-GCM under a key derived from the
/// pepper. Whoever delivers the event (the dispatcher) opens it.
pub struct Sealer {
    key: aws_lc_rs::aead::LessSafeKey,
}

impl Sealer {
    /// The sealer of `hasher`'s deployment, for one `purpose`.
    pub fn new(hasher: &KeyHasher, purpose: &str) -> Self {
        let derived = hasher
            .mac(&format!("relinx seal v1: {purpose}"))
            .finalize()
            .into_bytes();
        // A 32-byte key always fits AES-256.
        let unbound = aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &derived)
            .unwrap_or_else(|_| unreachable!("HMAC-SHA256 output is an AES-256 key"));
        Self {
            key: aws_lc_rs::aead::LessSafeKey::new(unbound),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let mut buffer = plaintext.as_bytes().to_vec();
        let sealed = self.key.seal_in_place_append_tag(
            aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
            aws_lc_rs::aead::Aad::empty(),
            &mut buffer,
        );
        if sealed.is_err() {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        URL_SAFE_NO_PAD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, rest) = bytes.split_at(12);
        let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aws_lc_rs::aead::Aad::empty(), &mut buffer)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(***)")
    }
}

#[cfg(test)]
mod seal_tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_the_same_pepper_and_purpose() {
        let hasher = KeyHasher::new(&[3u8; 32]).expect("pepper");
        let sealer = Sealer::new(&hasher, "invite");
        let sealed = sealer.seal("https://x.example/v1/invites/secret-token/accept");
        assert!(!sealed.contains("secret-token"));
        assert_eq!(
            sealer.open(&sealed).as_deref(),
            Some("https://x.example/v1/invites/secret-token/accept")
        );
        assert_eq!(Sealer::new(&hasher, "other").open(&sealed), None);
        let other = KeyHasher::new(&[4u8; 32]).expect("pepper");
        assert_eq!(Sealer::new(&other, "invite").open(&sealed), None);
        assert_eq!(sealer.open("garbage"), None);
    }
}
