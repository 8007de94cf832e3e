//! Multirequest: several calls in one request, run in order, each result in its own
//! slot.
//!
//! Items are the top-level objects under index keys: `"0"`, `"1"`, … from the JSON
//! clients, or `1:service=…` form fields numbered from 1. They run in key order.
//! `ks`, `partnerId`, `clientTag` and `format` come from the top level unless the
//! item has its own. Before an item runs, every scalar that is a back-reference,
//! `{N:result}` or `{N:result:path:to:field}` with N counted from 1 in run order,
//! is replaced by that earlier result or one of its fields. A failing item leaves
//! an error in its slot and the batch goes on.

use std::future::Future;

use super::backref;
use super::call::build_call;
use crate::api::actions::{ApiCall, ClientInfo};
use crate::api::{ApiError, FileReply, Output, Param, Params, Value};

/// Top-level parameters that every item inherits unless it sets its own.
const INHERITED: [&str; 4] = ["ks", "partnerId", "clientTag", "format"];

/// Outcome of a multirequest.
#[derive(Debug)]
pub enum MultiOutcome {
    /// One result or error per item, in run order.
    Results(Vec<Result<Value, ApiError>>),
    /// An item returned a file. As on the Kaltura server, the file alone is the
    /// reply and later items do not run.
    File(FileReply),
}

/// One item, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The item's key in the request (`"0"` or `"1"` for the first item).
    pub key: u64,
    pub params: Params,
}

/// Splits the top-level parameters into the items, in key order, each with the
/// inherited parameters filled in. Top-level entries that are not objects under
/// an index key are common parameters, not items.
pub fn split_items(params: &Params) -> Vec<Item> {
    let mut items: Vec<Item> = params
        .entries
        .iter()
        .filter_map(|(name, value)| match (name.parse::<u64>(), value) {
            (Ok(key), Param::Object(item)) => Some(Item {
                key,
                params: item.clone(),
            }),
            _ => None,
        })
        .collect();
    items.sort_by_key(|item| item.key);

    for item in &mut items {
        inherit(&mut item.params, params);
    }
    items
}

fn inherit(item: &mut Params, common: &Params) {
    for name in INHERITED {
        if item.has(name) {
            continue;
        }
        if let Some(value) = common.get(name).filter(|value| **value != Param::Null) {
            item.insert(name, value.clone());
        }
    }
}

