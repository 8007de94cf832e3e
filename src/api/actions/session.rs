//! `session`: start issues a KS signed with the partner's admin secret.

use super::{Context, unix_now, unknown_action};
use crate::api::{ApiError, Output, Value, error};
use crate::auth::ks::{KsVersion, NewKs, SessionType, create_ks};

/// KS lifetime when the partner sets no maximum, in seconds.
const DEFAULT_MAX_EXPIRY: i64 = 86_400;

pub async fn run(context: &Context<'_>, action: &str) -> Result<Output, ApiError> {
    match action {
        "start" => start(context).await,
        _ => Err(unknown_action(context)),
    }
}

/// `session.start(secret, userId = "", type = 0, partnerId, expiry = 86400,
/// privileges)`.
async fn start(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let secret = params.required_text("secret")?.to_string();
    let user_id = params.text("userId").unwrap_or("").to_string();
    let session_type = params.int("type").unwrap_or(0);
    let partner_id = params.int("partnerId").unwrap_or(-1);
    let expiry = params.int("expiry").unwrap_or(DEFAULT_MAX_EXPIRY);
    let privileges = params.text("privileges").unwrap_or("").to_string();

    // Every failure gets the same reply, as on Kaltura; the log names the cause.
    let start_error = |cause: &str| {
        tracing::info!(partner_id, cause, "session.start rejected");
        ApiError::with(error::START_SESSION_ERROR, &[&partner_id.to_string()])
    };
    let partner = context
        .blocking(move |services| Ok(services.store.partner(partner_id)?))
        .await?
        .ok_or_else(|| start_error("no such partner"))?;
    if partner.status != 1 && partner.status != 4 {
        return Err(start_error("the partner is not active"));
    }
    let is_admin = session_type >= 1;
    if is_admin && secret == partner.secret && secret != partner.admin_secret {
        return Err(start_error("the user secret cannot open an admin session"));
    }
    let secret_matches = secret == partner.admin_secret || (!is_admin && secret == partner.secret);
    if !secret_matches {
        return Err(start_error("wrong secret"));
    }

    let max_expiry = partner
        .settings
        .ks_max_expiry_secs
        .filter(|max| *max > 0)
        .unwrap_or(DEFAULT_MAX_EXPIRY);
    let lifetime = expiry.min(max_expiry);
    let session_type = if is_admin {
        SessionType::Admin
    } else {
        SessionType::User
    };
    let version = KsVersion::from_setting(partner.settings.ks_version);
    let request = NewKs {
        partner_id: partner.id,
        session_type,
        user_id: &user_id,
        privileges: &privileges,
        expiry: unix_now() + lifetime,
        master_partner_id: None,
        additional_data: None,
    };
    let ks = create_ks(version, &partner.admin_secret, &request);
    Ok(Output::Value(Value::Text(ks)))
}
