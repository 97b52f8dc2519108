//! The HTTP contract, `openapi.yaml`, checked against the functions' real responses.
//!
//! [`assert_contract`] finds the operation of a route key ("POST /subscriptions/{serial}/upgrade"),
//! the response documented for the status, checks the required headers and the content type,
//! and validates the body with a small JSON Schema validator covering exactly what
//! `openapi.yaml` uses: `type` (one or a list), `properties`, `required`,
//! `additionalProperties`, `enum`, `const`, `items`, `oneOf`, `allOf`, `$ref` to
//! components, `minLength`/`maxLength`, `minimum` and `format` `date`/`date-time`. Any
//! other keyword in the document is an error, so the document cannot say more than is
//! checked.

use std::path::PathBuf;
use std::sync::OnceLock;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

/// The keywords [`validate`] checks.
const SUPPORTED: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "allOf",
    "oneOf",
    "minLength",
    "maxLength",
    "minimum",
    "format",
];
/// Keywords that only annotate; everything else must be one the validator checks.
const ANNOTATIONS: &[&str] = &["description", "examples", "example", "title", "default", "deprecated", "summary"];

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

/// Validates `value` against `schema`; the error names where (`body.groups[0].key`) and why.
pub fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return match schema {
            Value::Bool(true) => Ok(()),
            Value::Bool(false) => Err(format!("{at}: nothing is allowed here")),
            _ => Err(format!("{at}: the schema is not an object: {schema}")),
        };
    };
    for (keyword, arg) in s {
        match keyword.as_str() {
            "$ref" => validate(doc, resolve(doc, schema)?, value, at)?,
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                    other => other.as_str().into_iter().collect(),
                };
                if !types.iter().any(|t| has_type(value, t)) {
                    return Err(format!("{at}: {} is not of type {}", short(value), types.join(" or ")));
                }
            }
            "enum" => {
                let options = arg.as_array().ok_or("enum is not a list")?;
                if !options.contains(value) {
                    return Err(format!("{at}: {} is not one of {arg}", short(value)));
                }
            }
            "const" if arg != value => return Err(format!("{at}: {} is not {arg}", short(value))),
            "const" => {}
            "required" => {
                if let Some(obj) = value.as_object() {
                    for name in arg.as_array().ok_or("required is not a list")?.iter().filter_map(Value::as_str) {
                        if !obj.contains_key(name) {
                            return Err(format!("{at}: the required field {name:?} is missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(obj) = value.as_object() {
                    for (name, sub) in arg.as_object().ok_or("properties is not a map")? {
                        if let Some(v) = obj.get(name) {
                            validate(doc, sub, v, &format!("{at}.{name}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = s.get("properties").and_then(Value::as_object);
                    for (name, v) in obj.iter().filter(|(n, _)| !known.is_some_and(|k| k.contains_key(*n))) {
                        match arg {
                            Value::Bool(false) => return Err(format!("{at}: the field {name:?} is not documented")),
                            other => validate(doc, other, v, &format!("{at}.{name}"))?,
                        }
                    }
                }
            }
            "items" => {
                if let Some(list) = value.as_array() {
                    for (i, v) in list.iter().enumerate() {
                        validate(doc, arg, v, &format!("{at}[{i}]"))?;
                    }
                }
            }
            "allOf" => {
                for sub in arg.as_array().ok_or("allOf is not a list")? {
                    validate(doc, sub, value, at)?;
                }
            }
            "oneOf" => {
                let subs = arg.as_array().ok_or("oneOf is not a list")?;
                let results: Vec<Result<(), String>> = subs.iter().map(|sub| validate(doc, sub, value, at)).collect();
                let passed = results.iter().filter(|r| r.is_ok()).count();
                if passed != 1 {
                    let why: Vec<String> = results.into_iter().filter_map(Result::err).collect();
                    return Err(format!("{at}: matches {passed} of the oneOf schemas, not 1 ({})", why.join("; ")));
                }
            }
            "minLength" | "maxLength" => {
                if let Some(text) = value.as_str() {
                    let (len, limit) = (text.chars().count() as u64, arg.as_u64().ok_or("length is not a number")?);
                    if (keyword == "minLength" && len < limit) || (keyword == "maxLength" && len > limit) {
                        return Err(format!("{at}: {len} characters breaks {keyword} {limit}"));
                    }
                }
            }
            "minimum" => {
                if let (Some(n), Some(min)) = (value.as_f64(), arg.as_f64()) {
                    if n < min {
                        return Err(format!("{at}: {n} is under the minimum {min}"));
                    }
                }
            }
            "format" => {
                if let Some(text) = value.as_str() {
                    let ok = match arg.as_str() {
                        Some("date") => is_date(text),
                        Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                        other => return Err(format!("{at}: format {other:?} is not supported by the validator")),
                    };
                    if !ok {
                        return Err(format!("{at}: {text:?} is not a {arg}"));
                    }
                }
            }
            k if ANNOTATIONS.contains(&k) => {}
            k => return Err(format!("{at}: the schema keyword {k:?} is not supported by the validator")),
        }
    }
    Ok(())
}

/// Keywords of the document's schemas that [`validate`] does not know, as "where: keyword".
pub fn unsupported_keywords(doc: &Value) -> Vec<String> {
    fn walk(schema: &Value, at: &str, out: &mut Vec<String>) {
        let Some(s) = schema.as_object() else { return };
        for (k, v) in s {
            match k.as_str() {
                "properties" => {
                    v.as_object().into_iter().flatten().for_each(|(n, sub)| walk(sub, &format!("{at}.{n}"), out))
                }
                "items" | "additionalProperties" => walk(v, &format!("{at}[{k}]"), out),
                "oneOf" | "allOf" => v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .for_each(|(i, sub)| walk(sub, &format!("{at}.{k}[{i}]"), out)),
                k if SUPPORTED.contains(&k) || ANNOTATIONS.contains(&k) => {}
                k => out.push(format!("{at}: {k}")),
            }
        }
    }
    let mut out = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        walk(schema, name, &mut out);
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            for (status, res) in op["responses"].as_object().into_iter().flatten() {
                for (media, content) in res["content"].as_object().into_iter().flatten() {
                    walk(&content["schema"], &format!("{method} {path} {status} {media}"), &mut out);
                }
            }
        }
    }
    for (name, res) in doc["components"]["responses"].as_object().into_iter().flatten() {
        for (media, content) in res["content"].as_object().into_iter().flatten() {
            walk(&content["schema"], &format!("{name} {media}"), &mut out);
        }
    }
    out
}

/// Follows a `$ref` ("#/components/...") if the object is one.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> Result<&'a Value, String> {
    match v.get("$ref").and_then(Value::as_str) {
        None => Ok(v),
        Some(r) => {
            let pointer = r.strip_prefix('#').ok_or_else(|| format!("only local $ref are supported: {r}"))?;
            doc.pointer(pointer).ok_or_else(|| format!("$ref {r} points at nothing"))
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// `YYYY-MM-DD`, digits exactly there, and a real day.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
        && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// "/subscriptions/{serial}/upgrade" matches "/subscriptions/SKSNWR4TQ7/upgrade".
fn path_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

fn keys(v: &Value) -> String {
    v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default()
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s
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
    use serde_json::json;

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

    fn check_list(item: Value) -> Result<(), String> {
        let res = response(200, "application/json", &json!({ "subscriptions": [item] }));
        check_response(spec(), "GET /subscriptions", &res)
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
        let err = check_list(missing).unwrap_err();
        assert!(err.contains("\"status\" is missing"), "{err}");

        let mut wrong_type = item();
        wrong_type["users"] = json!("1");
        let err = check_list(wrong_type).unwrap_err();
        assert!(err.contains("body.subscriptions[0].users") && err.contains("type integer"), "{err}");

        let mut unknown = item();
        unknown["plan"] = json!("rental");
        let err = check_list(unknown).unwrap_err();
        assert!(err.contains("body.subscriptions[0].plan") && err.contains("not one of"), "{err}");

        let mut bad_date = item();
        bad_date["activated_on"] = json!("10/02/2022");
        assert!(check_list(bad_date).unwrap_err().contains("not a \"date\""));

        let mut half_offer = item();
        half_offer["upgrade"] = json!({"available": true, "reason": "latest_version"});
        assert!(check_list(half_offer).unwrap_err().contains("0 of the oneOf"));

        let mut extra = item();
        extra["internal"] = json!("pk");
        assert!(check_list(extra).unwrap_err().contains("\"internal\" is not documented"));
    }

    #[test]
    fn problems_are_checked_by_status_code_and_headers() {
        let problem =
            |status: u16, code: &str| json!({"type": "t", "title": "T", "status": status, "detail": "d", "code": code});
        let ok = response(401, "application/problem+json", &problem(401, "unauthorized"));
        check_response(spec(), "GET /subscriptions", &ok).unwrap();
        let other_code = response(401, "application/problem+json", &problem(401, "invalid_credentials"));
        assert!(check_response(spec(), "GET /subscriptions", &other_code).is_err());
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
        assert!(check_response(spec(), "POST /login", &retry).unwrap_err().contains("header Retry-After"));
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

    #[test]
    fn every_schema_of_the_document_uses_only_supported_keywords() {
        assert_eq!(unsupported_keywords(spec()), Vec::<String>::new());
        let doc = json!({"components": {"schemas": {"A": {"properties": {"x": {"pattern": "^a$"}}}}}});
        assert_eq!(unsupported_keywords(&doc), ["A.x: pattern"]);
    }
}
