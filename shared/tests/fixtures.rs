//! The API Gateway events under `events/` against the routes `template.yaml` declares:
//! every route has a fixture, every fixture is an HTTP API (payload 2.0) event of a
//! declared route (or `$default`), and `lambda_http` reads each one as such.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde_json::Value;
use serde_yaml::Value as Yaml;
use shared::domain::token::{issue_session_token, issue_token, random_id};
use shared::domain::{AccountId, Serial, SerialError};
use shared::testing::contract::spec;
use shared::testing::{events_dir, fixture_text};

/// The routes of `docs/product.md` section 2 ("Routes"), each an operation of `openapi.yaml`.
const DOCUMENTED_ROUTES: [&str; 18] = [
    "POST /login",
    "POST /login/mfa",
    "POST /logout",
    "POST /password-reset",
    "POST /password-reset/confirm",
    "GET /subscriptions",
    "POST /subscriptions/{serial}/upgrade",
    "POST /subscriptions/{serial}/license-file",
    "POST /serials/{serial}/validate",
    "GET /.well-known/jwks.json",
    "POST /password",
    "GET /sessions",
    "DELETE /sessions/{id}",
    "POST /mfa/totp",
    "POST /mfa/totp/confirm",
    "DELETE /mfa/totp",
    "POST /email-change",
    "POST /email-change/confirm",
];

/// Every `HttpApi` event of every resource of the template, as API Gateway route keys.
fn template_routes() -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let doc: Yaml = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let resources = doc["Resources"].as_mapping().expect("template.yaml has Resources");
    let mut routes = BTreeSet::new();
    for (name, resource) in resources {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for (event, definition) in events {
            if definition["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let props = &definition["Properties"];
            let at = format!("{name:?}.Events.{event:?}");
            let method = props["Method"].as_str().unwrap_or_else(|| panic!("{at} has no literal Method"));
            let path = props["Path"].as_str().unwrap_or_else(|| panic!("{at} has no literal Path"));
            assert_eq!(
                props["PayloadFormatVersion"].as_str(),
                Some("2.0"),
                "{at}: the fixtures are payload format 2.0 events"
            );
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes
}

/// A plausible value for each placeholder the fixtures use.
fn placeholder_value(key: &str) -> String {
    match key {
        "SERIAL" => Serial::generate().unwrap().to_string(),
        "TOKEN" => issue_token().unwrap().secret,
        "EMAIL" => "ana@example.com".into(),
        "PASSWORD" => "Comercial-2026".into(),
        "TERMS_VERSION" => "2022-10".into(),
        "COMPANY" => "Comercial Ruiz SA de CV".into(),
        "NONCE" => "n-20261201-0001".into(),
        "INSTALLATION" => "INST-7F3A-22C9".into(),
        "NEW_PASSWORD" => "ñandú pirata ñoño volcán".into(),
        "SESSION_ID" => random_id().unwrap(),
        "CODE" => "492039".into(),
        "NEW_EMAIL" => "ana.nueva@example.com".into(),
        "EMAIL_CHANGE_TOKEN" => issue_token().unwrap().secret,
        "MFA_TOKEN" => issue_session_token(&AccountId::generate().unwrap()).unwrap().secret,
        other => panic!("placeholder {{{{{other}}}}} is new: give it a plausible value in this test"),
    }
}

/// The `{{KEY}}` placeholders of a text.
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").expect("a placeholder is closed by }}");
        keys.insert(after[..end].to_string());
        rest = &after[end + 2..];
    }
    keys
}

struct Fixture {
    name: String,
    text: String,
    json: Value,
}

impl Fixture {
    fn route_key(&self) -> &str {
        self.json["routeKey"].as_str().unwrap_or_else(|| panic!("events/{}.json has no routeKey", self.name))
    }
}

/// Every `events/*.json`, placeholders filled in.
fn fixtures() -> Vec<Fixture> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures under events/");
    names
        .into_iter()
        .map(|name| {
            let raw = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
            let values: Vec<(String, String)> = placeholders(&raw)
                .into_iter()
                .map(|k| {
                    let v = placeholder_value(&k);
                    (k, v)
                })
                .collect();
            let vars: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let text = fixture_text(&name, &vars);
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{name}.json is not JSON: {e}"));
            Fixture { name, text, json }
        })
        .collect()
}

#[test]
fn the_template_declares_the_documented_routes() {
    let routes = template_routes();
    let product = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/product.md"))
        .expect("read docs/product.md");
    let paths = spec()["paths"].as_object().expect("openapi.yaml has paths");
    for route in DOCUMENTED_ROUTES {
        assert!(routes.contains(route), "template.yaml lacks {route}; it has {routes:?}");
        assert!(product.contains(route), "docs/product.md does not describe {route}");
        let (method, path) = route.split_once(' ').unwrap();
        assert!(
            paths.get(path).is_some_and(|item| item[method.to_lowercase()].is_object()),
            "openapi.yaml has no operation for {route}"
        );
    }
}

