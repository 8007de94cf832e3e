//! The v2 format: `base64("v2|" + partner_id + "|" + ciphertext)` with the URL-safe alphabet
//! and `=` padding.
//!
//! The plain text is `sha1(random + query) + random + query`, with 16 random bytes. The query
//! is built as PHP's `http_build_query` builds it. It lists the privileges as keys (with an
//! empty value when they have none, and `all=*` for a lone `*`), then `_e` expiry, `_t` type,
//! `_u` user id, and `_m` master partner id and `_d` additional data when present.
//!
//! The plain text is encrypted with AES-128-CBC, with the first 16 bytes of
//! `sha1(admin_secret)` as key and a zero IV. Kaltura pads it to whole blocks with zero bytes,
//! not PKCS#7, and adds no block when it is already whole, so the same is done here.
//!
//! Source: `kSessionBase::generateKsV2` and `parseKsV2`, and `OpenSSLWrapper::encrypt_aes` in
//! `infra/general/KCryptoWrapper.class.php`, in kaltura/server.

use aes::Aes128;
use aes::cipher::{Array, Block, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use sha1::{Digest, Sha1};

use super::privileges;
use super::{Ks, KsError, KsFields, KsVersion, NewKs, Seal};

/// Bytes that open every decoded v2 KS.
pub(super) const PREFIX: &[u8] = b"v2|";

const BLOCK_SIZE: usize = 16;
const RANDOM_SIZE: usize = 16;
const DIGEST_SIZE: usize = 20;

/// Bytes PHP's `urlencode` keeps as they are: letters, digits and `-_.`. Space is left out
/// of the set here because `encode_query_part` writes it as `+`.
const PHP_URLENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b' ');

/// Encodes `ks` with `random` as its 16 random bytes.
pub(super) fn encode(admin_secret: &str, ks: &NewKs<'_>, random: [u8; RANDOM_SIZE]) -> String {
    let query = build_query(ks);

    let mut salted = random.to_vec();
    salted.extend_from_slice(query.as_bytes());
    let mut plain = Sha1::digest(&salted).to_vec();
    plain.extend_from_slice(&salted);

    let ciphertext = encrypt(&cipher_key(admin_secret), plain);

    let mut envelope = format!("v2|{}|", ks.partner_id).into_bytes();
    envelope.extend_from_slice(&ciphertext);
    URL_SAFE.encode(envelope)
}

/// Reads the partner id and the ciphertext of a base64-decoded v2 KS. The other fields need
/// the admin secret (see [`decrypt`]).
pub(super) fn parse_envelope(decoded: &[u8]) -> Result<Ks, KsError> {
    let rest = decoded.strip_prefix(PREFIX).ok_or(KsError::InvalidString)?;
    let separator = rest
        .iter()
        .position(|&byte| byte == b'|')
        .ok_or(KsError::InvalidString)?;
    let (partner, ciphertext) = (&rest[..separator], &rest[separator + 1..]);

    let partner_id = std::str::from_utf8(partner)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or(KsError::InvalidString)?;
    if ciphertext.is_empty() || ciphertext.len() % BLOCK_SIZE != 0 {
        return Err(KsError::InvalidString);
    }

    let seal = Seal::Encrypted {
        ciphertext: ciphertext.to_vec(),
        decrypted: false,
    };
    Ok(Ks::new(
        KsVersion::V2,
        partner_id,
        KsFields::default(),
        seal,
    ))
}

