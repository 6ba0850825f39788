//! Second factors: a user's authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 s steps, one step of
//! drift either way, each step accepted once), backup codes (single use) and phone numbers for SMS codes; and
//! the factor ages a session token carries (`fva`). Times are mock-clerk's virtual clock.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::ids::new_id;
use crate::store::{NewUser, Session, StoreError, User};

/// TOTP step length, seconds (Clerk: 30).
pub const TOTP_STEP_SECS: u64 = 30;
/// TOTP code length (Clerk: 6).
pub const TOTP_DIGITS: u8 = 6;
/// Steps of clock drift accepted either side of the current one.
pub const TOTP_SKEW: u16 = 1;
/// `fva`'s second element when no second factor was verified.
pub const FVA_NEVER: i64 = -1;

/// A phone number (`PhoneNumber` of the Backend API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// `idn_…`.
    pub id: String,
    /// E.164.
    pub phone_number: String,
    /// Used for SMS codes as a second factor.
    #[serde(default)]
    pub reserved_for_second_factor: bool,
    /// The second factor offered first.
    #[serde(default)]
    pub default_second_factor: bool,
}

/// A user's second factors. Secrets are never shown by the Backend or Frontend API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMfa {
    /// The authenticator app's secret (base32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted (a code of that step or an earlier one is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_last_step: Option<u64>,
    /// Digests of the unused backup codes ([`crate::store::Store::use_backup_code`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
    /// Phone numbers; the first is primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
}

impl UserMfa {
    /// What a new user starts with.
    pub fn new(totp_secret: Option<String>, backup_codes: Vec<String>, phone_numbers: Vec<PhoneNumber>) -> Self {
        Self { totp_secret: totp_secret.map(|s| normalise_secret(&s)), totp_last_step: None, backup_codes, phone_numbers }
    }
    /// `totp_enabled`.
    pub fn totp_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }
    /// `backup_code_enabled`.
    pub fn backup_code_enabled(&self) -> bool {
        !self.backup_codes.is_empty()
    }
    /// Phone numbers reserved for second factor.
    pub fn second_factor_phones(&self) -> impl Iterator<Item = &PhoneNumber> {
        self.phone_numbers.iter().filter(|p| p.reserved_for_second_factor)
    }
    /// `two_factor_enabled`: TOTP or an SMS phone (backup codes alone do not make a second factor).
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_enabled() || self.second_factor_phones().next().is_some()
    }
}

fn normalise_secret(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '=').collect::<String>().to_ascii_uppercase()
}

/// The TOTP generator for a base32 secret; `None` if it does not decode.
fn totp(secret: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(normalise_secret(secret)).ok()?;
    if bytes.as_ref().is_empty() {
        return None;
    }
    Some(
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(TOTP_DIGITS)
            .with_skew(TOTP_SKEW)
            .with_step_duration(TOTP_STEP_SECS)
            .with_secret(bytes)
            .build_noncompliant(),
    )
}

fn secs(now_ms: i64) -> u64 {
    u64::try_from(now_ms.max(0) / 1000).unwrap_or(0)
}

/// A fresh authenticator secret: 20 random bytes in base32 (32 characters), as Clerk makes them.
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the system random source works");
    Secret::from(bytes).to_base32()
}

/// The code an authenticator app shows at `now_ms` (`None` for a secret that does not decode).
pub fn totp_code(secret: &str, now_ms: i64) -> Option<String> {
    totp(secret).map(|t| t.generate(secs(now_ms)).to_string())
}

/// The step a code belongs to, if it is right at `now_ms` (± [`TOTP_SKEW`] steps).
pub fn totp_step(secret: &str, code: &str, now_ms: i64) -> Option<u64> {
    totp(secret)?.check(code.trim(), secs(now_ms))
}

/// Checks what `POST /v1/users` says about second factors; returns the phone numbers to create.
/// `taken` tells whether another user holds a phone number.
pub fn check_new(new: &NewUser, taken: impl Fn(&str) -> bool) -> Result<Vec<PhoneNumber>, StoreError> {
    if let Some(secret) = &new.totp_secret
        && totp(secret).is_none()
    {
        return Err(StoreError::InvalidParam { param: "totp_secret", message: "is not a base32-encoded secret".into() });
    }
    if new.backup_codes.iter().any(|c| c.trim().is_empty() || c.len() > 64) {
        return Err(StoreError::InvalidParam { param: "backup_codes", message: "each backup code has 1 to 64 characters".into() });
    }
    let mut phones: Vec<PhoneNumber> = Vec::new();
    for phone in &new.phone_number {
        let digits = phone.strip_prefix('+').unwrap_or("");
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StoreError::InvalidParam {
                param: "phone_number",
                message: format!("{phone:?} is not a phone number in E.164 format (+ and 8 to 15 digits)"),
            });
        }
        if taken(phone) || phones.iter().any(|p| &p.phone_number == phone) {
            return Err(StoreError::IdentifierTaken { param: "phone_number", value: phone.clone() });
        }
        phones.push(PhoneNumber {
            id: new_id(crate::ids::prefix::EMAIL),
            phone_number: phone.clone(),
            reserved_for_second_factor: false,
            default_second_factor: false,
        });
    }
    Ok(phones)
}

