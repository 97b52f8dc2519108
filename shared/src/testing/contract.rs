//! The HTTP contract, `openapi.yaml`, checked against the functions' real responses.
//!
//! [`assert_contract`] finds the operation of a route key ("POST /subscriptions/{serial}/upgrade"),
//! the response documented for the status, checks the required headers and the content type,
//! and validates the headers' values and the body with the `jsonschema` crate: JSON Schema
//! Draft 2020-12 in full (the dialect of OpenAPI 3.1), `format` (`date`, `date-time`)
//! asserted and an unknown one refused, `$ref` to the document's `components`, nothing
//! fetched from anywhere.

use std::path::PathBuf;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::ValidationError;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Value};

/// `openapi.yaml` at the workspace root, as JSON.
pub fn spec() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("openapi.yaml: {e}"));
        serde_json::to_value(yaml).unwrap_or_else(|e| panic!("openapi.yaml as JSON: {e}"))
    })
}

/// The route key of a fixture's request: API Gateway's `routeKey` ("ANY /login" with the
/// request's method for "ANY"), or "METHOD /path" when the event has none or `$default`.
pub fn route_key(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(key) = ctx.route_key.as_deref().filter(|k| *k != "$default" && !k.is_empty()) {
            return match key.strip_prefix("ANY ") {
                Some(path) => format!("{} {path}", req.method()),
                None => key.to_string(),
            };
        }
    }
    format!("{} {}", req.method(), crate::http::route_path(req))
}

/// Panics, saying why, unless `res` is a response `openapi.yaml` documents for `route_key`.
pub fn assert_contract(route_key: &str, res: &Response<Body>) {
    if let Err(why) = check_response(spec(), route_key, res) {
        panic!(
            "contract (openapi.yaml) broken by {route_key} answering {}: {why}\nbody: {}",
            res.status().as_u16(),
            body_text(res)
        );
    }
}

/// What [`assert_contract`] checks, against any OpenAPI document `doc`.
pub fn check_response(doc: &Value, route_key: &str, res: &Response<Body>) -> Result<(), String> {
    let (method, path) =
        route_key.split_once(' ').ok_or_else(|| format!("route key {route_key:?} is not \"METHOD /path\""))?;
    let paths = doc["paths"].as_object().ok_or("the document has no paths")?;
    let item = paths
        .get(path)
        .or_else(|| paths.iter().find(|(template, _)| path_matches(template, path)).map(|(_, v)| v))
        .ok_or_else(|| format!("no path of the document matches {path}"))?;
    let status = res.status().as_u16().to_string();
    let response = match item.get(method.to_ascii_lowercase()) {
        Some(op) => op["responses"]
            .get(&status)
            .ok_or_else(|| format!("status {status} is not documented (documented: {})", keys(&op["responses"])))?,
        // Another method on a served path: the document's 405 for every path, or the
        // preflight's 204.
        None if status == "405" => &doc["components"]["responses"]["MethodNotAllowed"],
        None if status == "204" && method.eq_ignore_ascii_case("OPTIONS") => {
            &doc["components"]["responses"]["Preflight"]
        }
        None => return Err(format!("{method} is not an operation of {path}, and only 405 may answer it")),
    };
    let response = resolve(doc, response)?;
    if let Some(headers) = response["headers"].as_object() {
        for (name, header) in headers {
            let header = resolve(doc, header)?;
            match res.headers().get(name.as_str()).map(|v| v.to_str().unwrap_or_default()) {
                None if header["required"] == true => return Err(format!("header {name} is required")),
                None => {}
                Some(v) => {
                    // A header is text: read it as the integer its schema may ask for.
                    let number = (header["schema"]["type"] == "integer").then(|| v.parse::<i64>().ok()).flatten();
                    let value = number.map_or_else(|| Value::from(v), Value::from);
                    validate(doc, &header["schema"], &value, &format!("header {name}"))?;
                }
            }
        }
    }
    let text = body_text(res);
    let Some(content) = response["content"].as_object() else {
        return if text.is_empty() { Ok(()) } else { Err("the document says no body".into()) };
    };
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = ctype.split(';').next().unwrap_or_default().trim();
    let media_type = content.get(media).ok_or_else(|| {
        format!("content type {ctype:?} is not documented (documented: {})", keys(&response["content"]))
    })?;
    let body: Value = serde_json::from_str(&text).map_err(|e| format!("body is not JSON: {e}"))?;
    validate(doc, &media_type["schema"], &body, "body")
}

