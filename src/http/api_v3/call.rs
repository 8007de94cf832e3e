//! One call's service and action, read from its decoded parameters.

use crate::api::actions::{ApiCall, ClientInfo};
use crate::api::error::Template;
use crate::api::{ApiError, Params};

/// `SERVICE_NOT_SPECIFIED` from Kaltura's `KalturaErrors`.
pub const SERVICE_NOT_SPECIFIED: Template = Template {
    code: "SERVICE_NOT_SPECIFIED",
    message: "Service name was not specified, please specify one",
};

/// `ACTION_NOT_SPECIFIED` from Kaltura's `KalturaErrors`.
pub const ACTION_NOT_SPECIFIED: Template = Template {
    code: "ACTION_NOT_SPECIFIED",
    message: "Action name was not specified, please specify one",
};

/// Builds a call from parameters that name its `service` and `action`, both
/// lower-cased.
pub fn build_call(params: Params, client: &ClientInfo) -> Result<ApiCall, ApiError> {
    let service = lower_text(&params, "service");
    let action = lower_text(&params, "action");

    if service.is_empty() {
        return Err(ApiError::with(SERVICE_NOT_SPECIFIED, &[]).in_envelope());
    }
    if action.is_empty() {
        return Err(ApiError::with(ACTION_NOT_SPECIFIED, &[]).in_envelope());
    }

    Ok(ApiCall {
        service,
        action,
        params,
        client: client.clone(),
    })
}

/// Returns a scalar parameter trimmed and lower-cased, or an empty string when it
/// is absent.
pub fn lower_text(params: &Params, name: &str) -> String {
    params
        .text(name)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Param;

    fn client() -> ClientInfo {
        ClientInfo {
            ip: "127.0.0.1".parse().unwrap(),
            referer: Some("https://example.com/".to_string()),
            host: None,
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut params = Params::new();
        for (name, value) in pairs {
            params.insert(*name, Param::Scalar(value.to_string()));
        }
        params
    }

    #[test]
    fn names_are_lower_cased() {
        let call = build_call(
            params(&[("service", "thumbAsset"), ("action", "addFromImage")]),
            &client(),
        )
        .unwrap();
        assert_eq!(call.service, "thumbasset");
        assert_eq!(call.action, "addfromimage");
        assert_eq!(call.params.text("action"), Some("addFromImage"));
        assert_eq!(call.client.referer.as_deref(), Some("https://example.com/"));
    }

    #[test]
    fn missing_names_are_envelope_errors() {
        let error = build_call(params(&[("action", "get")]), &client()).unwrap_err();
        assert_eq!(error.code, "SERVICE_NOT_SPECIFIED");
        assert_eq!(error.stage, crate::api::ErrorStage::Envelope);

        let error = build_call(params(&[("service", "media")]), &client()).unwrap_err();
        assert_eq!(error.code, "ACTION_NOT_SPECIFIED");
    }
}
