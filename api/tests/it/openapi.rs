//! `GET /v1/openapi.json` against the router: every route the router answers is documented
//! with its method and nothing else is; every response that has a body names its schema; the
//! bearer security scheme is declared, and exactly the operations that refuse an anonymous
//! caller (401) are marked with it; path parameters are the template's, the rest are query ones.

use std::collections::BTreeSet;

use crate::helpers::spawn_app;

/// The HTTP methods of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Statuses whose responses carry no body here (no schema to give).
const BODILESS: [&str; 3] = ["204", "304", "416"];

/// `path` with each `{param}` replaced by `1`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn openapi_documents_every_route_of_the_router_and_its_bearer_scheme() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/v1/openapi.json").await;
    assert_eq!(status, 200, "{doc}");

    // Paths and methods: the document's against the router's table.
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                documented.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    let documented_routes: BTreeSet<(String, String)> = documented
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    let routed: BTreeSet<(String, String)> = tangible_api::routes::endpoints()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented_routes).collect();
    let not_routed: Vec<_> = documented_routes.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && not_routed.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}; documented but not routed: {not_routed:?}"
    );

    // The bearer scheme is declared, and every scheme an operation names exists.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http", "{schemes}");
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");

    let mut problems = Vec::new();
    for (method, path, op) in &documented {
        // Every response with a body names a schema for each of its content types.
        for (status, response) in op["responses"].as_object().expect("responses") {
            let content = response["content"].as_object();
            match content {
                Some(c) if !c.is_empty() => {
                    for (media, body) in c {
                        if body.get("schema").is_none() {
                            problems.push(format!("{method} {path} {status} {media}: no schema"));
                        }
                    }
                }
                _ if BODILESS.contains(&status.as_str()) => {}
                _ => problems.push(format!("{method} {path} {status}: no content")),
            }
        }
        // A parameter is `in: path` exactly when the path template names it; others are query
        // (or header) parameters, and never required unless the handler refuses without them.
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let in_template = path.contains(&format!("{{{name}}}"));
            match (param["in"].as_str(), in_template) {
                (Some("path"), true) | (Some("query" | "header"), false) => {}
                (location, _) => problems.push(format!(
                    "{method} {path}: parameter {name} is in {location:?} but the template {} it",
                    if in_template {
                        "names"
                    } else {
                        "does not name"
                    }
                )),
            }
        }
        let secured: Vec<&str> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|req| req.as_object().expect("requirement").keys())
            .map(String::as_str)
            .collect();
        for name in &secured {
            if schemes.get(*name).is_none() {
                problems.push(format!("{method} {path}: undeclared scheme {name}"));
            }
        }

        // The router answers the route (not its 404/405 fallbacks), and refuses an anonymous
        // caller exactly when the document says a token is needed.
        let r = app
            .http
            .request(method.parse().unwrap(), app.url(&concrete(path)))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        if status == 405 || (status == 404 && body.contains("no such route")) {
            problems.push(format!("{method} {path}: not routed ({status} {body})"));
        }
        match (secured.is_empty(), status == 401) {
            (true, true) => problems.push(format!(
                "{method} {path}: refuses an anonymous caller but declares no security"
            )),
            (false, false) => problems.push(format!(
                "{method} {path}: declares security but answers an anonymous caller {status} {body}"
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
