//! `thumbParams`: thumbnail templates, the system defaults of partner 0 included.

use super::common::{csv, csv_ints, merge, pager};
use super::{Context, unix_now, unknown_action};
use crate::api::{ApiError, Field, Output, Param, Params, Value, error, objects};
use crate::store::{ThumbParams, ThumbParamsQuery, ThumbParamsSettings};

const CLASS: &str = "KalturaThumbParams";

pub async fn run(context: &Context<'_>, action: &str) -> Result<Output, ApiError> {
    match action {
        "add" => add(context).await,
        "get" => get(context).await,
        "update" => update(context).await,
        "delete" => delete(context).await,
        "list" => list(context).await,
        "getbyconversionprofileid" => by_conversion_profile(context).await,
        _ => Err(unknown_action(context)),
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::with(error::FLAVOR_PARAMS_ID_NOT_FOUND, &[&id.to_string()])
}

async fn add(context: &Context<'_>) -> Result<Output, ApiError> {
    let session = context.require_admin()?;
    let object = context
        .params()
        .object("thumbParams")
        .cloned()
        .ok_or_else(|| {
            ApiError::with(error::MISSING_MANDATORY_PARAMETER, &["thumbParams"]).in_envelope()
        })?;
    let name = match object.text_field("name") {
        Field::Value(name) => name,
        _ => {
            return Err(ApiError::with(
                error::PROPERTY_VALIDATION_CANNOT_BE_NULL,
                &[&format!("{CLASS}::name")],
            ));
        }
    };
    if name.is_empty() {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_MIN_LENGTH,
            &[&format!("{CLASS}::name"), "1"],
        ));
    }

    let now = unix_now();
    let mut params = ThumbParams {
        partner_id: session.partner.id,
        name,
        created_at: now,
        updated_at: now,
        ..ThumbParams::default()
    };
    apply_fields(&object, &mut params)?;
    let stored = params.clone();
    params.id = context
        .blocking(move |services| Ok(services.api_store.insert_thumb_params(&stored)?))
        .await?;
    tracing::info!(thumb_params_id = params.id, "thumb params added");
    Ok(objects::thumb_params(&params).into())
}

/// Applies the writable fields of a `KalturaThumbParams` object, then validates
/// the ranges (on add, update and serve).
pub fn apply_fields(object: &Params, params: &mut ThumbParams) -> Result<(), ApiError> {
    if let Field::Value(name) = object.text_field("name") {
        params.name = name;
    }
    if let Some(text) = merge(
        object.text_field("systemName"),
        Some(params.system_name.clone()),
    ) {
        params.system_name = text;
    }
    if let Some(text) = merge(
        object.text_field("description"),
        Some(params.description.clone()),
    ) {
        params.description = text;
    }
    if let Some(text) = merge(object.text_field("tags"), Some(params.tags.clone())) {
        params.tags = text.to_lowercase();
    }
    apply_settings(object, &mut params.settings)
}

/// Reads and validates template settings: on a stored template, or on the
/// unsaved one that `thumbAsset.serve` and `thumbAsset.generate` receive.
pub fn apply_settings(object: &Params, settings: &mut ThumbParamsSettings) -> Result<(), ApiError> {
    settings.crop_type = merge(crop_type(object)?, settings.crop_type);
    settings.quality = merge(object.int_field(CLASS, "quality")?, settings.quality);

    settings.crop_x = merge(object.int_field(CLASS, "cropX")?, settings.crop_x);
    settings.crop_y = merge(object.int_field(CLASS, "cropY")?, settings.crop_y);
    settings.crop_width = merge(object.int_field(CLASS, "cropWidth")?, settings.crop_width);
    settings.crop_height = merge(object.int_field(CLASS, "cropHeight")?, settings.crop_height);

    settings.video_offset = merge(
        object.float_field(CLASS, "videoOffset")?,
        settings.video_offset,
    );
    settings.width = merge(object.int_field(CLASS, "width")?, settings.width);
    settings.height = merge(object.int_field(CLASS, "height")?, settings.height);

    settings.scale_width = merge(
        object.float_field(CLASS, "scaleWidth")?,
        settings.scale_width,
    );
    settings.scale_height = merge(
        object.float_field(CLASS, "scaleHeight")?,
        settings.scale_height,
    );

    settings.background_color = merge(
        object.text_field("backgroundColor"),
        settings.background_color.take(),
    );
    settings.source_params_id = merge(
        object.int_field(CLASS, "sourceParamsId")?,
        settings.source_params_id,
    );
    settings.format = merge(object.text_field("format"), settings.format.take());

    settings.density = merge(object.int_field(CLASS, "density")?, settings.density);
    settings.strip_profiles = merge(object.bool_field("stripProfiles"), settings.strip_profiles);
    settings.video_offset_in_percentage = merge(
        object.int_field(CLASS, "videoOffsetInPercentage")?,
        settings.video_offset_in_percentage,
    );
    settings.interval = merge(object.int_field(CLASS, "interval")?, settings.interval);

    settings.source_remote_storage_profile_id = merge(
        object.int_field(CLASS, "sourceRemoteStorageProfileId")?,
        settings.source_remote_storage_profile_id,
    );
    settings.remote_storage_profile_ids = merge(
        object.int_field(CLASS, "remoteStorageProfileIds")?,
        settings.remote_storage_profile_ids,
    );
    settings.media_parser_type = merge(
        object.text_field("mediaParserType"),
        settings.media_parser_type.take(),
    );
    settings.source_asset_params_ids = merge(
        object.text_field("sourceAssetParamsIds"),
        settings.source_asset_params_ids.take(),
    );

    if let Some(Param::Array(items)) = object.get("requiredPermissions") {
        settings.required_permissions = items
            .iter()
            .filter_map(|item| match item {
                Param::Object(inner) => inner.text("value").map(str::to_string),
                Param::Scalar(text) => Some(text.clone()),
                _ => None,
            })
            .collect();
    }

    validate(settings)
}