/// Validates `value` against `schema`, a schema of `doc` whose `$ref` may point into the
/// document's `components`: Draft 2020-12 (the dialect of OpenAPI 3.1) in full, `format`
/// asserted and an unknown format refused, nothing fetched. The error lists every failure,
/// each saying where (`body/subscriptions/0/users`, a JSON pointer after `at`) and why.
pub fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    // The schema under a root holding the document's components, so that
    // "#/components/..." resolves against the root as it would in the document.
    let root = json!({ "components": doc["components"], "allOf": [schema] });
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .offline()
        .build(&root)
        .map_err(|e| format!("{at}: the document's schema is not usable: {e}"))?;
    let errors: Vec<String> = validator.iter_errors(value).map(|e| describe(&e, at)).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// "body/subscriptions/0/users: \"1\" is not of type \"integer\"", with the reasons of each
/// branch of a failed `oneOf` or `anyOf`, and a long value cut short.
fn describe(e: &ValidationError<'_>, at: &str) -> String {
    let value = e.instance().to_string();
    let why = if value.chars().count() > 80 { e.masked_with(short(&value)).to_string() } else { e.to_string() };
    let mut text = format!("{at}{}: {why}", e.instance_path());
    if let ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } = e.kind() {
        let branches: Vec<String> = context
            .iter()
            .enumerate()
            .map(|(i, errors)| {
                let reasons: Vec<String> = errors.iter().map(|e| describe(e, at)).collect();
                format!("[{i}] {}", reasons.join(", "))
            })
            .collect();
        text.push_str(&format!(" ({})", branches.join("; ")));
    }
    text
}

/// Follows the `$ref` ("#/components/...") of a response or header object if it has one.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> Result<&'a Value, String> {
    match v.get("$ref").and_then(Value::as_str) {
        None => Ok(v),
        Some(r) => {
            let pointer = r.strip_prefix('#').ok_or_else(|| format!("only local $ref are supported: {r}"))?;
            doc.pointer(pointer).ok_or_else(|| format!("$ref {r} points at nothing"))
        }
    }
}

/// "/subscriptions/{serial}/upgrade" matches "/subscriptions/SKSNWR4TQ7/upgrade".
fn path_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

fn keys(v: &Value) -> String {
    v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default()
}

