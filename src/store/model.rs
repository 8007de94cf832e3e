//! Stored records: partners, entries and access-control rules.

use serde::{Deserialize, Serialize};

use crate::frame::{Orientation, Size};
use crate::source::MediaType;

/// Kaltura entry statuses (`KalturaEntryStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntryStatus(pub i64);

impl EntryStatus {
    pub const ERROR_IMPORTING: Self = Self(-2);
    pub const ERROR_CONVERTING: Self = Self(-1);
    pub const IMPORT: Self = Self(0);
    pub const PRECONVERT: Self = Self(1);
    pub const READY: Self = Self(2);
    pub const DELETED: Self = Self(3);
    pub const PENDING: Self = Self(4);
    pub const MODERATE: Self = Self(5);
    pub const BLOCKED: Self = Self(6);
    pub const NO_CONTENT: Self = Self(7);

    const NAMES: [(&'static str, Self); 10] = [
        ("error_importing", Self::ERROR_IMPORTING),
        ("error_converting", Self::ERROR_CONVERTING),
        ("import", Self::IMPORT),
        ("preconvert", Self::PRECONVERT),
        ("ready", Self::READY),
        ("deleted", Self::DELETED),
        ("pending", Self::PENDING),
        ("moderate", Self::MODERATE),
        ("blocked", Self::BLOCKED),
        ("no_content", Self::NO_CONTENT),
    ];

    /// True for deleted entries and entries rejected by moderation.
    pub fn is_deleted_or_blocked(self) -> bool {
        self == Self::DELETED || self == Self::BLOCKED
    }
}

impl std::str::FromStr for EntryStatus {
    type Err = String;

    /// Accepts a status name (`ready`, `preconvert`, ...) or its number.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let lower = value.to_ascii_lowercase();
        if let Some((_, status)) = Self::NAMES.iter().find(|(name, _)| *name == lower) {
            return Ok(*status);
        }
        match value.parse::<i64>() {
            Ok(number) if Self::NAMES.iter().any(|(_, s)| s.0 == number) => Ok(Self(number)),
            _ => Err(format!(
                "invalid entry status {value:?}: expected a name such as ready or pending, or a number from -2 to 7"
            )),
        }
    }
}

/// Per-partner settings that shape thumbnails.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartnerSettings {
    /// KS format that `session.start` issues: 1 (the default) or 2.
    pub ks_version: Option<u8>,
    /// Longest KS lifetime `session.start` grants, in seconds (86400 when unset).
    pub ks_max_expiry_secs: Option<i64>,
    /// JPEG/WebP quality used when a URL gives 0 or none (85 when unset).
    pub default_quality: Option<u8>,
    /// Density in pixels per inch written when a URL gives none.
    pub default_density: Option<f64>,
    /// Whether metadata is stripped when a URL has no `strip` parameter.
    pub strip: Option<bool>,
    /// Second captured for a video's default thumbnail (3 when unset).
    pub thumb_offset: Option<f64>,
    /// Whether animated GIF sources stay animated.
    pub animated_gif: bool,
    /// Image entry shown for audio entries instead of the built-in placeholder.
    pub audio_thumb_entry_id: Option<String>,
    /// max-age in seconds for every thumbnail of this partner, overriding 3600 and 60.
    pub cache_age: Option<u32>,
    /// Whether frame capture (`vid_sec`, `vid_slice`, `vid_slices`) is blocked.
    pub block_capture: bool,
}

/// A tenant with its secrets.
#[derive(Clone, Debug, PartialEq)]
pub struct Partner {
    pub id: i64,
    pub admin_secret: String,
    pub secret: String,
    /// 1 active, 2 blocked, 4 read-only (Kaltura partner statuses).
    pub status: i64,
    pub settings: PartnerSettings,
}

/// A stored media entry with the facts planning needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: String,
    pub partner_id: i64,
    pub name: String,
    pub media_type: MediaType,
    pub status: EntryStatus,
    pub stored_size: Size,
    pub orientation: Orientation,
    pub duration: f64,
    pub frame_rate: f64,
    /// Content version, starting at 1 and raised when the media is replaced.
    pub version: i64,
    /// Id of the entry's single flavor: its original upload.
    pub flavor_id: String,
    pub blob_key: String,
    pub file_size: u64,
    pub format: String,
    pub access_control_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Fields kept for the API v3 services.
    pub details: super::api_model::EntryDetails,
}

impl Entry {
    pub fn displayed_size(&self) -> Size {
        self.orientation.displayed_size(self.stored_size)
    }
}

/// Fields of an entry that the caller supplies on insert.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    pub id: String,
    pub partner_id: i64,
    pub name: String,
    pub media_type: MediaType,
    pub status: EntryStatus,
    pub stored_size: Size,
    pub orientation: Orientation,
    pub duration: f64,
    pub frame_rate: f64,
    pub flavor_id: String,
    pub blob_key: String,
    pub file_size: u64,
    pub format: String,
}

/// Access-control rules that apply to thumbnails.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessRules {
    /// Requests without a valid KS are blocked.
    pub require_ks: bool,
    /// When not empty, only these referrer domains (and their subdomains) are allowed.
    pub allowed_referrers: Vec<String>,
    /// Referrer domains (and their subdomains) that are blocked.
    pub blocked_referrers: Vec<String>,
    /// Frame capture (`vid_sec`, `vid_slice`, `vid_slices`) is blocked.
    pub block_capture: bool,
}

impl AccessRules {
    /// True when any rule can block a thumbnail; only then is a KS evaluated.
    pub fn has_blocking_rule(&self) -> bool {
        self.require_ks
            || !self.allowed_referrers.is_empty()
            || !self.blocked_referrers.is_empty()
            || self.block_capture
    }
}

/// Generates a Kaltura-style id: data-centre digit, underscore, eight characters.
pub fn new_object_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("0_{suffix}")
}
