//! KS tickets in the Kaltura v1 format.
//!
//! A v1 KS is `base64(sha1_hex(admin_secret + fields) + "|" + fields)`, where `fields`
//! is `partner;partner;expiry;type;rand;user;privileges;master_partner;additional`.
//! The signature always uses the partner's admin secret, whatever the session type.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// `KalturaSessionType`: 0 user, 2 admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionType {
    User = 0,
    Admin = 2,
}

/// A parsed KS. The signature is checked separately, against the partner's secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Ks {
    pub partner_id: i64,
    /// Unix time after which the KS is no longer valid.
    pub expiry: i64,
    /// Raw session type; any value of 1 or more counts as admin.
    pub session_type: i64,
    pub user_id: String,
    pub privileges: String,
    signature: String,
    signed_fields: String,
}

/// Reason a KS was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KsError {
    #[error("ks is not a valid ks string")]
    InvalidString,
    #[error("ks signature does not match the partner's secret")]
    InvalidSignature,
    #[error("ks belongs to partner {ks_partner}, not {expected}")]
    WrongPartner { ks_partner: i64, expected: i64 },
    #[error("ks expired at {expiry}")]
    Expired { expiry: i64 },
}

impl Ks {
    pub fn is_admin(&self) -> bool {
        self.session_type >= 1
    }

    /// Checks the signature against `admin_secret`, the partner, and the expiry.
    pub fn verify(&self, partner_id: i64, admin_secret: &str, now: i64) -> Result<(), KsError> {
        if self.partner_id != partner_id {
            return Err(KsError::WrongPartner {
                ks_partner: self.partner_id,
                expected: partner_id,
            });
        }
        if sign(admin_secret, &self.signed_fields) != self.signature {
            return Err(KsError::InvalidSignature);
        }
        if self.expiry <= now {
            return Err(KsError::Expired {
                expiry: self.expiry,
            });
        }
        Ok(())
    }
}

fn sign(secret: &str, fields: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(secret.as_bytes());
    hasher.update(fields.as_bytes());
    hex::encode(hasher.finalize())
}

/// Parses a v1 KS; URL-safe base64 (`-`, `_`) is accepted as well as standard.
pub fn parse_ks(ks: &str) -> Result<Ks, KsError> {
    let normalized: String = ks
        .trim()
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    let decoded = STANDARD
        .decode(normalized.as_bytes())
        .map_err(|_| KsError::InvalidString)?;
    let text = String::from_utf8(decoded).map_err(|_| KsError::InvalidString)?;
    let (signature, fields) = text.split_once('|').ok_or(KsError::InvalidString)?;

    let parts: Vec<&str> = fields.split(';').collect();
    if parts.len() < 3 || signature.len() != 40 {
        return Err(KsError::InvalidString);
    }
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok());
    Ok(Ks {
        partner_id: number(0).ok_or(KsError::InvalidString)?,
        expiry: number(2).ok_or(KsError::InvalidString)?,
        session_type: number(3).unwrap_or(0),
        user_id: parts.get(5).unwrap_or(&"").to_string(),
        privileges: parts.get(6).unwrap_or(&"").to_string(),
        signature: signature.to_string(),
        signed_fields: fields.to_string(),
    })
}

/// Creates a v1 KS valid for `lifetime` seconds from `now`.
pub fn create_ks_v1(
    partner_id: i64,
    admin_secret: &str,
    session_type: SessionType,
    user_id: &str,
    privileges: &str,
    now: i64,
    lifetime: i64,
) -> String {
    let random: f64 = rand::random::<f64>() + now as f64;
    let fields = format!(
        "{partner_id};{partner_id};{};{};{random:.4};{user_id};{privileges};;",
        now + lifetime,
        session_type as i64,
    );
    let signature = sign(admin_secret, &fields);
    STANDARD.encode(format!("{signature}|{fields}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn created_ks_verifies() {
        let ks = create_ks_v1(101, "secret", SessionType::Admin, "alice", "*", NOW, 3600);
        let parsed = parse_ks(&ks).unwrap();
        assert_eq!(parsed.partner_id, 101);
        assert!(parsed.is_admin());
        assert_eq!(parsed.verify(101, "secret", NOW), Ok(()));
    }

    #[test]
    fn wrong_secret_fails_signature() {
        let ks = create_ks_v1(101, "secret", SessionType::User, "", "", NOW, 3600);
        let parsed = parse_ks(&ks).unwrap();
        assert_eq!(
            parsed.verify(101, "other", NOW),
            Err(KsError::InvalidSignature)
        );
    }

    #[test]
    fn expiry_and_partner_are_checked() {
        let ks = create_ks_v1(101, "secret", SessionType::User, "", "", NOW, 60);
        let parsed = parse_ks(&ks).unwrap();
        assert!(matches!(
            parsed.verify(101, "secret", NOW + 60),
            Err(KsError::Expired { .. })
        ));
        assert!(matches!(
            parsed.verify(102, "secret", NOW),
            Err(KsError::WrongPartner { .. })
        ));
    }

    #[test]
    fn garbage_is_invalid_string() {
        assert_eq!(parse_ks("not-a-ks"), Err(KsError::InvalidString));
        assert_eq!(parse_ks(""), Err(KsError::InvalidString));
    }

    #[test]
    fn url_safe_alphabet_is_accepted() {
        let ks = create_ks_v1(7, "s", SessionType::User, "", "", NOW, 60);
        let url_safe = ks.replace('+', "-").replace('/', "_");
        assert!(parse_ks(&url_safe).is_ok());
    }
}
