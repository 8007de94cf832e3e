//! `KalturaAPIException`: an error code, a message filled from a template, and the
//! template's named arguments.
//!
//! Templates are written as on the Kaltura server: `@NAME@` marks an argument, and
//! each argument's name is the text between the `@` signs. A missing value renders as
//! `N/A`. The codes and texts are those of Kaltura's API (`KalturaErrors` and
//! `KalturaAPIErrors` in github.com/kaltura/server).

/// One error kind: its code and message template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    pub code: &'static str,
    pub message: &'static str,
}

const fn template(code: &'static str, message: &'static str) -> Template {
    Template { code, message }
}

// Envelope and request decoding.
pub const SERVICE_DOES_NOT_EXISTS: Template = template(
    "SERVICE_DOES_NOT_EXISTS",
    "Service \"@SRV_NAME@\" does not exists",
);
pub const ACTION_DOES_NOT_EXISTS: Template = template(
    "ACTION_DOES_NOT_EXISTS",
    "Action \"@ACTION_NAME@\" does not exists for service \"@SERVICE_NAME@\"",
);
pub const SERVICE_FORBIDDEN: Template = template(
    "SERVICE_FORBIDDEN",
    "The access to service [@SERVICE@] is forbidden",
);
pub const MISSING_MANDATORY_PARAMETER: Template = template(
    "MISSING_MANDATORY_PARAMETER",
    "Missing parameter \"@PARAM_NAME@\"",
);
pub const INVALID_ENUM_VALUE: Template = template(
    "INVALID_ENUM_VALUE",
    "Invalid enumeration value \"@ENUM_VAL@\" for parameter \"@PARAM_NAME@\", expecting enumeration type \"@ENUM_TYPE@\"",
);
pub const UNKNOWN_RESPONSE_FORMAT: Template = template(
    "UNKNOWN_RESPONSE_FORMAT",
    "Response format provided [@FORMAT@] is not recognized by server",
);
pub const INTERNAL_SERVERL_ERROR: Template =
    template("INTERNAL_SERVERL_ERROR", "Internal server error occurred");
pub const UPLOAD_ERROR: Template = template("UPLOAD_ERROR", "Upload failed");

// Sessions.
pub const INVALID_KS: Template = template(
    "INVALID_KS",
    "Invalid KS \"@KSID@\", Error \"@KS_ERROR_CODE@,@KS_ERROR_DESCRIPTION@\"",
);
pub const START_SESSION_ERROR: Template = template(
    "START_SESSION_ERROR",
    "Error while starting session for partner [@PID@]",
);
pub const MISSING_KS: Template = template("MISSING_KS", "Missing KS, session not established");

// Object validation.
pub const PROPERTY_VALIDATION_CANNOT_BE_NULL: Template = template(
    "PROPERTY_VALIDATION_CANNOT_BE_NULL",
    "The property \"@PROP_NAME@\" cannot be null",
);
pub const PROPERTY_VALIDATION_NOT_UPDATABLE: Template = template(
    "PROPERTY_VALIDATION_NOT_UPDATABLE",
    "The property \"@PROP_NAME@\" cannot be updated",
);
pub const PROPERTY_VALIDATION_NUMERIC_VALUE: Template = template(
    "PROPERTY_VALIDATION_NUMERIC_VALUE",
    "The property \"@PROP_NAME@\" must be numeric",
);
pub const PROPERTY_VALIDATION_MIN_VALUE: Template = template(
    "PROPERTY_VALIDATION_MIN_VALUE",
    "The property \"@PROP_NAME@\" must have a min value of @MIN_VALUE@",
);
pub const PROPERTY_VALIDATION_MAX_VALUE: Template = template(
    "PROPERTY_VALIDATION_MAX_VALUE",
    "The property \"@PROP_NAME@\" must have a max value of @MAX_VALUE@",
);
pub const PROPERTY_VALIDATION_MIN_LENGTH: Template = template(
    "PROPERTY_VALIDATION_MIN_LENGTH",
    "The property \"@PROP_NAME@\" must have a min length of @MIN_LENGTH@ characters",
);
pub const PROPERTY_VALIDATION_MAX_LENGTH: Template = template(
    "PROPERTY_VALIDATION_MAX_LENGTH",
    "The property \"@PROP_NAME@\" must have a max length of @MAX_LENGTH@ characters",
);
pub const PROPERTY_VALIDATION_WRONG_FORMAT: Template = template(
    "PROPERTY_VALIDATION_WRONG_FORMAT",
    "The property \"@PROP_NAME@\" must match format @FORMAT@",
);

