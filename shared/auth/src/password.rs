//! Passwords are stored as argon2id PHC strings (memory-hard, salted).

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use relinx_model::Password;

/// The PHC string to store for `password`.
pub fn hash(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
}

/// Whether `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real check when there is no user to check against, so
/// response time does not tell which e-mail addresses are registered.
pub fn verify_against_nothing(password: &str) {
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7uP4k1T5NuAc0cKFTD0uG8YhrsI2uS2S9Q3ZyBk1bsc";
    let _ = verify(password, DECOY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_hide_the_password() {
        let password = Password::parse("password", "correct horse battery".into()).expect("valid");
        let stored = hash(&password).expect("hashes");
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains("horse"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("wrong horse battery", &stored));
        assert!(!verify("correct horse battery", "garbage"));
    }
}
