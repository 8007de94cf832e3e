//! Kaltura sessions (KS) and the access-control rules that apply to thumbnails.

pub mod access;
pub mod ks;

pub use access::{AccessDenied, AccessRequest, check_access};
pub use ks::{
    Ks, KsError, KsVersion, NewKs, SessionType, create_ks, create_ks_v1, parse_ks, verify_ks,
};
