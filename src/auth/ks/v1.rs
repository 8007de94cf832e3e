//! The v1 format: `base64(sha1_hex(admin_secret + fields) + "|" + fields)`, where `fields` is
//! `partner;partner;expiry;type;rand;user;privileges;master_partner;additional` and an absent
//! value is written as an empty string.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use super::{Ks, KsError, KsFields, KsVersion, NewKs, Seal};

/// Returns the lowercase hex SHA-1 of `secret + fields`.
pub(super) fn sign(secret: &str, fields: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(secret.as_bytes());
    hasher.update(fields.as_bytes());
    hex::encode(hasher.finalize())
}

/// Returns a value for the `rand` field: the current Unix time in whole seconds plus a random
/// fraction. Kaltura writes `microtime(true)` there, and the random fraction keeps two KS
/// strings created in the same second apart.
pub(super) fn random_field() -> f64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    seconds as f64 + rand::random::<f64>()
}

/// Encodes `ks` with `random` as its `rand` field, written with four decimals.
pub(super) fn encode(admin_secret: &str, ks: &NewKs<'_>, random: f64) -> String {
    let master_partner_id = ks
        .master_partner_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    let fields = format!(
        "{partner};{partner};{expiry};{session_type};{random:.4};{user};{privileges};{master_partner_id};{additional}",
        partner = ks.partner_id,
        expiry = ks.expiry,
        session_type = ks.session_type as i64,
        user = ks.user_id,
        privileges = ks.privileges,
        additional = ks.additional_data.unwrap_or_default(),
    );

    let signature = sign(admin_secret, &fields);
    STANDARD.encode(format!("{signature}|{fields}"))
}

/// Reads the fields of a base64-decoded v1 KS. A `;` inside the user id or the privileges
/// shifts the fields after it, as it does in Kaltura.
pub(super) fn parse(decoded: &[u8]) -> Result<Ks, KsError> {
    let text = std::str::from_utf8(decoded).map_err(|_| KsError::InvalidString)?;
    let (signature, fields) = text.split_once('|').ok_or(KsError::InvalidString)?;

    let parts: Vec<&str> = fields.split(';').collect();
    if parts.len() < 3 || signature.len() != 40 {
        return Err(KsError::InvalidString);
    }

    let number = |i: usize| parts.get(i).and_then(|part| part.parse::<i64>().ok());
    let text_at = |i: usize| parts.get(i).copied().unwrap_or_default().to_string();
    let partner_id = number(0).ok_or(KsError::InvalidString)?;
    let read = KsFields {
        expiry: number(2).ok_or(KsError::InvalidString)?,
        session_type: number(3).unwrap_or(0),
        user_id: text_at(5),
        privileges: text_at(6),
        privilege_map: super::privileges::parse_map(&text_at(6)),
        master_partner_id: number(7),
        additional_data: Some(text_at(8)).filter(|data| !data.is_empty()),
    };
    let seal = Seal::Signed {
        signature: signature.to_string(),
        fields: fields.to_string(),
    };
    Ok(Ks::new(KsVersion::V1, partner_id, read, seal))
}

#[cfg(test)]
mod tests {
    use super::super::{SessionType, parse_ks};
    use super::*;

    #[test]
    fn encode_matches_fixed_vector() {
        let ks = NewKs {
            partner_id: 101,
            session_type: SessionType::Admin,
            user_id: "alice",
            privileges: "edit:0_abc,list:*",
            expiry: 1_700_003_600,
            master_partner_id: Some(7),
            additional_data: Some("extra"),
        };

        // fields = "101;101;1700003600;2;1700000000.2500;alice;edit:0_abc,list:*;7;extra"
        // signature = sha1_hex("secret" + fields), computed outside Rust with Python's hashlib.
        let signature = "73e8c6924df42572c189390579adcd1248afe8f7";
        let fields = "101;101;1700003600;2;1700000000.2500;alice;edit:0_abc,list:*;7;extra";
        let expected = STANDARD.encode(format!("{signature}|{fields}"));

        assert_eq!(encode("secret", &ks, 1_700_000_000.25), expected);
    }

    #[test]
    fn parse_reads_every_field() {
        let ks = NewKs {
            partner_id: 101,
            session_type: SessionType::Admin,
            user_id: "alice",
            privileges: "edit:0_abc,list:*",
            expiry: 1_700_003_600,
            master_partner_id: Some(7),
            additional_data: Some("extra"),
        };
        let parsed = parse_ks(&encode("secret", &ks, 1_700_000_000.25)).unwrap();

        assert_eq!(parsed.version, KsVersion::V1);
        assert_eq!(parsed.partner_id, 101);
        assert_eq!(parsed.expiry, 1_700_003_600);
        assert_eq!(parsed.session_type, 2);
        assert_eq!(parsed.user_id, "alice");
        assert_eq!(parsed.privileges, "edit:0_abc,list:*");
        assert_eq!(parsed.master_partner_id, Some(7));
        assert_eq!(parsed.additional_data.as_deref(), Some("extra"));
        assert!(parsed.is_open());
    }

    #[test]
    fn parse_rejects_short_fields() {
        let signature = "0".repeat(40);
        let text = STANDARD.encode(format!("{signature}|101;101"));

        assert_eq!(parse_ks(&text), Err(KsError::InvalidString));
    }
}