/// `+1••••••0100`: the number as the sign-in shows it (`safe_identifier`).
pub fn safe_phone(phone: &str) -> String {
    let n = phone.chars().count();
    phone.chars().enumerate().map(|(i, c)| if i < 2 || i + 4 >= n { c } else { '•' }).collect()
}

/// `PhoneNumber` JSON of the Backend API (the Frontend API shows the same).
pub fn phone_json(user: &User, p: &PhoneNumber) -> Value {
    json!({
        "id": p.id,
        "object": "phone_number",
        "phone_number": p.phone_number,
        "reserved_for_second_factor": p.reserved_for_second_factor,
        "default_second_factor": p.default_second_factor,
        "reserved": false,
        "verification": crate::bapi::views::verification_admin_json(),
        "linked_to": [],
        "backup_codes": null,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    })
}

/// What `GET /__mock/users/{id}/totp` shows: the user's authenticator secret and the code it shows now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpView {
    /// Base32.
    pub secret: String,
    /// The code at mock-clerk's current (virtual) time.
    pub code: String,
    /// Seconds until the code changes.
    pub seconds_left: u64,
}

/// The user's authenticator secret and current code, or `None` if the user has no authenticator app.
pub fn totp_view(user: &User, now_ms: i64) -> Option<TotpView> {
    let secret = user.mfa.totp_secret.clone()?;
    let code = totp_code(&secret, now_ms)?;
    Some(TotpView { secret, code, seconds_left: TOTP_STEP_SECS - secs(now_ms) % TOTP_STEP_SECS })
}

/// Minutes since `at` (whole minutes, as Clerk counts them).
fn minutes_since(at: i64, now_ms: i64) -> i64 {
    (now_ms - at).max(0) / 60_000
}

/// `fva`: `[minutes since the first factor, minutes since the second factor or -1]` at `now_ms`.
pub fn fva(session: &Session, now_ms: i64) -> [i64; 2] {
    let first = minutes_since(session.first_factor_verified_at.unwrap_or(session.created_at), now_ms);
    let second = session.second_factor_verified_at.map_or(FVA_NEVER, |at| minutes_since(at, now_ms));
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the secret `12345678901234567890`, 8-digit codes; the last 6 digits are the
    /// 6-digit code.
    #[test]
    fn codes_match_rfc_6238() {
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        for (t, code8) in [(59_i64, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (2_000_000_000, "69279037")] {
            assert_eq!(totp_code(secret, t * 1000).unwrap(), code8[2..], "t = {t}");
        }
    }

    #[test]
    fn new_secrets_are_32_base32_characters() {
        let s = new_totp_secret();
        assert_eq!(s.len(), 32);
        assert!(totp_code(&s, 0).is_some());
        assert_ne!(s, new_totp_secret());
    }

    #[test]
    fn one_step_of_drift_is_accepted_either_way() {
        let secret = "JBSWY3DPEHPK3PXP";
        let now = 1_800_000_000_000;
        let code = totp_code(secret, now).unwrap();
        let step = totp_step(secret, &code, now).unwrap();
        assert_eq!(totp_step(secret, &code, now + 30_000), Some(step));
        assert_eq!(totp_step(secret, &code, now - 30_000), Some(step));
        assert_eq!(totp_step(secret, &code, now + 90_000), None);
        assert_eq!(totp_step(secret, "12345", now), None);
        assert_eq!(totp_step("not base32!", &code, now), None);
    }

    #[test]
    fn phones_are_masked_and_checked() {
        assert_eq!(safe_phone("+12015550100"), "+1••••••0100");
        let bad = NewUser { phone_number: vec!["555".into()], ..NewUser::default() };
        assert!(matches!(check_new(&bad, |_| false), Err(StoreError::InvalidParam { param: "phone_number", .. })));
        let dup = NewUser { phone_number: vec!["+12015550100".into()], ..NewUser::default() };
        assert!(matches!(check_new(&dup, |_| true), Err(StoreError::IdentifierTaken { param: "phone_number", .. })));
        let secret = NewUser { totp_secret: Some("1!".into()), ..NewUser::default() };
        assert!(matches!(check_new(&secret, |_| false), Err(StoreError::InvalidParam { param: "totp_secret", .. })));
    }
}
