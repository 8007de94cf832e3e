//! KS tickets (Kaltura sessions) in the v1 and v2 formats.
//!
//! A v1 KS is signed and readable by anyone: `base64(sha1_hex(admin_secret + fields) + "|" +
//! fields)`. A v2 KS is `base64("v2|" + partner_id + "|" + ciphertext)`, where the fields are
//! AES-encrypted with a key derived from the admin secret, so only the partner id can be read
//! without the secret. Both formats use the partner's admin secret, whatever the session type.

mod privileges;
mod v1;
mod v2;

pub use privileges::PrivilegeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// `KalturaSessionType`: 0 user, 2 admin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionType {
    #[default]
    User = 0,
    Admin = 2,
}

/// KS string format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KsVersion {
    /// Signed plain text.
    #[default]
    V1 = 1,
    /// AES-128-CBC ciphertext.
    V2 = 2,
}

impl KsVersion {
    /// Picks the format from a partner's `ks_version` setting: 2 selects v2, any other value
    /// or none selects v1.
    pub fn from_setting(setting: Option<u8>) -> Self {
        match setting {
            Some(2) => Self::V2,
            _ => Self::V1,
        }
    }
}

/// Contents of a KS to create.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewKs<'a> {
    pub partner_id: i64,
    pub session_type: SessionType,
    /// Empty for an anonymous session.
    pub user_id: &'a str,
    /// Comma list of `name` or `name:value` entries, where a lone `*` grants every privilege.
    pub privileges: &'a str,
    /// Unix time after which the KS is no longer valid.
    pub expiry: i64,
    pub master_partner_id: Option<i64>,
    pub additional_data: Option<&'a str>,
}

/// A KS read from its string form.
///
/// A v1 KS carries its fields in plain text, so [`parse_ks`] fills them all. A v2 KS is
/// encrypted: [`parse_ks`] reads only `partner_id`, and the other fields stay empty (a user
/// session without privileges) until [`Ks::open`], [`Ks::verify_and_open`] or [`verify_ks`]
/// decrypts them with the partner's admin secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Ks {
    pub version: KsVersion,
    pub partner_id: i64,
    /// Unix time after which the KS is no longer valid.
    pub expiry: i64,
    /// Raw session type; any value of 1 or more counts as admin.
    pub session_type: i64,
    pub user_id: String,
    /// Comma list of `name` or `name:value` entries, or `*` for every privilege.
    pub privileges: String,
    /// `privileges` by name, each with its `/`-separated values. A lone `*` is stored as
    /// `"*": []` in a v1 KS and as `"all": ["*"]` in a v2 KS, as Kaltura stores them.
    pub privilege_map: PrivilegeMap,
    pub master_partner_id: Option<i64>,
    pub additional_data: Option<String>,
    seal: Seal,
}

/// Proof that a KS was issued with the admin secret.
#[derive(Clone, Debug, PartialEq)]
enum Seal {
    /// v1: the hex SHA-1 signature and the field text it signs.
    Signed { signature: String, fields: String },
    /// v2: the AES ciphertext, and whether the fields were decrypted from it.
    Encrypted {
        ciphertext: Vec<u8>,
        decrypted: bool,
    },
}

/// Fields shared by both formats, as read from a KS.
#[derive(Clone, Debug, Default, PartialEq)]
struct KsFields {
    expiry: i64,
    session_type: i64,
    user_id: String,
    privileges: String,
    privilege_map: PrivilegeMap,
    master_partner_id: Option<i64>,
    additional_data: Option<String>,
}

/// Reason a KS was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KsError {
    #[error("ks is not a valid ks string")]
    InvalidString,
    #[error("ks was not signed or encrypted with the partner's admin secret")]
    InvalidSignature,
    #[error("ks belongs to partner {ks_partner}, not {expected}")]
    WrongPartner { ks_partner: i64, expected: i64 },
    #[error("ks expired at {expiry}")]
    Expired { expiry: i64 },
}

