//! Dispatch of one API v3 call to its service action, after the session checks.

mod access_control;
mod common;
mod conversion_profile;
mod media;
mod session;
mod thumb_asset;
mod thumb_asset_files;
mod thumb_params;
mod upload_token;

pub use access_control::access_rules_objects;

use std::net::IpAddr;
use std::sync::Arc;

use tracing::Instrument;

use super::{ApiError, Output, Params, error};
use crate::auth::{Ks, KsError, parse_ks};
use crate::service::Services;
pub use crate::service::unix_now;
use crate::store::{Entry, Partner};

/// One call, decoded from the request (or from one multirequest item).
#[derive(Clone, Debug)]
pub struct ApiCall {
    /// Lower-cased service name (`thumbasset`).
    pub service: String,
    /// Lower-cased action name (`addfromimage`).
    pub action: String,
    /// Every parameter: the arguments plus `ks`, `partnerId`, `format` and the rest.
    pub params: Params,
    pub client: ClientInfo,
}

/// Facts about the HTTP request that actions read.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub ip: IpAddr,
    /// The `Referer` header.
    pub referer: Option<String>,
    /// The `Host` header, for generated URLs when no public base URL is configured.
    pub host: Option<String>,
}

/// Returns true for actions that reply with a file instead of an envelope.
pub fn is_file_action(service: &str, action: &str) -> bool {
    service == "thumbasset" && (action == "serve" || action == "servebyentryid")
}

/// A verified session: the partner it belongs to and the KS that opened it.
#[derive(Clone, Debug)]
pub struct Session {
    pub partner: Partner,
    pub ks: Ks,
    /// The KS text, for URLs that must carry it.
    pub ks_text: String,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.ks.is_admin()
    }
}

/// Inputs of every action: the services, the call and its session, if any.
pub struct Context<'a> {
    pub services: &'a Arc<Services>,
    pub call: &'a ApiCall,
    pub session: Option<Session>,
}

impl Context<'_> {
    pub fn params(&self) -> &Params {
        &self.call.params
    }

    /// Returns the session of an action that requires one, else `MISSING_KS`.
    pub fn session(&self) -> Result<&Session, ApiError> {
        self.session
            .as_ref()
            .ok_or_else(|| ApiError::with(error::MISSING_KS, &[]).in_envelope())
    }

    /// Returns the session's partner id.
    pub fn partner_id(&self) -> Result<i64, ApiError> {
        Ok(self.session()?.partner.id)
    }

    /// Rejects a session that is not an admin session (`SERVICE_FORBIDDEN`).
    pub fn require_admin(&self) -> Result<&Session, ApiError> {
        let session = self.session()?;
        if !session.is_admin() {
            let name = format!("{}->{}", self.call.service, self.call.action);
            return Err(ApiError::with(error::SERVICE_FORBIDDEN, &[&name]).in_envelope());
        }
        Ok(session)
    }

    /// Allows a change to `entry` by an admin session, by the entry's owner, or by a
    /// session with the `edit` privilege for it. Others get `INVALID_KS`, as the
    /// reference reports an ownership failure.
    pub fn require_entry_editor(&self, entry: &Entry) -> Result<(), ApiError> {
        let session = self.session()?;
        if session.is_admin() {
            return Ok(());
        }
        let owner = entry.details.user_id.as_deref().unwrap_or("");
        let owns = !session.ks.user_id.is_empty() && session.ks.user_id == owner;
        if owns || session.ks.verify_privilege("edit", &entry.id) {
            return Ok(());
        }
        Err(ApiError::with(
            error::INVALID_KS,
            &["", "-4", "INVALID_TYPE"],
        ))
    }

    /// Base URL of generated links: the configured public base URL, else the
    /// request's host over plain HTTP.
    pub fn public_base_url(&self) -> String {
        if let Some(base) = &self.services.config.api.public_base_url {
            return base.trim_end_matches('/').to_string();
        }
        let host = self.call.client.host.as_deref().unwrap_or("127.0.0.1");
        format!("http://{host}")
    }

    /// Runs store work on a blocking thread.
    pub async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Services) -> Result<T, ApiError> + Send + 'static,
    {
        let services = self.services.clone();
        tokio::task::spawn_blocking(move || work(&services))
            .await
            .map_err(|join| ApiError::internal(&join))?
    }
}

/// Runs one call: opens the session from its KS, then runs the action.
pub async fn call(services: &Arc<Services>, call: ApiCall) -> Result<Output, ApiError> {
    let span = tracing::info_span!("api_call", service = %call.service, action = %call.action);
    run_call(services, call).instrument(span).await
}

async fn run_call(services: &Arc<Services>, call: ApiCall) -> Result<Output, ApiError> {
    let service = call.service.clone();
    let action = call.action.clone();
    let session = open_session(services, &call.params).await?;
    let context = Context {
        services,
        call: &call,
        session,
    };

    match service.as_str() {
        "session" => session::run(&context, &action).await,
        "uploadtoken" => upload_token::run(&context, &action).await,
        "media" => media::run(&context, &action).await,
        "conversionprofile" => conversion_profile::run(&context, &action).await,
        "thumbasset" => thumb_asset::run(&context, &action).await,
        "thumbparams" => thumb_params::run(&context, &action).await,
        "accesscontrolprofile" => access_control::run(&context, &action).await,
        _ => Err(ApiError::with(error::SERVICE_DOES_NOT_EXISTS, &[&call.service]).in_envelope()),
    }
}

/// Builds the error for an action name that a service lacks.
pub fn unknown_action(context: &Context<'_>) -> ApiError {
    ApiError::with(
        error::ACTION_DOES_NOT_EXISTS,
        &[&context.call.action, &context.call.service],
    )
    .in_envelope()
}

/// Verifies the call's KS, if it has one: format, partner, signature, expiry, and a
/// `partnerId` parameter that names another partner.
async fn open_session(
    services: &Arc<Services>,
    params: &Params,
) -> Result<Option<Session>, ApiError> {
    let Some(text) = params.text("ks").filter(|ks| !ks.is_empty()) else {
        return Ok(None);
    };
    let ks = parse_ks(text).map_err(|_| ApiError::invalid_ks(text))?;

    let store = services.store.clone();
    let partner_id = ks.partner_id;
    let partner = tokio::task::spawn_blocking(move || store.partner(partner_id))
        .await
        .map_err(|join| ApiError::internal(&join))??;
    let Some(partner) = partner else {
        return Err(ApiError::invalid_ks("INVALID_PARTNER"));
    };

    let now = unix_now();
    let ks = match ks.verify_and_open(partner.id, &partner.admin_secret, now) {
        Ok(opened) => opened,
        Err(KsError::Expired { .. }) => return Err(ApiError::invalid_ks("EXPIRED")),
        Err(KsError::WrongPartner { .. }) => return Err(ApiError::invalid_ks("INVALID_PARTNER")),
        Err(_) => return Err(ApiError::invalid_ks(text)),
    };
    if partner.status != 1 && partner.status != 4 {
        return Err(ApiError::invalid_ks("INVALID_PARTNER"));
    }
    let requested_partner = params
        .text("partnerId")
        .filter(|p| !p.is_empty())
        .map(super::params::php_intval);
    if requested_partner.is_some_and(|id| id != partner.id) {
        return Err(ApiError::invalid_ks("INVALID_PARTNER"));
    }

    Ok(Some(Session {
        partner,
        ks,
        ks_text: text.to_string(),
    }))
}
