//! `conversionProfile`: here a profile lists the thumbnail templates generated for
//! videos uploaded under it (`flavorParamsIds`).

use super::common::{csv_ints, pager};
use super::{Context, unix_now, unknown_action};
use crate::api::{ApiError, Output, error, objects};
use crate::store::ConversionProfile;

const CLASS: &str = "KalturaConversionProfile";

pub async fn run(context: &Context<'_>, action: &str) -> Result<Output, ApiError> {
    match action {
        "add" => add(context).await,
        "get" => get(context).await,
        "list" => list(context).await,
        _ => Err(unknown_action(context)),
    }
}

async fn add(context: &Context<'_>) -> Result<Output, ApiError> {
    let session = context.require_admin()?;
    let partner_id = session.partner.id;
    let object = context
        .params()
        .object("conversionProfile")
        .cloned()
        .ok_or_else(|| {
            ApiError::with(error::MISSING_MANDATORY_PARAMETER, &["conversionProfile"]).in_envelope()
        })?;
    let name = object.text("name").unwrap_or("").to_string();
    if name.is_empty() {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_CANNOT_BE_NULL,
            &[&format!("{CLASS}::name")],
        ));
    }
    let params_ids = csv_ints(object.text("flavorParamsIds"));

    let now = unix_now();
    let mut profile = ConversionProfile {
        id: 0,
        partner_id,
        status: object.text("status").unwrap_or("2").to_string(),
        profile_type: object.text("type").unwrap_or("1").to_string(),
        name,
        system_name: object.text("systemName").unwrap_or("").to_string(),
        tags: object.text("tags").unwrap_or("").to_string(),
        description: object.text("description").unwrap_or("").to_string(),
        default_entry_id: object.text("defaultEntryId").map(str::to_string),
        flavor_params_ids: params_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        is_default: object.int("isDefault") == Some(1),
        created_at: now,
        updated_at: now,
    };

    let stored = profile.clone();
    profile.id = context
        .blocking(move |services| {
            for id in &params_ids {
                let visible = services
                    .api_store
                    .thumb_params(*id)?
                    .is_some_and(|p| p.partner_id == partner_id || p.partner_id == 0);
                if !visible {
                    return Err(ApiError::with(
                        error::FLAVOR_PARAMS_ID_NOT_FOUND,
                        &[&id.to_string()],
                    ));
                }
            }
            Ok(services.api_store.insert_conversion_profile(&stored)?)
        })
        .await?;
    tracing::info!(profile_id = profile.id, "conversion profile added");
    Ok(objects::conversion_profile(&profile).into())
}

async fn get(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let id = context.params().required_int("id")?;
    let profile = context
        .blocking(move |services| Ok(services.api_store.conversion_profile(id)?))
        .await?
        .filter(|p| p.partner_id == partner_id)
        .ok_or_else(|| {
            ApiError::with(error::CONVERSION_PROFILE_ID_NOT_FOUND, &[&id.to_string()])
        })?;
    Ok(objects::conversion_profile(&profile).into())
}

async fn list(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let (offset, limit) = pager(context.params());
    let (rows, total) = context
        .blocking(move |services| {
            Ok(services
                .api_store
                .list_conversion_profiles(partner_id, offset, limit)?)
        })
        .await?;
    let objects = rows.iter().map(objects::conversion_profile).collect();
    Ok(objects::list_response("KalturaConversionProfileListResponse", objects, total).into())
}