/// Reads and validates the settings of an unsaved template (the `thumbParams`
/// argument of `thumbAsset.serve` and `thumbAsset.generate`).
pub fn read_settings(object: &Params) -> Result<ThumbParamsSettings, ApiError> {
    let mut settings = ThumbParamsSettings::default();
    apply_settings(object, &mut settings)?;
    Ok(settings)
}

/// `cropType` must be a `KalturaThumbCropType`; 6 is accepted as the guide documents.
fn crop_type(object: &Params) -> Result<Field<i64>, ApiError> {
    let field = object.text_field("cropType");
    let Field::Value(text) = field else {
        return Ok(match field {
            Field::Null => Field::Null,
            _ => Field::Absent,
        });
    };
    match text.trim().parse::<i64>() {
        Ok(value @ 1..=6) => Ok(Field::Value(value)),
        _ => Err(ApiError::with(
            error::INVALID_ENUM_VALUE,
            &[&text, "cropType", "KalturaThumbCropType"],
        )
        .in_envelope()),
    }
}

/// Checks the ranges of `KalturaThumbParams::validate`; unset values pass.
fn validate(settings: &ThumbParamsSettings) -> Result<(), ApiError> {
    let int_ranges: [(&str, Option<i64>, i64, Option<i64>); 9] = [
        ("quality", settings.quality, 20, Some(100)),
        ("cropX", settings.crop_x, 0, Some(10_000)),
        ("cropY", settings.crop_y, 0, Some(10_000)),
        ("cropWidth", settings.crop_width, 0, Some(10_000)),
        ("cropHeight", settings.crop_height, 0, Some(10_000)),
        ("width", settings.width, 0, Some(10_000)),
        ("height", settings.height, 0, Some(10_000)),
        ("density", settings.density, 0, None),
        (
            "videoOffsetInPercentage",
            settings.video_offset_in_percentage,
            0,
            Some(100),
        ),
    ];
    for (name, value, min, max) in int_ranges {
        check_range(
            name,
            value.map(|v| v as f64),
            min as f64,
            max.map(|m| m as f64),
        )?;
    }
    check_range("videoOffset", settings.video_offset, 0.0, None)?;
    check_range("scaleWidth", settings.scale_width, 0.0, Some(10.0))?;
    check_range("scaleHeight", settings.scale_height, 0.0, Some(10.0))?;

    if let Some(color) = &settings.background_color {
        let name = format!("{CLASS}::backgroundColor");
        if color.is_empty() {
            return Err(ApiError::with(
                error::PROPERTY_VALIDATION_MIN_LENGTH,
                &[&name, "1"],
            ));
        }
        if color.len() > 6 {
            return Err(ApiError::with(
                error::PROPERTY_VALIDATION_MAX_LENGTH,
                &[&name, "6"],
            ));
        }
        if !color.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::with(
                error::PROPERTY_VALIDATION_WRONG_FORMAT,
                &[&name, "six hexadecimal characters"],
            ));
        }
    }
    if settings.interval.is_some_and(|interval| interval < 1) {
        return Err(
            ApiError::with(error::PROPERTY_VALIDATION_MIN_VALUE, &["interval", "1"]).in_envelope(),
        );
    }
    Ok(())
}