impl Ks {
    fn new(version: KsVersion, partner_id: i64, fields: KsFields, seal: Seal) -> Self {
        Self {
            version,
            partner_id,
            expiry: fields.expiry,
            session_type: fields.session_type,
            user_id: fields.user_id,
            privileges: fields.privileges,
            privilege_map: fields.privilege_map,
            master_partner_id: fields.master_partner_id,
            additional_data: fields.additional_data,
            seal,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.session_type >= 1
    }

    /// True when every field has been read: always for v1, after decryption for v2.
    pub fn is_open(&self) -> bool {
        match self.seal {
            Seal::Signed { .. } => true,
            Seal::Encrypted { decrypted, .. } => decrypted,
        }
    }

    /// Checks the seal with `admin_secret` and returns the KS with every field read.
    /// A v1 KS must carry the secret's signature, and a v2 KS must decrypt with the secret
    /// to a payload whose SHA-1 matches. Expiry and partner are not checked here.
    pub fn open(&self, admin_secret: &str) -> Result<Ks, KsError> {
        match &self.seal {
            Seal::Signed { signature, fields } => {
                if !constant_time_eq(
                    v1::sign(admin_secret, fields).as_bytes(),
                    signature.as_bytes(),
                ) {
                    return Err(KsError::InvalidSignature);
                }
                Ok(self.clone())
            }
            Seal::Encrypted { ciphertext, .. } => {
                v2::decrypt(self.partner_id, ciphertext, admin_secret)
            }
        }
    }

    /// Checks the partner, the seal against `admin_secret` and the expiry, in that order.
    ///
    /// `self` keeps its fields, so a v2 KS from [`parse_ks`] still reads as a user session
    /// with no user and no privileges afterwards. Use [`Ks::verify_and_open`] to read them.
    pub fn verify(&self, partner_id: i64, admin_secret: &str, now: i64) -> Result<(), KsError> {
        self.verify_and_open(partner_id, admin_secret, now)
            .map(drop)
    }

    /// Checks the KS as [`Ks::verify`] does and returns it with every field read.
    pub fn verify_and_open(
        &self,
        partner_id: i64,
        admin_secret: &str,
        now: i64,
    ) -> Result<Ks, KsError> {
        if self.partner_id != partner_id {
            return Err(KsError::WrongPartner {
                ks_partner: self.partner_id,
                expected: partner_id,
            });
        }

        let opened = self.open(admin_secret)?;

        if opened.expiry <= now {
            return Err(KsError::Expired {
                expiry: opened.expiry,
            });
        }
        Ok(opened)
    }

    /// Tells whether the privileges grant `name` with `value`, by Kaltura's rules: the
    /// privileges are exactly `*`, contain `name:*` or `name:value` as a substring (so
    /// `edit:0_ab` also grants `edit:0_a`), or list `value` among the values of `name`.
    pub fn verify_privilege(&self, name: &str, value: &str) -> bool {
        privileges::grants(&self.privileges, &self.privilege_map, name, value)
    }
}

/// Compares two byte strings without stopping at the first difference, so that the time to
/// reject a KS does not reveal how many leading bytes of its signature were right.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    let difference = left
        .iter()
        .zip(right)
        .fold(0, |bits, (a, b)| bits | (a ^ b));
    left.len() == right.len() && difference == 0
}

/// Parses a v1 or v2 KS. Both the standard and the URL-safe (`-`, `_`) base64 alphabets are
/// accepted. Nothing is verified, and a v2 KS has only its partner id read (see [`Ks`]).
pub fn parse_ks(text: &str) -> Result<Ks, KsError> {
    let normalized: String = text
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

    if decoded.starts_with(v2::PREFIX) {
        v2::parse_envelope(&decoded)
    } else {
        v1::parse(&decoded)
    }
}

/// Parses `text`, checks its partner, seal and expiry, and returns the KS with every field
/// read. Errors keep the causes apart: an unparseable string, a seal that does not match
/// `admin_secret`, an expiry at or before `now`, or a KS of another partner.
pub fn verify_ks(text: &str, partner_id: i64, admin_secret: &str, now: i64) -> Result<Ks, KsError> {
    parse_ks(text)?.verify_and_open(partner_id, admin_secret, now)
}