/// `ANY <path>` routes only carry the methods a path does not serve to its function (for
/// its 405); one fixture shows that, the served routes each need their own.
#[test]
fn every_template_route_has_a_fixture() {
    let fixtures = fixtures();
    let covered: BTreeSet<&str> = fixtures.iter().map(Fixture::route_key).collect();
    let missing: Vec<String> =
        template_routes().into_iter().filter(|r| !r.starts_with("ANY ") && !covered.contains(r.as_str())).collect();
    assert!(missing.is_empty(), "routes without a fixture under events/: {missing:?}");
    assert!(covered.iter().any(|r| r.starts_with("ANY ")), "no fixture of a method catch-all route");
    for route in template_routes().iter().filter(|r| r.starts_with("ANY ")) {
        let path = &route["ANY ".len()..];
        assert!(
            template_routes().iter().any(|r| !r.starts_with("ANY ") && r.ends_with(&format!(" {path}"))),
            "{route} catches methods of a path no function serves"
        );
    }
}

#[test]
fn every_fixture_is_for_a_template_route_or_default() {
    let routes = template_routes();
    for f in fixtures() {
        let key = f.route_key();
        assert!(
            key == "$default" || routes.contains(key),
            "events/{}.json: routeKey {key:?} is not in template.yaml",
            f.name
        );
    }
}

/// Matches a concrete path against a route path such as `/serials/{serial}/validate`;
/// returns the path parameters, or `None` when it does not match.
fn match_route(pattern: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let (pattern, path): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    if pattern.len() != path.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (p, s) in pattern.iter().zip(&path) {
        match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !s.is_empty() => {
                params.insert(name.to_string(), s.to_string());
            }
            Some(_) => return None,
            None if p == s => {}
            None => return None,
        }
    }
    Some(params)
}

#[test]
fn every_fixture_is_an_http_api_event_of_its_route() {
    for f in fixtures() {
        let at = format!("events/{}.json", f.name);
        let j = &f.json;
        assert_eq!(j["version"], "2.0", "{at}: payload format 2.0");
        let key = f.route_key();
        assert_eq!(j["requestContext"]["routeKey"].as_str(), Some(key), "{at}: both routeKeys agree");
        let method = j["requestContext"]["http"]["method"].as_str().unwrap_or_else(|| panic!("{at}: no http.method"));
        let raw_path = j["rawPath"].as_str().unwrap_or_else(|| panic!("{at}: no rawPath"));
        assert_eq!(j["requestContext"]["http"]["path"].as_str(), Some(raw_path), "{at}: http.path is rawPath");

        if key != "$default" {
            let (route_method, route_path) = key.split_once(' ').unwrap();
            if route_method == "ANY" {
                let served = template_routes().into_iter().any(|r| r == format!("{method} {route_path}"));
                assert!(!served, "{at}: {method} {route_path} has its own route; this fixture would not reach ANY");
            } else {
                assert_eq!(method, route_method, "{at}: method of route {key}");
            }
            let params = match_route(route_path, raw_path)
                .unwrap_or_else(|| panic!("{at}: rawPath {raw_path} is not a path of {route_path}"));
            let given: BTreeMap<String, String> = j["pathParameters"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect())
                .unwrap_or_default();
            assert_eq!(given, params, "{at}: pathParameters are what API Gateway fills in for {route_path}");
            if let Some(serial) = params.get("serial") {
                let parsed = Serial::parse(serial);
                if f.name.contains("bad-check-character") {
                    assert_eq!(parsed, Err(SerialError::Check), "{at}: its serial must have a wrong check character");
                } else {
                    assert!(parsed.is_ok(), "{at}: serial {serial} is not valid: {parsed:?}");
                }
            }
        }

        let request = lambda_http::request::from_str(&f.text)
            .unwrap_or_else(|e| panic!("{at}: lambda_http cannot read it as an HTTP API event: {e}"));
        assert_eq!(request.method().as_str(), method, "{at}");
        assert_eq!(request.uri().path(), raw_path, "{at}");
        match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                assert_eq!(ctx.route_key.as_deref(), Some(key), "{at}: route key as lambda_http reads it")
            }
            other => panic!("{at}: not read as an API Gateway v2 request: {other:?}"),
        }
        let raw_query = j["rawQueryString"].as_str().unwrap_or_default();
        let expected: BTreeMap<&str, &str> =
            raw_query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
        let read: BTreeMap<&str, &str> = expected
            .keys()
            .filter_map(|k| request.query_string_parameters_ref().and_then(|q| q.first(k)).map(|v| (*k, v)))
            .collect();
        assert_eq!(read, expected, "{at}: query parameters agree with rawQueryString");
        let declared = j["queryStringParameters"].as_object().map_or(0, |o| o.len());
        assert_eq!(declared, expected.len(), "{at}: queryStringParameters agree with rawQueryString");
    }
}
