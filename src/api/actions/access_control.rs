//! `accessControlProfile`: profiles whose rules restrict thumbnails.
//!
//! The rules use Kaltura's rule objects. The supported shapes are the ones the
//! thumbnail path enforces:
//! - require a KS: a `KalturaAuthenticatedCondition` with `not` true and a
//!   `KalturaAccessControlBlockAction`;
//! - allowed referrer domains: a `KalturaSiteCondition` with `not` true and a block
//!   action (block unless the site is listed);
//! - blocked referrer domains: a `KalturaSiteCondition` with `not` false and a block
//!   action;
//! - block frame capture: a rule without conditions whose action is a
//!   `KalturaAccessControlLimitThumbnailCaptureAction`.

use super::common::pager;
use super::{Context, unix_now, unknown_action};
use crate::api::{ApiError, Object, Output, Param, Params, Value, error, objects};
use crate::store::{AccessControlProfile, AccessRules};

const CLASS: &str = "KalturaAccessControlProfile";
const BLOCK_ACTION: &str = "KalturaAccessControlBlockAction";
const CAPTURE_ACTION: &str = "KalturaAccessControlLimitThumbnailCaptureAction";

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
    let object = context
        .params()
        .object("accessControlProfile")
        .cloned()
        .ok_or_else(|| {
            ApiError::with(
                error::MISSING_MANDATORY_PARAMETER,
                &["accessControlProfile"],
            )
            .in_envelope()
        })?;
    let name = object.text("name").unwrap_or("").to_string();
    if name.is_empty() {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_CANNOT_BE_NULL,
            &[&format!("{CLASS}::name")],
        ));
    }

    let now = unix_now();
    let mut profile = AccessControlProfile {
        id: 0,
        partner_id: session.partner.id,
        name,
        system_name: object.text("systemName").unwrap_or("").to_string(),
        description: object.text("description").unwrap_or("").to_string(),
        is_default: object.int("isDefault") == Some(1),
        created_at: now,
        updated_at: now,
        rules: parse_rules(object.get("rules"))?,
    };
    let stored = profile.clone();
    profile.id = context
        .blocking(move |services| Ok(services.api_store.insert_access_control_profile(&stored)?))
        .await?;
    tracing::info!(profile_id = profile.id, "access control profile added");
    Ok(objects::access_control_profile(&profile).into())
}

async fn get(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let id = context.params().required_int("id")?;
    let profile = context
        .blocking(move |services| Ok(services.api_store.access_control_profile(id)?))
        .await?
        .filter(|p| p.partner_id == partner_id)
        .ok_or_else(|| ApiError::with(error::ACCESS_CONTROL_ID_NOT_FOUND, &[&id.to_string()]))?;
    Ok(objects::access_control_profile(&profile).into())
}

async fn list(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let (offset, limit) = pager(context.params());
    let (rows, total) = context
        .blocking(move |services| {
            Ok(services
                .api_store
                .list_access_control_profiles(partner_id, offset, limit)?)
        })
        .await?;
    let objects = rows.iter().map(objects::access_control_profile).collect();
    Ok(objects::list_response("KalturaAccessControlProfileListResponse", objects, total).into())
}

/// Items of a list parameter, whether it arrived as a list or as an object keyed
/// by index.
fn items(param: Option<&Param>) -> Vec<&Params> {
    match param {
        Some(Param::Array(list)) => list
            .iter()
            .filter_map(|item| match item {
                Param::Object(object) => Some(object),
                _ => None,
            })
            .collect(),
        Some(Param::Object(object)) => object
            .entries
            .values()
            .filter_map(|item| match item {
                Param::Object(object) => Some(object),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn unsupported_rule(detail: &str) -> ApiError {
    ApiError::with(
        error::PROPERTY_VALIDATION_WRONG_FORMAT,
        &[
            &format!("{CLASS}::rules"),
            &format!(
                "a supported rule (require a KS, allowed or blocked sites, or limit thumbnail capture); {detail}"
            ),
        ],
    )
}

/// Reads Kaltura rule objects into the rules the thumbnail path enforces.
fn parse_rules(rules: Option<&Param>) -> Result<AccessRules, ApiError> {
    let mut parsed = AccessRules::default();
    for rule in items(rules) {
        let actions: Vec<&str> = items(rule.get("actions"))
            .into_iter()
            .map(|action| action.object_type().unwrap_or(""))
            .collect();
        let conditions = items(rule.get("conditions"));

        if actions.contains(&CAPTURE_ACTION) {
            parsed.block_capture = true;
        }
        if !actions.contains(&BLOCK_ACTION) {
            if conditions.is_empty() && actions.iter().all(|a| *a == CAPTURE_ACTION) {
                continue;
            }
            return Err(unsupported_rule(
                "each rule needs a block or capture-limit action",
            ));
        }
        if conditions.is_empty() {
            return Err(unsupported_rule("a block action needs a condition"));
        }
        // Kaltura blocks only when every condition of a rule matches; the rules
        // stored here hold one condition each, so several would be read wrongly.
        if conditions.len() > 1 {
            return Err(unsupported_rule(
                "a rule with several conditions; give each condition its own rule",
            ));
        }
        for condition in conditions {
            let negated = condition.bool("not").unwrap_or(false);
            match condition.object_type().unwrap_or("") {
                "KalturaAuthenticatedCondition" if negated => parsed.require_ks = true,
                "KalturaSiteCondition" => {
                    let sites: Vec<String> = items(condition.get("values"))
                        .into_iter()
                        .filter_map(|value| value.text("value"))
                        .flat_map(|value| value.split(','))
                        .map(|site| site.trim().to_string())
                        .filter(|site| !site.is_empty())
                        .collect();
                    if negated {
                        parsed.allowed_referrers.extend(sites);
                    } else {
                        parsed.blocked_referrers.extend(sites);
                    }
                }
                other => {
                    return Err(unsupported_rule(&format!(
                        "condition {other:?} is not supported"
                    )));
                }
            }
        }
    }
    Ok(parsed)
}

/// Writes rules back as the Kaltura rule objects `parse_rules` reads.
pub fn access_rules_objects(rules: &AccessRules) -> Vec<Object> {
    let block = || vec![Value::Object(Object::new(BLOCK_ACTION).with("type", "1"))];
    let sites = |list: &[String], negated: bool| {
        let values = list
            .iter()
            .map(|site| {
                Value::Object(Object::new("KalturaStringValue").with("value", site.as_str()))
            })
            .collect();
        Value::Object(
            Object::new("KalturaSiteCondition")
                .with("type", "4")
                .with("not", negated)
                .with("values", Value::Array(values)),
        )
    };
    let rule = |conditions: Vec<Value>, actions: Vec<Value>| {
        Object::new("KalturaRule")
            .with("actions", Value::Array(actions))
            .with("conditions", Value::Array(conditions))
    };

    let mut objects = Vec::new();
    if rules.require_ks {
        let condition = Object::new("KalturaAuthenticatedCondition")
            .with("type", "1")
            .with("not", true);
        objects.push(rule(vec![Value::Object(condition)], block()));
    }
    if !rules.allowed_referrers.is_empty() {
        objects.push(rule(vec![sites(&rules.allowed_referrers, true)], block()));
    }
    if !rules.blocked_referrers.is_empty() {
        objects.push(rule(vec![sites(&rules.blocked_referrers, false)], block()));
    }
    if rules.block_capture {
        let action = Object::new(CAPTURE_ACTION).with("type", "6");
        objects.push(rule(Vec::new(), vec![Value::Object(action)]));
    }
    objects
}