/// Decrypts `ciphertext` with the key of `admin_secret` and reads its fields. A wrong secret
/// or altered bytes fail the SHA-1 check and return `InvalidSignature`.
pub(super) fn decrypt(
    partner_id: i64,
    ciphertext: &[u8],
    admin_secret: &str,
) -> Result<Ks, KsError> {
    let mut plain = decrypt_blocks(&cipher_key(admin_secret), ciphertext);
    let unpadded = plain
        .iter()
        .rposition(|&byte| byte != 0)
        .map_or(0, |last| last + 1);
    plain.truncate(unpadded);

    if plain.len() < DIGEST_SIZE + RANDOM_SIZE {
        return Err(KsError::InvalidSignature);
    }
    let (digest, salted) = plain.split_at(DIGEST_SIZE);
    if !super::constant_time_eq(Sha1::digest(salted).as_slice(), digest) {
        return Err(KsError::InvalidSignature);
    }

    let fields = parse_query(&salted[RANDOM_SIZE..]);
    let seal = Seal::Encrypted {
        ciphertext: ciphertext.to_vec(),
        decrypted: true,
    };
    Ok(Ks::new(KsVersion::V2, partner_id, fields, seal))
}

/// Builds the query of `ks` as PHP's `http_build_query` would, with `&` between pairs.
fn build_query(ks: &NewKs<'_>) -> String {
    let mut pairs = privileges::pairs(ks.privileges);
    pairs.push(("_e".into(), ks.expiry.to_string()));
    pairs.push(("_t".into(), (ks.session_type as i64).to_string()));
    pairs.push(("_u".into(), ks.user_id.to_string()));
    if let Some(master_partner_id) = ks.master_partner_id {
        pairs.push(("_m".into(), master_partner_id.to_string()));
    }
    if let Some(additional_data) = ks.additional_data {
        pairs.push(("_d".into(), additional_data.to_string()));
    }

    let encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode_query_part(name), encode_query_part(value)))
        .collect();
    encoded.join("&")
}

/// Percent-encodes `text` as PHP's `urlencode` does, with `+` for a space.
fn encode_query_part(text: &str) -> String {
    percent_encode(text.as_bytes(), PHP_URLENCODE)
        .to_string()
        .replace(' ', "+")
}

/// Reads `_e _t _u _m _d` into their fields, and every other key as a privilege. A missing
/// or non-numeric `_e` reads as 0, so the KS is expired, as Kaltura treats it.
fn parse_query(query: &[u8]) -> KsFields {
    let mut fields = KsFields::default();
    let mut privilege_list = Vec::new();

    for (name, value) in url::form_urlencoded::parse(query) {
        match name.as_ref() {
            "_e" => fields.expiry = value.parse().unwrap_or(0),
            "_t" => fields.session_type = value.parse().unwrap_or(0),
            "_u" => fields.user_id = value.into_owned(),
            "_m" => fields.master_partner_id = value.parse().ok(),
            "_d" => fields.additional_data = Some(value.into_owned()),
            _ => {
                let (entry, values) = read_privilege(&name, &value);
                privilege_list.push(entry);
                fields.privilege_map.insert(name.into_owned(), values);
            }
        }
    }

    // Kaltura turns `all:*` back into `*` only when it is the whole list.
    fields.privileges = privilege_list.join(",");
    if fields.privileges == format!("{}:{}", privileges::WILDCARD_NAME, privileges::WILDCARD) {
        fields.privileges = privileges::WILDCARD.to_string();
    }
    fields
}

/// Returns a privilege of the query as its list entry (`name` or `name:value`) and its
/// `/`-separated values.
fn read_privilege(name: &str, value: &str) -> (String, Vec<String>) {
    if value.is_empty() {
        return (name.to_string(), Vec::new());
    }

    let values = value.split('/').map(str::to_string).collect();
    (format!("{name}:{value}"), values)
}

/// Returns the first 16 bytes of `sha1(admin_secret)`.
fn cipher_key(admin_secret: &str) -> [u8; BLOCK_SIZE] {
    let digest = Sha1::digest(admin_secret.as_bytes());
    let mut key = [0; BLOCK_SIZE];
    key.copy_from_slice(&digest[..BLOCK_SIZE]);
    key
}

