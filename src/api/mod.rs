//! The API v3 layer that the official Kaltura client libraries talk to.
//!
//! `http::api_v3` decodes a request into [`Params`] and encodes a [`Value`] or an
//! [`ApiError`] as XML or JSON. This module contains those wire-neutral types and the
//! actions of each service (`session`, `uploadToken`, `media`, `conversionProfile`,
//! `thumbAsset`, `thumbParams`, `accessControlProfile`).

pub mod actions;
pub mod error;
pub mod objects;
pub mod params;
pub mod value;

pub use error::{ApiError, ErrorStage, Template};
pub use params::{Field, Param, Params, UploadedFile};
pub use value::{FileReply, Object, Output, Value};