/// Creates a KS in the given format, signed or encrypted with `admin_secret`.
///
/// NOTE: when the privileges include `downloadasset`, Kaltura rounds the expiry up to a
/// multiple of 300 s and derives the random part from it, so its strings repeat. Here the
/// expiry is kept as given and the random part is always fresh.
pub fn create_ks(version: KsVersion, admin_secret: &str, ks: &NewKs<'_>) -> String {
    match version {
        KsVersion::V1 => v1::encode(admin_secret, ks, v1::random_field()),
        KsVersion::V2 => v2::encode(admin_secret, ks, rand::random()),
    }
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
    let ks = NewKs {
        partner_id,
        session_type,
        user_id,
        privileges,
        expiry: now + lifetime,
        ..NewKs::default()
    };
    create_ks(KsVersion::V1, admin_secret, &ks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn new_ks(privileges: &str, lifetime: i64) -> NewKs<'_> {
        NewKs {
            partner_id: 101,
            session_type: SessionType::Admin,
            user_id: "alice",
            privileges,
            expiry: NOW + lifetime,
            ..NewKs::default()
        }
    }

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
        assert_eq!(
            parse_ks("djJ8"),
            Err(KsError::InvalidString),
            "bare v2 prefix"
        );
    }

    #[test]
    fn url_safe_alphabet_is_accepted() {
        let ks = create_ks_v1(7, "s", SessionType::User, "", "", NOW, 60);
        let url_safe = ks.replace('+', "-").replace('/', "_");
        assert!(parse_ks(&url_safe).is_ok());
    }

    #[test]
    fn v2_round_trip_verifies() {
        let text = create_ks(KsVersion::V2, "secret", &new_ks("edit:0_a", 3600));

        let ks = verify_ks(&text, 101, "secret", NOW).unwrap();

        assert_eq!(ks.version, KsVersion::V2);
        assert!(ks.is_admin());
        assert_eq!(ks.user_id, "alice");
        assert_eq!(ks.privileges, "edit:0_a");
        assert_eq!(parse_ks(&text).unwrap().verify(101, "secret", NOW), Ok(()));
    }

    #[test]
    fn v2_verify_leaves_parsed_fields_sealed() {
        let text = create_ks(KsVersion::V2, "secret", &new_ks("edit:0_a", 3600));
        let parsed = parse_ks(&text).unwrap();

        assert_eq!(parsed.verify(101, "secret", NOW), Ok(()));
        assert!(!parsed.is_admin());
        assert!(!parsed.verify_privilege("edit", "0_a"));

        let opened = parsed.verify_and_open(101, "secret", NOW).unwrap();
        assert!(opened.is_admin());
        assert!(opened.verify_privilege("edit", "0_a"));
    }

    #[test]
    fn v2_uses_url_safe_alphabet() {
        let texts: Vec<String> = (0..32)
            .map(|_| create_ks(KsVersion::V2, "secret", &new_ks("*", 3600)))
            .collect();

        assert!(texts.iter().all(|text| !text.contains(['+', '/'])));
        assert!(texts.iter().any(|text| text.contains(['-', '_'])));
    }

    #[test]
    fn v2_accepts_standard_alphabet() {
        for _ in 0..32 {
            let text = create_ks(KsVersion::V2, "secret", &new_ks("*", 3600));
            let standard = text.replace('-', "+").replace('_', "/");

            assert!(
                verify_ks(&standard, 101, "secret", NOW).is_ok(),
                "{standard}"
            );
        }
    }

    #[test]
    fn v2_wrong_secret_and_partner_fail() {
        let text = create_ks(KsVersion::V2, "secret", &new_ks("", 3600));
        let parsed = parse_ks(&text).unwrap();

        assert_eq!(
            parsed.verify(101, "other", NOW),
            Err(KsError::InvalidSignature)
        );
        assert!(matches!(
            parsed.verify(102, "secret", NOW),
            Err(KsError::WrongPartner { .. })
        ));
    }

    #[test]
    fn expiry_is_checked_in_both_versions() {
        for version in [KsVersion::V1, KsVersion::V2] {
            let text = create_ks(version, "secret", &new_ks("", 60));

            assert!(verify_ks(&text, 101, "secret", NOW + 59).is_ok());
            assert_eq!(
                verify_ks(&text, 101, "secret", NOW + 60),
                Err(KsError::Expired { expiry: NOW + 60 }),
                "{version:?}"
            );
        }
    }

    #[test]
    fn wildcard_privilege_round_trips() {
        for version in [KsVersion::V1, KsVersion::V2] {
            let text = create_ks(version, "secret", &new_ks("*", 3600));
            let ks = verify_ks(&text, 101, "secret", NOW).unwrap();

            assert_eq!(ks.privileges, "*", "{version:?}");
            assert!(ks.verify_privilege("edit", "0_any"));
        }
    }

    #[test]
    fn privileges_with_values_round_trip() {
        let privileges = "sview:0_a/0_b,widget:1,download,iprestrict:10.0.0.1";
        for version in [KsVersion::V1, KsVersion::V2] {
            let text = create_ks(version, "secret", &new_ks(privileges, 3600));
            let ks = verify_ks(&text, 101, "secret", NOW).unwrap();

            assert_eq!(ks.privileges, privileges, "{version:?}");
            assert_eq!(ks.privilege_map["sview"], vec!["0_a", "0_b"]);
            assert!(ks.privilege_map["download"].is_empty());
            assert!(ks.verify_privilege("sview", "0_b"));
            assert!(ks.verify_privilege("widget", "1"));
            assert!(!ks.verify_privilege("edit", "0_a"));
        }
    }

    #[test]
    fn version_follows_partner_setting() {
        assert_eq!(KsVersion::from_setting(None), KsVersion::V1);
        assert_eq!(KsVersion::from_setting(Some(1)), KsVersion::V1);
        assert_eq!(KsVersion::from_setting(Some(2)), KsVersion::V2);
    }
}
