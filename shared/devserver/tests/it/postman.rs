//! The Postman collection and environment (seed 000: `Relinx.postman_collection.json`,
//! `Relinx.postman_environment.json`, variables `apiKey` and `workspaceId`), generated
//! from the OpenAPI document and committed under `postman/`.
//!
//! Our own small generator rather than openapi-to-postmanv2: its output carries random
//! ids, so it cannot be checked up to date by comparison; this one is deterministic,
//! uses seed 000's variable names and header, and gives every request a test that its
//! status is one the document lists (newman runs them in scripts/test).
//! Regenerate with `RELINX_UPDATE_OPENAPI=1 cargo test -p relinx-devserver --test it`.

use serde_json::{Value, json};

fn postman_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../postman")
}

/// A request body's example: the schema's own, else `{}`.
fn example_body(document: &Value, operation: &Value) -> Option<String> {
    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    if schema.is_null() {
        return None;
    }
    let resolved = match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            &document["components"]["schemas"][name]
        }
        None => schema,
    };
    let example = resolved
        .get("example")
        .or_else(|| resolved["examples"].get(0))
        .cloned()
        .unwrap_or_else(|| json!({}));
    serde_json::to_string_pretty(&example).ok()
}

/// A path with its `{params}` as Postman variables: `{id}` → `{{placeholderId}}`,
/// the workspace routes' `{id}` → `{{workspaceId}}`.
fn postman_path(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|segment| match segment {
            "{id}" if path.starts_with("/v1/workspaces/") => "{{workspaceId}}".to_owned(),
            "{name}" if path.starts_with("/api/workspaces/") => "default".to_owned(),
            s if s.starts_with('{') => "{{placeholderId}}".to_owned(),
            s => s.to_owned(),
        })
        .collect()
}

fn request_item(document: &Value, method: &str, path: &str, operation: &Value) -> Value {
    let public = operation["security"].as_array().is_some_and(|s| {
        s.iter()
            .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
    });
    let segments = postman_path(path);
    // Query parameters the document gives an example of go in with it (the audit
    // stream's `max_seconds`, so the run never waits out a stream).
    let query: Vec<Value> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| {
            let example = p.get("example").or_else(|| p["schema"].get("example"))?;
            let value = match example {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(json!({"key": p["name"], "value": value}))
        })
        .collect();
    let raw_query: Vec<String> = query
        .iter()
        .map(|q| {
            format!(
                "{}={}",
                q["key"].as_str().unwrap_or_default(),
                q["value"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let mut headers = vec![json!({"key": "Accept", "value": "application/json"})];
    if !public {
        headers.push(json!({"key": "workspaceId", "value": "{{workspaceId}}"}));
    }
    let mut request = json!({
        "method": method.to_uppercase(),
        "header": headers,
        "url": {
            "raw": if raw_query.is_empty() {
                format!("{{{{baseUrl}}}}/{}", segments.join("/"))
            } else {
                format!("{{{{baseUrl}}}}/{}?{}", segments.join("/"), raw_query.join("&"))
            },
            "host": ["{{baseUrl}}"],
            "path": segments,
        },
        "description": operation["description"].as_str().or(operation["summary"].as_str()).unwrap_or_default(),
    });
    if !query.is_empty() {
        request["url"]["query"] = Value::Array(query);
    }
    if public {
        request["auth"] = json!({"type": "noauth"});
    }
    if let Some(body) = example_body(document, operation) {
        if let Some(headers) = request["header"].as_array_mut() {
            headers.push(json!({"key": "Content-Type", "value": "application/json"}));
        }
        request["body"] = json!({"mode": "raw", "raw": body});
    }
    let documented: Vec<u16> = operation["responses"]
        .as_object()
        .map(|r| r.keys().filter_map(|k| k.parse().ok()).collect())
        .unwrap_or_default();
    let test = vec![
        format!(
            "pm.test(\"answers with a status the document lists\", function () {{ pm.expect(pm.response.code).to.be.oneOf({documented:?}); }});"
        ),
        "pm.test(\"no server error\", function () { pm.expect(pm.response.code).to.be.below(500); });".to_owned(),
    ];
    json!({
        "name": format!("{} {path}", method.to_uppercase()),
        "request": request,
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": test}}],
    })
}

/// Destructive key operations last, so the run's own key serves every other request.
fn order(method: &str, path: &str) -> (u8, String, String) {
    let last = path.starts_with("/v1/api-keys/") || method == "delete";
    (u8::from(last), path.to_owned(), method.to_owned())
}

/// Requests of one folder, each with its place in the run.
type Folder = Vec<((u8, String, String), Value)>;

fn collection(document: &Value) -> Value {
    let mut by_tag: std::collections::BTreeMap<String, Folder> = Default::default();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let tag = operation["tags"][0].as_str().unwrap_or("other").to_owned();
            by_tag.entry(tag).or_default().push((
                order(method, path),
                request_item(document, method, path, operation),
            ));
        }
    }
    let folders: Vec<Value> = by_tag
        .into_iter()
        .map(|(tag, mut items)| {
            items.sort_by(|a, b| a.0.cmp(&b.0));
            json!({"name": tag, "item": items.into_iter().map(|(_, i)| i).collect::<Vec<_>>()})
        })
        .collect();
    json!({
        "info": {
            "name": "Relinx",
            "description": "Every route of the relinx platform, generated from docs/openapi.json. Set apiKey and workspaceId in the environment (seed 000).",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {
            "type": "apikey",
            "apikey": [
                {"key": "key", "value": "Authorization", "type": "string"},
                {"key": "value", "value": "ApiKey {{apiKey}}", "type": "string"},
                {"key": "in", "value": "header", "type": "string"},
            ],
        },
        "variable": [
            {"key": "baseUrl", "value": "http://127.0.0.1:3000"},
            {"key": "placeholderId", "value": "unknown"},
        ],
        "item": folders,
    })
}

fn environment() -> Value {
    json!({
        "name": "Relinx",
        "values": [
            {"key": "baseUrl", "value": "http://127.0.0.1:3000", "enabled": true},
            {"key": "apiKey", "value": "", "type": "secret", "enabled": true},
            {"key": "workspaceId", "value": "", "enabled": true},
        ],
    })
}

#[test]
fn the_collection_never_waits_out_a_stream() {
    let document = serde_json::to_value(relinx_devserver::openapi_document()).expect("document");
    let collection = collection(&document);
    let stream = collection["item"]
        .as_array()
        .expect("folders")
        .iter()
        .flat_map(|folder| folder["item"].as_array().cloned().unwrap_or_default())
        .find(|item| item["name"] == "GET /v1/audit/stream")
        .expect("the stream is in the collection");
    assert!(
        stream["request"]["url"]["raw"]
            .as_str()
            .is_some_and(|raw| raw.contains("max_seconds=")),
        "{stream}"
    );
}

#[test]
fn the_committed_postman_collection_is_generated_from_the_document() {
    let document = serde_json::to_value(relinx_devserver::openapi_document()).expect("document");
    let files = [
        ("Relinx.postman_collection.json", collection(&document)),
        ("Relinx.postman_environment.json", environment()),
    ];
    for (name, value) in files {
        let text = serde_json::to_string_pretty(&value).expect("json") + "\n";
        let path = postman_dir().join(name);
        if std::env::var_os("RELINX_UPDATE_OPENAPI").is_some() {
            std::fs::create_dir_all(postman_dir()).expect("postman dir");
            std::fs::write(&path, &text).expect("write");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "postman/{name} is stale; regenerate with RELINX_UPDATE_OPENAPI=1 cargo test -p relinx-devserver --test it"
        );
    }
}