fn short(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

fn body_text(res: &Response<Body>) -> String {
    match res.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, ctype: &str, body: &Value) -> Response<Body> {
        Response::builder().status(status).header("content-type", ctype).body(Body::Text(body.to_string())).unwrap()
    }

    fn item() -> Value {
        json!({
            "serial": "SKSNWR4TQ7", "system": "SAE", "system_name": "Aspel SAE", "version": "7.0",
            "users": 1, "plan": "subscription", "billing_period": "monthly",
            "activated_on": "2022-02-10", "next_payment_on": "2022-03-10", "status": "active",
            "valid_until": null, "upgraded_from": null, "superseded_by": null,
            "upgrade": {"available": true, "to_version": "8.0", "terms": {"version": "2022-10", "text": "..."}}
        })
    }

    fn list(item: Value) -> Response<Body> {
        response(200, "application/json", &json!({ "subscriptions": [item] }))
    }

    fn check_list(item: Value) -> Result<(), String> {
        check_response(spec(), "GET /subscriptions", &list(item))
    }

    /// The error of a body `check_list` must refuse.
    fn refused(item: Value) -> String {
        check_list(item.clone()).expect_err(&format!("accepted: {item}"))
    }

    #[test]
    fn the_document_accepts_a_right_body() {
        check_list(item()).unwrap();
        let mut license = item();
        license["billing_period"] = Value::Null;
        license["upgrade"] = json!({"available": false, "reason": "purchase_required"});
        check_list(license).unwrap();
        let grouped = json!({"groups": [{"key": null, "subscriptions": [item()]}]});
        check_response(spec(), "GET /subscriptions", &response(200, "application/json", &grouped)).unwrap();
    }

    #[test]
    fn a_wrong_body_is_rejected_saying_where() {
        let mut missing = item();
        missing.as_object_mut().unwrap().remove("status");
        let err = refused(missing);
        assert!(err.contains("body/subscriptions/0: \"status\" is a required property"), "{err}");

        let mut wrong_type = item();
        wrong_type["users"] = json!("1");
        let err = refused(wrong_type);
        assert!(err.contains("body/subscriptions/0/users: \"1\" is not of type \"integer\""), "{err}");

        let mut negative = item();
        negative["users"] = json!(-1);
        assert!(refused(negative).contains("body/subscriptions/0/users: -1 is less than the minimum of 0"));

        let mut unknown = item();
        unknown["plan"] = json!("rental");
        let err = refused(unknown);
        assert!(err.contains("body/subscriptions/0/plan: \"rental\" is not one of"), "{err}");

        let mut bad_date = item();
        bad_date["activated_on"] = json!("10/02/2022");
        let err = refused(bad_date);
        assert!(err.contains("body/subscriptions/0/activated_on: \"10/02/2022\" is not a \"date\""), "{err}");
        let mut no_such_day = item();
        no_such_day["next_payment_on"] = json!("2022-02-30");
        assert!(refused(no_such_day).contains("\"2022-02-30\" is not a \"date\""));

        let date_time = json!({"type": "string", "format": "date-time"});
        validate(spec(), &date_time, &json!("2022-02-10T12:00:00Z"), "body").unwrap();
        let err = validate(spec(), &date_time, &json!("2022-02-10 12:00"), "body").unwrap_err();
        assert_eq!(err, "body: \"2022-02-10 12:00\" is not a \"date-time\"");

        let mut half_offer = item();
        half_offer["upgrade"] = json!({"available": true, "reason": "latest_version"});
        let err = refused(half_offer);
        assert!(err.contains("body/subscriptions/0/upgrade") && err.contains("'oneOf'"), "{err}");
        assert!(err.contains("\"to_version\" is a required property"), "the branches' reasons: {err}");

        let mut extra = item();
        extra["internal"] = json!("pk");
        let err = refused(extra);
        assert!(err.contains("Additional properties are not allowed ('internal' was unexpected)"), "{err}");

        let mut two = item();
        two["users"] = json!("1");
        two["plan"] = json!("rental");
        let err = validate(spec(), &json!({"$ref": "#/components/schemas/Subscription"}), &two, "item").unwrap_err();
        assert!(err.contains("item/users: ") && err.contains("; ") && err.contains("item/plan: "), "all: {err}");
    }

    #[test]
    fn problems_are_checked_by_status_code_and_headers() {
        let problem =
            |status: u16, code: &str| json!({"type": "t", "title": "T", "status": status, "detail": "d", "code": code});
        let ok = response(401, "application/problem+json", &problem(401, "unauthorized"));
        check_response(spec(), "GET /subscriptions", &ok).unwrap();
        let other_code = response(401, "application/problem+json", &problem(401, "invalid_credentials"));
        assert!(check_response(spec(), "GET /subscriptions", &other_code).unwrap_err().contains("body/code"));
        let other_status = response(401, "application/problem+json", &problem(400, "unauthorized"));
        assert!(check_response(spec(), "GET /subscriptions", &other_status).unwrap_err().contains("body/status"));
        let unknown_code = response(401, "application/problem+json", &problem(401, "nope"));
        assert!(check_response(spec(), "GET /subscriptions", &unknown_code).unwrap_err().contains("code"));
        let as_json = response(401, "application/json", &problem(401, "unauthorized"));
        assert!(check_response(spec(), "GET /subscriptions", &as_json).unwrap_err().contains("content type"));
        let teapot = response(418, "application/problem+json", &problem(418, "unauthorized"));
        assert!(check_response(spec(), "GET /subscriptions", &teapot).unwrap_err().contains("not documented"));
        let no_retry = response(503, "application/problem+json", &problem(503, "unavailable"));
        assert!(check_response(spec(), "POST /login", &no_retry).unwrap_err().contains("Retry-After"));
        let mut retry = response(503, "application/problem+json", &problem(503, "unavailable"));
        retry.headers_mut().insert("retry-after", "5".parse().unwrap());
        check_response(spec(), "POST /login", &retry).unwrap();
        retry.headers_mut().insert("retry-after", "soon".parse().unwrap());
        let err = check_response(spec(), "POST /login", &retry).unwrap_err();
        assert!(err.contains("header Retry-After: \"soon\" is not of type \"integer\""), "{err}");
    }

    #[test]
    fn routes_are_found_by_template_and_other_methods_only_get_405() {
        let mut res = response(
            405,
            "application/problem+json",
            &json!({
                "type": "t", "title": "T", "status": 405, "detail": "d", "code": "method_not_allowed"
            }),
        );
        res.headers_mut().insert("allow", "POST".parse().unwrap());
        check_response(spec(), "GET /login", &res).unwrap();
        let ok = response(200, "application/json", &json!({"status": "accepted"}));
        assert!(check_response(spec(), "GET /login", &ok).is_err());
        let not_found = response(
            404,
            "application/problem+json",
            &json!({
                "type": "t", "title": "T", "status": 404, "detail": "d", "code": "not_found"
            }),
        );
        check_response(spec(), "POST /serials/SKSNWR4TQ7/validate", &not_found).unwrap();
        assert!(check_response(spec(), "POST /nowhere", &not_found).unwrap_err().contains("no path"));
        let empty = Response::builder().status(204).body(Body::Empty).unwrap();
        check_response(spec(), "POST /logout", &empty).unwrap();
        check_response(spec(), "OPTIONS /subscriptions/SKSNWR4TQD/upgrade", &empty).unwrap();
        assert!(check_response(spec(), "GET /logout", &empty).is_err());
    }

    #[test]
    fn route_keys_come_from_the_event() {
        let get = crate::testing::fixture("login-wrong-method", &[]);
        assert_eq!(route_key(&get), "GET /login", "an ANY route takes the request's method");
        let post = crate::testing::fixture("logout", &[("TOKEN", "x")]);
        assert_eq!(route_key(&post), "POST /logout");
    }

    /// Every schema of every response the document declares (and of every header) builds:
    /// no `$ref` points at nothing, no keyword is malformed, no format is unknown.
    #[test]
    fn every_schema_of_the_document_builds() {
        let doc = spec();
        let mut responses: Vec<(String, &Value)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, res) in op["responses"].as_object().into_iter().flatten() {
                    responses.push((format!("{method} {path} {status}"), res));
                }
            }
        }
        for (name, res) in doc["components"]["responses"].as_object().unwrap() {
            responses.push((name.clone(), res));
        }
        assert!(responses.len() > 40, "{}", responses.len());
        let mut schemas = 0;
        for (name, res) in responses {
            let res = resolve(doc, res).unwrap();
            let headers =
                res["headers"].as_object().into_iter().flatten().map(|(_, h)| &resolve(doc, h).unwrap()["schema"]);
            let contents = res["content"].as_object().into_iter().flatten().map(|(_, c)| &c["schema"]);
            for schema in headers.chain(contents) {
                // Any value: only an error about the schema itself, not the value, fails here.
                if let Err(e) = validate(doc, schema, &Value::Null, &name) {
                    assert!(!e.contains("not usable"), "{e}");
                }
                schemas += 1;
            }
        }
        assert!(schemas > 40, "{schemas}");
        let dangling = json!({"components": {}, "paths": {}});
        let err = validate(&dangling, &json!({"$ref": "#/components/schemas/Nothing"}), &json!(1), "body").unwrap_err();
        assert!(err.contains("not usable"), "{err}");
        let unknown_format = json!({"type": "string", "format": "serial"});
        assert!(validate(&dangling, &unknown_format, &json!("x"), "body").unwrap_err().contains("not usable"));
    }

    /// The check follows the document it is given: a copy of openapi.yaml with one schema
    /// changed refuses what the real one accepts, through `$ref`, and keywords the old
    /// hand-written validator did not know are checked too.
    #[test]
    fn a_changed_document_changes_the_verdict() {
        check_list(item()).unwrap();
        let mut doc = spec().clone();
        doc["components"]["schemas"]["Terms"]["properties"]["text"] = json!({"type": "integer"});
        let err = check_response(&doc, "GET /subscriptions", &list(item())).unwrap_err();
        assert!(err.contains("body/subscriptions/0/upgrade"), "{err}");
        assert!(err.contains("/upgrade/terms/text: \"...\" is not of type \"integer\""), "{err}");

        let mut doc = spec().clone();
        doc["components"]["schemas"]["Subscription"]["properties"]["serial"] =
            json!({"type": "string", "pattern": "^[0-9]+$"});
        let err = check_response(&doc, "GET /subscriptions", &list(item())).unwrap_err();
        assert!(err.contains("body/subscriptions/0/serial: \"SKSNWR4TQ7\" does not match \"^[0-9]+$\""), "{err}");

        let mut doc = spec().clone();
        doc["components"]["schemas"]["SubscriptionList"]["properties"]["subscriptions"]["maxItems"] = json!(0);
        assert!(check_response(&doc, "GET /subscriptions", &list(item())).unwrap_err().contains("more than 0 item"));

        let mut doc = spec().clone();
        doc["components"]["schemas"]["Plan"] = json!({"$ref": "#/components/schemas/Gone"});
        assert!(check_response(&doc, "GET /subscriptions", &list(item())).unwrap_err().contains("not usable"));
    }
}
