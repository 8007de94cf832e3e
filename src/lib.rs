//! thumbd: a thumbnail service that implements the Kaltura thumbnail API.
//!
//! A request flows one way: `http` parses it, `service` resolves the entry and checks
//! access, `plan` computes the geometry, `source` decodes pixels, `render` resamples,
//! `encode` writes the output. `store`, `auth` and `cache` serve the service layer.

pub mod api;
pub mod auth;
pub mod bench;
pub mod cache;
pub mod cli;
pub mod config;
pub mod demo;
pub mod encode;
pub mod frame;
pub mod http;
pub mod metrics;
pub mod plan;
pub mod render;
pub mod service;
pub mod source;
pub mod store;