// Entries and uploads.
pub const ENTRY_ID_NOT_FOUND: Template =
    template("ENTRY_ID_NOT_FOUND", "Entry id \"@ENTRY_ID@\" not found");
pub const ENTRY_MEDIA_TYPE_NOT_SUPPORTED: Template = template(
    "ENTRY_MEDIA_TYPE_NOT_SUPPORTED",
    "Entry media type \"@MEDIA_TYPE@\" not supported",
);
pub const ENTRY_ALREADY_WITH_CONTENT: Template = template(
    "ENTRY_ALREADY_WITH_CONTENT",
    "Entry already associated with content",
);
pub const INVALID_ENTRY_STATUS: Template = template("INVALID_ENTRY_STATUS", "Invalid entry status");
pub const NO_FLAVORS_FOUND: Template = template("NO_FLAVORS_FOUND", "No flavors found");
pub const UPLOADED_FILE_NOT_FOUND_BY_TOKEN: Template = template(
    "UPLOADED_FILE_NOT_FOUND_BY_TOKEN",
    "The uploaded file was not found by the given token id, or was already used",
);
pub const UPLOAD_TOKEN_NOT_FOUND: Template =
    template("UPLOAD_TOKEN_NOT_FOUND", "Upload token not found");
pub const UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD: Template = template(
    "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD",
    "Upload token is in an invalid status for uploading a file, maybe the file was already uploaded",
);
pub const UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY: Template = template(
    "UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY",
    "Upload token is in an invalid status for adding entry",
);
pub const UPLOAD_TOKEN_RESUMING_INVALID_POSITION: Template = template(
    "UPLOAD_TOKEN_RESUMING_INVALID_POSITION",
    "Resuming not allowed when trying to append to a position different than file size",
);
pub const FILE_TYPE_NOT_SUPPORTED: Template = template(
    "FILE_TYPE_NOT_SUPPORTED",
    "File type \"@FILE_TYPE@\" not supported",
);
pub const RESOURCE_TYPE_NOT_SUPPORTED: Template = template(
    "RESOURCE_TYPE_NOT_SUPPORTED",
    "Resource type \"@RES_TYPE@\" not supported",
);
pub const CONVERSION_PROFILE_ID_NOT_FOUND: Template = template(
    "CONVERSION_PROFILE_ID_NOT_FOUND",
    "Conversion profile id \"@ID@\" not found",
);
pub const ACCESS_CONTROL_ID_NOT_FOUND: Template = template(
    "ACCESS_CONTROL_ID_NOT_FOUND",
    "Access control id \"@ID@\" not found",
);

// Thumbnail assets and params.
pub const THUMB_ASSET_ID_NOT_FOUND: Template = template(
    "THUMB_ASSET_ID_NOT_FOUND",
    "The Thumbnail asset id \"@ID@\" not found",
);
pub const THUMB_ASSET_PARAMS_ID_NOT_FOUND: Template = template(
    "THUMB_ASSET_ID_NOT_FOUND",
    "The Thumbnail asset not found for params id \"@ID@\"",
);
pub const THUMB_ASSET_IS_NOT_READY: Template = template(
    "THUMB_ASSET_IS_NOT_READY",
    "The thumbnail asset is not ready",
);
pub const THUMB_ASSET_ALREADY_EXISTS: Template = template(
    "THUMB_ASSET_ALREADY_EXISTS",
    "Thumbnail asset id \"@ASSET_ID@\" already use thumbnail params id \"@PARAMS_ID@\"",
);
pub const THUMB_ASSET_IS_DEFAULT: Template = template(
    "THUMB_ASSET_IS_DEFAULT",
    "Thumbnail asset \"@ASSET@\" is default and could not be deleted",
);
pub const FILE_CONTENT_NOT_SECURE: Template = template(
    "FILE_CONTENT_NOT_SECURE",
    "File content contains potential security risks",
);
pub const FILE_DOESNT_EXIST: Template = template("FILE_DOESNT_EXIST", "File doesnt exist");
pub const INVALID_FLAVOR_ASSET_ID: Template = template(
    "INVALID_FLAVOR_ASSET_ID",
    " Invalid flavor asset id @FLAV_ASSET_ID@",
);
pub const STORAGE_PROFILE_ID_NOT_FOUND: Template = template(
    "STORAGE_PROFILE_ID_NOT_FOUND",
    "Storage profile id @ID@ not found",
);
pub const STORAGE_PROFILE_RULES_NOT_FULFILLED: Template = template(
    "STORAGE_PROFILE_RULES_NOT_FULFILLED",
    "Storage profile rules for profile id @ID@ are not fulfilled",
);
pub const MAX_ASSETS_FOR_ENTRY_REACHED: Template = template(
    "MAX_ASSETS_FOR_ENTRY_REACHED",
    "Entry can contain maximum of \"@ASSETS@\" assets",
);
pub const FLAVOR_PARAMS_ID_NOT_FOUND: Template = template(
    "FLAVOR_PARAMS_ID_NOT_FOUND",
    "Flavor params id \"@ID@\" not found",
);