fn check_range(name: &str, value: Option<f64>, min: f64, max: Option<f64>) -> Result<(), ApiError> {
    let Some(value) = value else {
        return Ok(());
    };
    let property = format!("{CLASS}::{name}");
    if value < min {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_MIN_VALUE,
            &[&property, &format_number(min)],
        ));
    }
    if let Some(max) = max.filter(|max| value > *max) {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_MAX_VALUE,
            &[&property, &format_number(max)],
        ));
    }
    Ok(())
}

fn format_number(number: f64) -> String {
    if number.fract() == 0.0 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// Loads a template visible to the partner: its own, or a system default when
/// `include_system` is set.
pub async fn load(
    context: &Context<'_>,
    id: i64,
    include_system: bool,
) -> Result<ThumbParams, ApiError> {
    let partner_id = context.partner_id()?;
    context
        .blocking(move |services| Ok(services.api_store.thumb_params(id)?))
        .await?
        .filter(|p| p.partner_id == partner_id || (include_system && p.partner_id == 0))
        .ok_or_else(|| not_found(id))
}

async fn get(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_int("id")?;
    let params = load(context, id, true).await?;
    Ok(objects::thumb_params(&params).into())
}

async fn update(context: &Context<'_>) -> Result<Output, ApiError> {
    context.require_admin()?;
    let id = context.params().required_int("id")?;
    let object = context
        .params()
        .object("thumbParams")
        .cloned()
        .unwrap_or_default();
    let mut params = load(context, id, false).await?;
    if let Field::Value(name) = object.text_field("name")
        && name.is_empty()
    {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_MIN_LENGTH,
            &[&format!("{CLASS}::name"), "1"],
        ));
    }
    apply_fields(&object, &mut params)?;
    params.updated_at = unix_now();

    let stored = params.clone();
    context
        .blocking(move |services| Ok(services.api_store.update_thumb_params(&stored)?))
        .await?;
    Ok(objects::thumb_params(&params).into())
}

async fn delete(context: &Context<'_>) -> Result<Output, ApiError> {
    context.require_admin()?;
    let id = context.params().required_int("id")?;
    let mut params = load(context, id, false).await?;
    params.deleted_at = Some(unix_now());
    context
        .blocking(move |services| Ok(services.api_store.update_thumb_params(&params)?))
        .await?;
    tracing::info!(thumb_params_id = id, "thumb params deleted");
    Ok(Output::Value(Value::Null))
}

async fn list(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let filter = params.object("filter").cloned().unwrap_or_default();
    let (offset, limit) = pager(params);
    let mut query = ThumbParamsQuery {
        partner_id: context.partner_id()?,
        ids: csv_ints(filter.text("idIn")),
        system_names: csv(filter.text("systemNameIn")),
        is_system_default: filter
            .int("isSystemDefaultEqual")
            .filter(|value| *value >= 0)
            .map(|value| value == 1),
        tags_equal: filter.text("tagsEqual").map(str::to_string),
        format_equal: filter.text("formatEqual").map(str::to_string),
        offset,
        limit,
    };
    if let Some(id) = filter.int("idEqual") {
        query.ids.push(id);
    }
    if let Some(name) = filter.text("systemNameEqual") {
        query.system_names.push(name.to_string());
    }

    let (rows, total) = context
        .blocking(move |services| Ok(services.api_store.list_thumb_params(&query)?))
        .await?;
    let objects = rows.iter().map(objects::thumb_params).collect();
    Ok(objects::list_response("KalturaThumbParamsListResponse", objects, total).into())
}

/// `getByConversionProfileId(conversionProfileId)`: the templates a profile lists.
async fn by_conversion_profile(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let profile_id = context.params().required_int("conversionProfileId")?;
    let rows = context
        .blocking(move |services| {
            let profile = services
                .api_store
                .conversion_profile(profile_id)?
                .filter(|p| p.partner_id == partner_id)
                .ok_or_else(|| {
                    ApiError::with(
                        error::CONVERSION_PROFILE_ID_NOT_FOUND,
                        &[&profile_id.to_string()],
                    )
                })?;
            let mut rows = Vec::new();
            for id in csv_ints(Some(&profile.flavor_params_ids)) {
                if let Some(params) = services.api_store.thumb_params(id)?
                    && (params.partner_id == partner_id || params.partner_id == 0)
                {
                    rows.push(params);
                }
            }
            Ok(rows)
        })
        .await?;
    let items = rows
        .iter()
        .map(|p| Value::Object(objects::thumb_params(p)))
        .collect();
    Ok(Output::Value(Value::Array(items)))
}