/// Runs the items one after another through `call`.
pub async fn run<F, Fut>(items: Vec<Item>, client: &ClientInfo, mut call: F) -> MultiOutcome
where
    F: FnMut(ApiCall) -> Fut,
    Fut: Future<Output = Result<Output, ApiError>>,
{
    let mut results: Vec<Result<Value, ApiError>> = Vec::with_capacity(items.len());

    for item in items {
        let prepared = backref::substitute(item.params, &results)
            .and_then(|params| build_call(params, client));
        let outcome = match prepared {
            Ok(api_call) => {
                let service = api_call.service.clone();
                let action = api_call.action.clone();
                let outcome = call(api_call).await;
                if let Err(error) = &outcome {
                    tracing::debug!(key = item.key, %service, %action, code = error.code, "multirequest item failed");
                }
                outcome
            }
            Err(error) => {
                tracing::debug!(
                    key = item.key,
                    code = error.code,
                    "multirequest item rejected"
                );
                Err(error)
            }
        };

        match outcome {
            Ok(Output::File(file)) => return MultiOutcome::File(file),
            Ok(Output::Value(value)) => results.push(Ok(value)),
            Err(error) => results.push(Err(error)),
        }
    }
    MultiOutcome::Results(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::error;
    use crate::http::api_v3::flat::params_from_pairs;
    use crate::http::api_v3::json_body::params_from_json;
    use std::sync::{Arc, Mutex};

    fn client() -> ClientInfo {
        ClientInfo {
            ip: "127.0.0.1".parse().unwrap(),
            referer: None,
            host: None,
        }
    }

    #[test]
    fn json_items_keyed_from_zero() {
        let params = params_from_json(
            br#"{"format":1,"ks":"KS_TOP","partnerId":100,"clientTag":"node",
                 "1":{"service":"thumbasset","action":"get","thumbAssetId":"b"},
                 "0":{"service":"thumbasset","action":"get","thumbAssetId":"a","ks":"KS_ITEM"},
                 "10":{"service":"thumbparams","action":"get","id":1001}}"#,
        )
        .unwrap();
        let items = split_items(&params);
        let keys: Vec<u64> = items.iter().map(|item| item.key).collect();
        assert_eq!(keys, [0, 1, 10]);

        assert_eq!(items[0].params.text("ks"), Some("KS_ITEM"));
        assert_eq!(items[1].params.text("ks"), Some("KS_TOP"));
        assert_eq!(items[1].params.text("partnerId"), Some("100"));
        assert_eq!(items[1].params.text("clientTag"), Some("node"));
        assert_eq!(items[2].params.text("format"), Some("1"));
        assert_eq!(items[2].params.text("id"), Some("1001"));
    }

    #[test]
    fn form_items_keyed_from_one() {
        let params = params_from_pairs([
            ("service", "multirequest"),
            ("ks", "KS"),
            ("2:service", "media"),
            ("2:action", "get"),
            ("1:service", "session"),
            ("1:action", "start"),
            ("1:entry:name", "clip"),
        ]);
        let items = split_items(&params);
        let keys: Vec<u64> = items.iter().map(|item| item.key).collect();
        assert_eq!(keys, [1, 2]);
        assert_eq!(items[0].params.text("service"), Some("session"));
        assert_eq!(
            items[0].params.object("entry").and_then(|e| e.text("name")),
            Some("clip")
        );
        assert_eq!(items[1].params.text("ks"), Some("KS"));
    }

    #[test]
    fn null_item_value_inherits() {
        let params =
            params_from_json(br#"{"ks":"TOP","0":{"service":"a","action":"b","ks":null}}"#)
                .unwrap();
        assert_eq!(split_items(&params)[0].params.text("ks"), Some("TOP"));
    }

    #[tokio::test]
    async fn failing_item_does_not_stop_the_batch() {
        let params = params_from_json(
            br#"{"0":{"service":"media","action":"add"},
                 "1":{"service":"nosuch","action":"x"},
                 "2":{"action":"x"},
                 "3":{"service":"thumbasset","action":"addFromImage","entryId":"{1:result:id}"}}"#,
        )
        .unwrap();
        let seen: Arc<Mutex<Vec<ApiCall>>> = Arc::default();
        let recorder = seen.clone();
        let outcome = run(split_items(&params), &client(), move |call: ApiCall| {
            recorder.lock().unwrap().push(call.clone());
            async move {
                match call.service.as_str() {
                    "media" => Ok(Output::from(
                        Object::new("KalturaMediaEntry").with("id", "0_new"),
                    )),
                    "thumbasset" => Ok(Output::from(Value::from(
                        call.params.text("entryId").unwrap_or_default(),
                    ))),
                    other => Err(ApiError::with(error::SERVICE_DOES_NOT_EXISTS, &[other])),
                }
            }
        })
        .await;

        let MultiOutcome::Results(results) = outcome else {
            panic!("expected results");
        };
        assert_eq!(results.len(), 4);
        assert!(matches!(&results[0], Ok(Value::Object(_))));
        assert_eq!(
            results[1].as_ref().unwrap_err().code,
            "SERVICE_DOES_NOT_EXISTS"
        );
        assert_eq!(
            results[2].as_ref().unwrap_err().code,
            "SERVICE_NOT_SPECIFIED"
        );
        assert_eq!(results[3], Ok(Value::from("0_new")));

        let calls = seen.lock().unwrap();
        let services: Vec<&str> = calls.iter().map(|call| call.service.as_str()).collect();
        assert_eq!(services, ["media", "nosuch", "thumbasset"]);
        assert_eq!(calls[2].action, "addfromimage");
    }

    #[tokio::test]
    async fn file_result_ends_the_batch() {
        let params = params_from_json(
            br#"{"0":{"service":"thumbasset","action":"serve"},"1":{"service":"media","action":"get"}}"#,
        )
        .unwrap();
        let outcome = run(split_items(&params), &client(), |_call: ApiCall| async {
            Ok(Output::File(FileReply {
                bytes: bytes::Bytes::from_static(b"jpg"),
                content_type: "image/jpeg".to_string(),
                max_age: 0,
                download_name: None,
            }))
        })
        .await;
        assert!(matches!(outcome, MultiOutcome::File(file) if file.content_type == "image/jpeg"));
    }
}