/// Stage of a call at which an error arose. Serve actions reply to errors raised
/// inside the action with headers and an empty body instead of an envelope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorStage {
    /// Decoding, session or permission checks before the action ran.
    Envelope,
    #[default]
    Action,
    /// Raised inside the action by an access-control check. The reference replies
    /// as the URL API does, with this URL API error number in headers and an empty
    /// body, even outside serve actions.
    UrlApi(u16),
}

/// A `KalturaAPIException`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    /// Argument names and values in template order.
    pub args: Vec<(String, String)>,
    pub stage: ErrorStage,
}

impl ApiError {
    /// Fills `template` with `values` in placeholder order; `None` renders as `N/A`.
    pub fn new(template: Template, values: &[Option<&str>]) -> Self {
        let names = placeholder_names(template.message);
        let args: Vec<(String, String)> = names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let value = values.get(index).copied().flatten().unwrap_or("N/A");
                (name.to_string(), strip_tags(value))
            })
            .collect();

        let mut message = template.message.to_string();
        for (name, value) in &args {
            message = message.replace(&format!("@{name}@"), value);
        }
        Self {
            code: template.code,
            message,
            args,
            stage: ErrorStage::Action,
        }
    }

    /// Fills `template` whose every argument is present.
    pub fn with(template: Template, values: &[&str]) -> Self {
        let values: Vec<Option<&str>> = values.iter().map(|v| Some(*v)).collect();
        Self::new(template, &values)
    }

    /// Marks the error as raised before the action ran.
    pub fn in_envelope(mut self) -> Self {
        self.stage = ErrorStage::Envelope;
        self
    }

    /// `INTERNAL_SERVERL_ERROR`, logging the cause that the client does not see.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        let chain = crate::service::error_chain(cause);
        tracing::error!(error = %chain, "API action failed");
        Self::with(INTERNAL_SERVERL_ERROR, &[])
    }

    /// `INVALID_KS` as the reference reports it: the failure name in the first
    /// argument, and the code and description fixed at -1 and INVALID_STR.
    pub fn invalid_ks(failure: &str) -> Self {
        Self::with(INVALID_KS, &[failure, "-1", "INVALID_STR"]).in_envelope()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::internal(&error)
    }
}

/// Names between `@` pairs, in order of appearance.
fn placeholder_names(message: &str) -> Vec<&str> {
    message.split('@').skip(1).step_by(2).collect()
}

/// Removes `<...>` tags, as PHP's `strip_tags` does for simple markup.
fn strip_tags(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut in_tag = false;
    for character in text.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            other if !in_tag => output.push(other),
            _ => {}
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_fills_named_arguments() {
        let error = ApiError::with(THUMB_ASSET_IS_DEFAULT, &["0_abc"]);
        assert_eq!(error.code, "THUMB_ASSET_IS_DEFAULT");
        assert_eq!(
            error.message,
            "Thumbnail asset \"0_abc\" is default and could not be deleted"
        );
        assert_eq!(error.args, vec![("ASSET".to_string(), "0_abc".to_string())]);
    }

    #[test]
    fn missing_argument_renders_na() {
        let error = ApiError::new(THUMB_ASSET_PARAMS_ID_NOT_FOUND, &[None]);
        assert_eq!(error.code, "THUMB_ASSET_ID_NOT_FOUND");
        assert_eq!(
            error.message,
            "The Thumbnail asset not found for params id \"N/A\""
        );
    }

    #[test]
    fn template_without_arguments_has_none() {
        let error = ApiError::with(FILE_DOESNT_EXIST, &[]);
        assert!(error.args.is_empty());
        assert_eq!(error.message, "File doesnt exist");
    }

    #[test]
    fn invalid_ks_uses_fixed_code() {
        let error = ApiError::invalid_ks("EXPIRED");
        assert_eq!(
            error.message,
            "Invalid KS \"EXPIRED\", Error \"-1,INVALID_STR\""
        );
        assert_eq!(error.stage, ErrorStage::Envelope);
    }

    #[test]
    fn tags_are_stripped_from_arguments() {
        let error = ApiError::with(ENTRY_ID_NOT_FOUND, &["<b>x</b>"]);
        assert_eq!(error.message, "Entry id \"x\" not found");
    }
}