fn encrypt(key: &[u8; BLOCK_SIZE], mut plain: Vec<u8>) -> Vec<u8> {
    plain.resize(plain.len().div_ceil(BLOCK_SIZE) * BLOCK_SIZE, 0);

    let mut encryptor = cbc::Encryptor::<Aes128>::new(key.into(), &[0; BLOCK_SIZE].into());
    encryptor.encrypt_blocks(as_blocks(&mut plain));
    plain
}

/// Decrypts `ciphertext`, which the caller has checked is a whole number of blocks.
fn decrypt_blocks(key: &[u8; BLOCK_SIZE], ciphertext: &[u8]) -> Vec<u8> {
    let mut plain = ciphertext.to_vec();

    let mut decryptor = cbc::Decryptor::<Aes128>::new(key.into(), &[0; BLOCK_SIZE].into());
    decryptor.decrypt_blocks(as_blocks(&mut plain));
    plain
}

/// Views `buffer`, a whole number of blocks long, as AES blocks.
fn as_blocks(buffer: &mut [u8]) -> &mut [Block<Aes128>] {
    let (blocks, rest) = Array::slice_as_chunks_mut(buffer);
    assert!(rest.is_empty(), "buffer is not a whole number of blocks");
    blocks
}

#[cfg(test)]
mod tests {
    use super::super::{SessionType, parse_ks, verify_ks};
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn sample() -> NewKs<'static> {
        NewKs {
            partner_id: 101,
            session_type: SessionType::Admin,
            user_id: "alice smith",
            privileges: "edit:0_a/0_b,widget,list:*",
            expiry: NOW + 3600,
            master_partner_id: Some(7),
            additional_data: Some("a&b=c"),
        }
    }

    #[test]
    fn query_matches_http_build_query() {
        let query = build_query(&sample());

        assert_eq!(
            query,
            "edit=0_a%2F0_b&widget=&list=%2A&_e=1700003600&_t=2&_u=alice+smith&_m=7&_d=a%26b%3Dc"
        );
    }

    #[test]
    fn query_omits_absent_master_and_data() {
        let ks = NewKs {
            privileges: "*",
            expiry: NOW,
            ..NewKs::default()
        };

        assert_eq!(build_query(&ks), "all=%2A&_e=1700000000&_t=0&_u=");
    }

    #[test]
    fn round_trip_reads_every_field() {
        let text = encode("secret", &sample(), [9; RANDOM_SIZE]);
        let ks = verify_ks(&text, 101, "secret", NOW).unwrap();

        assert_eq!(ks.version, KsVersion::V2);
        assert_eq!(ks.partner_id, 101);
        assert_eq!(ks.expiry, NOW + 3600);
        assert_eq!(ks.session_type, 2);
        assert_eq!(ks.user_id, "alice smith");
        assert_eq!(ks.privileges, "edit:0_a/0_b,widget,list:*");
        assert_eq!(ks.privilege_map["edit"], vec!["0_a", "0_b"]);
        assert_eq!(ks.master_partner_id, Some(7));
        assert_eq!(ks.additional_data.as_deref(), Some("a&b=c"));
        assert!(ks.is_open());
    }

    #[test]
    fn wildcard_becomes_star_only_alone() {
        let lone = NewKs {
            privileges: "*",
            ..sample()
        };
        let mixed = NewKs {
            privileges: "*,widget:1",
            ..sample()
        };

        let lone = verify_ks(&encode("s", &lone, [1; RANDOM_SIZE]), 101, "s", NOW).unwrap();
        let mixed = verify_ks(&encode("s", &mixed, [1; RANDOM_SIZE]), 101, "s", NOW).unwrap();

        assert_eq!(lone.privileges, "*");
        assert_eq!(lone.privilege_map["all"], vec!["*"]);
        assert_eq!(mixed.privileges, "all:*,widget:1");
    }

    #[test]
    fn missing_expiry_reads_as_expired() {
        let mut plain = Sha1::digest([[7; RANDOM_SIZE].as_slice(), b"_t=2"].concat()).to_vec();
        plain.extend_from_slice(&[7; RANDOM_SIZE]);
        plain.extend_from_slice(b"_t=2");
        let mut envelope = b"v2|101|".to_vec();
        envelope.extend_from_slice(&encrypt(&cipher_key("s"), plain));

        let result = verify_ks(&URL_SAFE.encode(envelope), 101, "s", NOW);

        assert_eq!(result, Err(KsError::Expired { expiry: 0 }));
    }

    #[test]
    fn envelope_hides_fields_until_opened() {
        let text = encode("secret", &sample(), [9; RANDOM_SIZE]);
        let sealed = parse_ks(&text).unwrap();

        assert_eq!(sealed.partner_id, 101);
        assert!(!sealed.is_open());
        assert_eq!(sealed.user_id, "");

        let opened = sealed.open("secret").unwrap();
        assert_eq!(opened.user_id, "alice smith");
    }

    #[test]
    fn wrong_secret_fails_decryption() {
        let text = encode("secret", &sample(), [9; RANDOM_SIZE]);

        assert_eq!(
            verify_ks(&text, 101, "other", NOW),
            Err(KsError::InvalidSignature)
        );
    }

    #[test]
    fn altered_ciphertext_fails() {
        let text = encode("secret", &sample(), [9; RANDOM_SIZE]);
        let mut decoded = URL_SAFE.decode(&text).unwrap();

        for index in [PREFIX.len() + 4, decoded.len() - 1] {
            decoded[index] ^= 0x01;
            let altered = URL_SAFE.encode(&decoded);
            assert_eq!(
                verify_ks(&altered, 101, "secret", NOW),
                Err(KsError::InvalidSignature),
                "byte {index} altered"
            );
            decoded[index] ^= 0x01;
        }
    }

    #[test]
    fn ciphertext_of_partial_block_is_invalid() {
        let text = encode("secret", &sample(), [9; RANDOM_SIZE]);
        let mut decoded = URL_SAFE.decode(&text).unwrap();
        decoded.pop();

        assert_eq!(
            parse_ks(&URL_SAFE.encode(&decoded)),
            Err(KsError::InvalidString)
        );
    }

    /// The same plain text as `round_trip_reads_every_field`, encrypted outside Rust with
    /// Python's `cryptography` package and encoded with `base64.urlsafe_b64encode`.
    #[test]
    fn encode_matches_external_vector() {
        let expected = "djJ8MTAxfEeWSS4HaxUaipihH3VunON-D64nbGgRQO2AWaqigFtl7_bCICpbj71FD3HeBFaVhnirujYP1Ean5-4cW4PXQPjg5WSEP3NQ5yKpNf3J0CuqF3SbHRnlsCFsRwobME7S6LRogXryt6HTct7iX9MAF9kkmbVbLtjxDhmIMSsOqa0V";

        assert_eq!(encode("secret", &sample(), [9; RANDOM_SIZE]), expected);
    }

    /// A KS encrypted outside Rust, with Python's `cryptography` package, from the plain text
    /// `sha1(random + query) + random + query`, random = 16 bytes of 0x09, and
    /// query = `view=%2A&_e=1700003600&_t=0&_u=bob`.
    #[test]
    fn opens_externally_encrypted_vector() {
        let ks = verify_ks(EXTERNAL_VECTOR, 55, "admin-secret", NOW).unwrap();

        assert_eq!(ks.partner_id, 55);
        assert_eq!(ks.expiry, NOW + 3600);
        assert_eq!(ks.session_type, 0);
        assert_eq!(ks.user_id, "bob");
        assert_eq!(ks.privileges, "view:*");
    }

    const EXTERNAL_VECTOR: &str = "djJ8NTV8YpiEqc9d3vCsjEzaY3dXIsnVGuMvGwzfufLlLayoTTkanNV0tSquc2rUKH372jysA70e6Hbh0srkVMCW4frworr-bPBQqkTgT4uZ8cHh1TU=";
}
