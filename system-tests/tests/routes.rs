//! The route tables are the one source of truth: every function's table (its crate's
//! `routes()`) must be exactly what `template.yaml` wires to that function and what
//! `openapi.yaml` documents, so a route cannot be added, moved or dropped in one place only.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_yaml::Value;

/// Every HTTP function: its binary name and its route table as "METHOD /path".
fn tables() -> Vec<(&'static str, BTreeSet<String>)> {
    fn keys<A>(routes: Vec<shared::http::Route<A>>) -> BTreeSet<String> {
        routes.iter().map(|r| r.key()).collect()
    }
    vec![
        ("login", keys(login::routes())),
        ("recover-password", keys(recover_password::routes())),
        ("list-subscriptions", keys(list_subscriptions::routes())),
        ("upgrade-serial", keys(upgrade_serial::routes())),
        ("license-file", keys(license_file::routes())),
        ("validate-serial", keys(validate_serial::routes())),
        ("account", keys(account::routes())),
    ]
}

fn yaml(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    // CloudFormation's short tags (!Ref, !Sub, ...) are YAML tags: serde_yaml keeps them.
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// What the template wires to each function binary: (specific routes, ANY catch-all paths).
fn template_routes() -> Vec<(String, BTreeSet<String>, BTreeSet<String>)> {
    let doc = yaml("template.yaml");
    let mut out = Vec::new();
    for (_, resource) in doc["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary =
            resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("every function names its binary");
        let (mut specific, mut any) = (BTreeSet::new(), BTreeSet::new());
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                if event["Type"].as_str() != Some("HttpApi") {
                    continue;
                }
                let method = event["Properties"]["Method"].as_str().expect("Method").to_uppercase();
                let path = event["Properties"]["Path"].as_str().expect("Path").to_string();
                if method == "ANY" {
                    any.insert(path);
                } else {
                    specific.insert(format!("{method} {path}"));
                }
            }
        }
        out.push((binary.to_string(), specific, any));
    }
    out
}

#[test]
fn the_template_wires_exactly_each_functions_route_table() {
    let template = template_routes();
    for (function, table) in tables() {
        let (_, specific, any) = template
            .iter()
            .find(|(binary, _, _)| binary == function)
            .unwrap_or_else(|| panic!("template.yaml has no function with Binary: {function}"));
        assert_eq!(specific, &table, "{function}: template routes vs its route table");
        let paths: BTreeSet<String> = table.iter().map(|k| k.split_once(' ').unwrap().1.to_string()).collect();
        assert_eq!(any, &paths, "{function}: every path also has its ANY catch-all (405, preflight)");
    }
    // And no function in the template serves routes that no table declares.
    let declared: BTreeSet<String> = tables().into_iter().flat_map(|(_, t)| t).collect();
    let wired: BTreeSet<String> = template.iter().flat_map(|(_, s, _)| s.iter().cloned()).collect();
    assert_eq!(wired, declared);
}

#[test]
fn openapi_documents_exactly_the_declared_routes() {
    let doc = yaml("openapi.yaml");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().expect("paths") {
        let path = path.as_str().expect("a path");
        for (method, _) in item.as_mapping().expect("a path item") {
            let method = method.as_str().unwrap_or_default();
            // OPTIONS is the CORS preflight every route answers, not a route of the table.
            if ["get", "put", "post", "delete", "patch"].contains(&method) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let declared: BTreeSet<String> = tables().into_iter().flat_map(|(_, t)| t).collect();
    assert_eq!(documented, declared, "openapi.yaml operations vs the functions' route tables");
}
