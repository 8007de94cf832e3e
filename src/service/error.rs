//! The URL API's error type: each kind carries its HTTP status and Kaltura code.

use std::sync::Arc;

/// Everything a thumbnail request can fail with, as the client sees it. It is `Clone`
/// because one render's failure is handed to every request coalesced onto it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("requested entry not found")]
    EntryNotFound,
    #[error("requested entry is deleted or rejected")]
    EntryDeleted,
    #[error("wrong query attributes, {0}")]
    BadQuery(String),
    #[error("ks is an invalid string")]
    InvalidKsString,
    #[error("ks is not valid")]
    InvalidKs,
    #[error("The given KS has expired")]
    KsExpired,
    #[error("entry restricted due to access-control, {0}")]
    AccessRestricted(&'static str),
    #[error("frame capture is blocked for this entry")]
    CaptureBlocked,
    #[error("requested flavor was not found")]
    FlavorNotFound,
    #[error("missing thumbnail fileSync for entry, {0}")]
    MissingThumbnail(&'static str),
    #[error("requested partner not active")]
    PartnerNotActive,
    #[error("Too many executed processes")]
    TooManyProcesses,
    #[error("image resize failed")]
    ResizeFailed(#[source] Arc<dyn std::error::Error + Send + Sync>),
}

impl From<crate::auth::AccessDenied> for ThumbnailError {
    fn from(denied: crate::auth::AccessDenied) -> Self {
        use crate::auth::AccessDenied;
        match denied {
            AccessDenied::InvalidKsString => Self::InvalidKsString,
            AccessDenied::InvalidKs(_) => Self::InvalidKs,
            AccessDenied::KsExpired => Self::KsExpired,
            AccessDenied::Restricted(reason) => Self::AccessRestricted(reason),
            AccessDenied::CaptureBlocked => Self::CaptureBlocked,
        }
    }
}

impl ThumbnailError {
    pub fn resize_failed(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::ResizeFailed(Arc::new(error))
    }

    /// Returns the code name in the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EntryNotFound => "ENTRY_ID_NOT_FOUND",
            Self::EntryDeleted => "ENTRY_DELETED_MODERATED",
            Self::BadQuery(_) => "BAD_QUERY",
            Self::InvalidKsString => "INVALID_KS_SRT",
            Self::InvalidKs => "INVALID_KS",
            Self::KsExpired => "KS_EXPIRED",
            Self::AccessRestricted(_) => "ACCESS_CONTROL_RESTRICTED",
            Self::CaptureBlocked => "FEATURE_BLOCK_THUMBNAIL_CAPTURE",
            Self::FlavorNotFound => "FLAVOR_NOT_FOUND",
            Self::MissingThumbnail(_) => "MISSING_THUMBNAIL_FILESYNC",
            Self::PartnerNotActive => "PARTNER_NOT_ACTIVE",
            Self::TooManyProcesses => "TOO_MANY_PROCESSES",
            Self::ResizeFailed(_) => "IMAGE_RESIZE_FAILED",
        }
    }

    /// Returns the Kaltura server's error number, sent in the `X-Kaltura` headers.
    pub fn kaltura_number(&self) -> u16 {
        match self {
            Self::EntryNotFound => 1,
            Self::AccessRestricted(_) => 3,
            Self::InvalidKsString => 4,
            Self::FlavorNotFound => 6,
            Self::InvalidKs => 7,
            Self::EntryDeleted => 9,
            Self::MissingThumbnail(_) => 10,
            Self::PartnerNotActive => 15,
            Self::ResizeFailed(_) => 17,
            Self::BadQuery(_) => 25,
            Self::KsExpired => 31,
            Self::CaptureBlocked => 38,
            Self::TooManyProcesses => 46,
        }
    }

    /// Returns the Kaltura server's description for this number, without the detail.
    pub fn kaltura_description(&self) -> &'static str {
        match self {
            Self::EntryNotFound => "requested entry not found",
            Self::AccessRestricted(_) => "entry restricted due to access-control",
            Self::InvalidKsString => "ks is an invalid string",
            Self::FlavorNotFound => "requested flavor was not found",
            Self::InvalidKs => "ks is not valid",
            Self::EntryDeleted => "requested entry is deleted or rejected",
            Self::MissingThumbnail(_) => "missing thumbnail fileSync for entry",
            Self::PartnerNotActive => "requested partner not active",
            Self::ResizeFailed(_) => "image resize failed",
            Self::BadQuery(_) => "wrong query attributes",
            Self::KsExpired => "The given KS has expired",
            Self::CaptureBlocked => "The provided parameter is not allowed",
            Self::TooManyProcesses => "Too many executed processes",
        }
    }

    /// Formats the message for the body and the `X-Kaltura-App` header.
    pub fn message(&self) -> String {
        match self {
            Self::KsExpired => "The given KS has expired, This URL is expired".to_string(),
            Self::CaptureBlocked => format!(
                "{}, frame capture (vid_sec, vid_slice, vid_slices) is blocked for this entry",
                self.kaltura_description()
            ),
            Self::ResizeFailed(_) => self.kaltura_description().to_string(),
            other => other.to_string(),
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadQuery(_) => 400,
            Self::InvalidKsString
            | Self::InvalidKs
            | Self::KsExpired
            | Self::AccessRestricted(_)
            | Self::CaptureBlocked
            | Self::PartnerNotActive => 403,
            Self::EntryNotFound
            | Self::EntryDeleted
            | Self::FlavorNotFound
            | Self::MissingThumbnail(_) => 404,
            Self::ResizeFailed(_) => 500,
            Self::TooManyProcesses => 503,
        }
    }

    /// Returns whether the error response may be cached privately for 60 s. The Kaltura
    /// server exempts access-control errors, and a 503 or 500 is transient.
    pub fn cacheable(&self) -> bool {
        !matches!(
            self,
            Self::AccessRestricted(_) | Self::TooManyProcesses | Self::ResizeFailed(_)
        )
    }
}
