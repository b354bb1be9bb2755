//! Datalinx sources (seed 003's Core APIs; API.md "Datalinx data") as a client uses
//! them: the Datalinx envelope, files staged whatever their encoding, delimiter or
//! format, column types that never damage a value, limits that hold through every
//! layer, and one workspace's objects out of every other's reach.

use crate::support::key_with_role;
use http::StatusCode;
use relinx_testkit::{TenantClient, TestApp, TestResponse};
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

/// The data of a Datalinx success, checking the envelope and status.
fn data(answer: &TestResponse, status: StatusCode) -> Value {
    let body = answer.expect(status);
    assert_eq!(body["status"], "success", "{body}");
    body["data"].clone()
}

/// The message of a Datalinx error, checking the envelope, status and code.
fn failure(answer: &TestResponse, status: StatusCode, code: &str) -> String {
    let body = answer.expect(status);
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    body["message"].as_str().unwrap_or_default().to_owned()
}

async fn create_source(client: &TenantClient<'_>, name: &str) -> String {
    let created = client
        .post("/api/sources", json!({"name": name, "kind": "upload"}))
        .await;
    data(&created, StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn upload(
    client: &TenantClient<'_>,
    id: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> TestResponse {
    client
        .post_bytes(
            &format!("/api/sources/{id}/rows{query}"),
            content_type,
            body,
            &[],
        )
        .await
}

const HEADER: &str = "E-mail,fname,Last Name,dob,zip,amount,Email consent";
const ROWS: [&str; 3] = [
    "ann@example.com,Ann,Lee,31/12/1990,02134,1.5,yes",
    "bob@example.com,Bob,Ray,21/02/1985,10001,20,no",
    "zoe@example.com,Zoë,Fox,15/06/1970,00501,3.25,yes",
];

fn csv_text(delimiter: &str) -> String {
    let mut text = HEADER.replace(',', delimiter);
    for row in ROWS {
        text.push_str("\r\n");
        text.push_str(&row.replace(',', delimiter));
    }
    text.push_str("\r\n");
    text
}

fn ndjson() -> Vec<u8> {
    let names: Vec<&str> = HEADER.split(',').collect();
    let mut out = String::new();
    for row in ROWS {
        // Written by hand: serde_json's map would sort the keys.
        let fields: Vec<String> = names
            .iter()
            .zip(row.split(','))
            .map(|(n, v)| format!("{}:{}", json!(n), json!(v)))
            .collect();
        out.push_str(&format!("{{{}}}\n", fields.join(",")));
    }
    out.into_bytes()
}

fn column<'a>(source: &'a Value, name: &str) -> &'a Value {
    source["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name} in {source}"))
}

#[tokio::test]
async fn one_file_as_utf8_with_a_bom_as_windows_1252_and_as_ndjson_stages_the_same_rows() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);

    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(csv_text(",").into_bytes());
    let semicolons = csv_text(";");
    let (windows, _, lossy) = encoding_rs::WINDOWS_1252.encode(&semicolons);
    assert!(!lossy);
    let forms: [(&str, &str, &str, Vec<u8>); 3] = [
        ("bom", "", "text/csv", with_bom),
        (
            "cp1252",
            "?encoding=windows-1252",
            "text/csv; charset=windows-1252",
            windows.into_owned(),
        ),
        ("ndjson", "", "application/x-ndjson", ndjson()),
    ];
    let mut samples = Vec::new();
    for (name, query, content_type, body) in forms {
        let id = create_source(&client, name).await;
        let staged = data(
            &upload(&client, &id, query, content_type, body).await,
            StatusCode::CREATED,
        );
        assert_eq!(staged["rows_staged"], 3, "{staged}");
        let source = &staged["source"];
        assert_eq!(source["row_count"], 3);
        assert_eq!(column(source, "zip")["type"], "string", "{source}");
        assert!(
            column(source, "zip")["why"]
                .as_str()
                .unwrap()
                .contains("leading zero")
        );
        assert_eq!(column(source, "dob")["type"], "date", "{source}");
        assert_eq!(column(source, "E-mail")["type"], "email", "{source}");
        assert_eq!(column(source, "amount")["type"], "number", "{source}");
        assert_eq!(
            column(source, "Email consent")["type"],
            "boolean",
            "{source}"
        );
        let sample = data(
            &client
                .get(&format!("/api/sources/{id}/sample?limit=10"))
                .await,
            StatusCode::OK,
        );
        let columns: Vec<Value> = source["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!([c["name"], c["type"]]))
            .collect();
        samples.push((sample, columns));
    }
    assert_eq!(samples[0], samples[1]);
    assert_eq!(samples[0], samples[2]);
    let rows = samples[0].0["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["zip"], "02134");
    assert_eq!(rows[2]["zip"], "00501");
    assert_eq!(rows[2]["fname"], "Zoë");
    assert_eq!(
        rows[0]["E-mail"], "ann@example.com",
        "the BOM is not part of the first header"
    );

    // Dates that read both ways stay as written.
    let id = create_source(&client, "ambiguous").await;
    let staged = data(
        &upload(
            &client,
            &id,
            "",
            "text/csv",
            b"d\n01/02/2020\n03/04/2021\n".to_vec(),
        )
        .await,
        StatusCode::CREATED,
    );
    let d = column(&staged["source"], "d");
    assert_eq!(d["type"], "string", "{d}");
    assert!(
        d["why"]
            .as_str()
            .unwrap()
            .contains("day-first or month-first"),
        "{d}"
    );
}

#[tokio::test]
async fn a_malformed_file_names_its_line_and_stages_nothing() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let id = create_source(&client, "broken").await;
    let body = "a,b\n1,2\n3,4\n\"5,6\n7,8\n";
    let message = failure(
        &upload(&client, &id, "", "text/csv", body.as_bytes().to_vec()).await,
        StatusCode::BAD_REQUEST,
        "MALFORMED_FILE",
    );
    assert!(message.contains("line 4"), "{message}");
    assert!(message.contains("nothing was staged"), "{message}");
    let source = data(
        &client.get(&format!("/api/sources/{id}")).await,
        StatusCode::OK,
    );
    assert_eq!(source["row_count"], 0);
    assert_eq!(source["columns"], json!([]));
    let sample = data(
        &client.get(&format!("/api/sources/{id}/sample")).await,
        StatusCode::OK,
    );
    assert_eq!(sample["rows"], json!([]));

    for (content_type, body, wanted) in [
        ("application/json", "{\"a\": 1}", "array of objects"),
        ("application/x-ndjson", "{\"a\":1}\n[1]\n", "line 2"),
        ("application/xml", "<a/>", "Content-Type"),
    ] {
        let answer = upload(&client, &id, "", content_type, body.as_bytes().to_vec()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert!(
            answer.json()["message"].as_str().unwrap().contains(wanted),
            "{}",
            answer.text
        );
    }
}

/// A CSV of `rows` rows of about `row_bytes` bytes each.
fn csv_of(rows: usize, row_bytes: usize) -> Vec<u8> {
    let mut out = b"id,email,note\n".to_vec();
    for i in 0..rows {
        let line = format!("{i},user{i}@example.com,");
        let pad = row_bytes.saturating_sub(line.len() + 1);
        out.extend(line.into_bytes());
        out.extend(std::iter::repeat_n(b'x', pad));
        out.push(b'\n');
    }
    out
}

#[tokio::test]
async fn an_upload_takes_4_mb_and_10000_rows_and_says_so_beyond() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let id = create_source(&client, "big").await;

    let mut over = csv_of(9_000, 445);
    over.resize(4_000_001, b'x');
    let message = failure(
        &upload(&client, &id, "", "text/csv", over).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    );
    assert!(message.contains("4000000"), "{message}");
    // Through the idempotency layer too, which reads the body first.
    let over = vec![b'a'; 4_000_001];
    let answer = client
        .post_bytes(
            &format!("/api/sources/{id}/rows"),
            "text/csv",
            over,
            &[("idempotency-key", "big-1".into())],
        )
        .await;
    failure(&answer, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    let rows = csv_of(10_001, 20);
    let message = failure(
        &upload(&client, &id, "", "text/csv", rows).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    );
    assert!(message.contains("10000"), "{message}");

    let accepted = csv_of(9_000, 434);
    assert!(
        accepted.len() > 3_900_000 && accepted.len() < 4_000_000,
        "{}",
        accepted.len()
    );
    let staged = data(
        &upload(&client, &id, "", "text/csv", accepted).await,
        StatusCode::CREATED,
    );
    assert_eq!(staged["rows_staged"], 9000);
    let sample = data(
        &client
            .get(&format!("/api/sources/{id}/sample?limit=1000"))
            .await,
        StatusCode::OK,
    );
    let rows = sample["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1000);
    assert_eq!(rows[999]["id"], "999");

    // Elsewhere the platform's 1 MiB holds, as a 400.
    let big_json = json!({"name": "x".repeat(1_100_000), "kind": "upload"});
    failure(
        &client.post("/api/sources", big_json).await,
        StatusCode::BAD_REQUEST,
        "BODY_TOO_LARGE",
    );
}

#[tokio::test]
async fn an_upload_retried_with_its_idempotency_key_is_staged_once() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let id = create_source(&client, "retried").await;
    let key = [("idempotency-key", "upload-1".to_owned())];
    let path = format!("/api/sources/{id}/rows");
    let first = client
        .post_bytes(&path, "text/csv", csv_of(5, 30), &key)
        .await;
    let first = data(&first, StatusCode::CREATED);
    let again = client
        .post_bytes(&path, "text/csv", csv_of(5, 30), &key)
        .await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        data(&again, StatusCode::CREATED)["upload_id"],
        first["upload_id"]
    );
    let other = client
        .post_bytes(&path, "text/csv", csv_of(6, 30), &key)
        .await;
    failure(
        &other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    let source = data(
        &client.get(&format!("/api/sources/{id}")).await,
        StatusCode::OK,
    );
    assert_eq!(source["row_count"], 5);
}

#[tokio::test]
async fn sources_are_named_once_per_workspace_and_a_put_sets_a_column_type() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let id = create_source(&client, "crm-export").await;
    let again = client
        .post(
            "/api/sources",
            json!({"name": "CRM-Export", "kind": "upload"}),
        )
        .await;
    failure(&again, StatusCode::CONFLICT, "ALREADY_EXISTS");
    let bad = client
        .post("/api/sources", json!({"name": "x", "kind": "ftp"}))
        .await;
    assert!(failure(&bad, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").contains("kind"));
    let bad = client
        .post("/api/sources", json!({"name": "x", "kind": "http", "config": {"url": "http://169.254.169.254/latest"}}))
        .await;
    assert!(failure(&bad, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").contains("config.url"));

    data(
        &upload(
            &client,
            &id,
            "",
            "text/csv",
            b"zip,n\n02134,1\n10001,2\n".to_vec(),
        )
        .await,
        StatusCode::CREATED,
    );
    let changed = client
        .put(
            &format!("/api/sources/{id}"),
            json!({"name": "crm export", "columns": [{"name": "n", "type": "string"}]}),
        )
        .await;
    let changed = data(&changed, StatusCode::OK);
    assert_eq!(changed["name"], "crm export");
    assert_eq!(column(&changed, "n")["type"], "string");
    assert_eq!(column(&changed, "n")["inferred_type"], "integer");
    let missing = client
        .put(
            &format!("/api/sources/{id}"),
            json!({"columns": [{"name": "nope", "type": "string"}]}),
        )
        .await;
    assert!(
        failure(&missing, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").contains("columns.nope")
    );
    // The old name is free again, the new one taken.
    create_source(&client, "crm-export").await;
    let taken = client
        .post(
            "/api/sources",
            json!({"name": "Crm Export", "kind": "upload"}),
        )
        .await;
    failure(&taken, StatusCode::CONFLICT, "ALREADY_EXISTS");

    // An http source's headers are sealed: their names show, never their values.
    let http = client
        .post("/api/sources", json!({"name": "feed", "kind": "http", "config": {"url": "https://example.com/feed.csv", "headers": {"Authorization": "Bearer s3cret"}}}))
        .await;
    let http = data(&http, StatusCode::CREATED);
    assert_eq!(http["config"]["headers"]["Authorization"], "(sealed)");
    assert!(!http.to_string().contains("s3cret"));
    let http_id = http["id"].as_str().unwrap();
    let renamed = data(
        &client
            .put(
                &format!("/api/sources/{http_id}"),
                json!({"config": {"url": "https://example.com/other.csv"}}),
            )
            .await,
        StatusCode::OK,
    );
    assert_eq!(
        renamed["config"]["headers"]["Authorization"], "(sealed)",
        "headers kept"
    );
    let not_upload = upload(&client, http_id, "", "text/csv", b"a\n1\n".to_vec()).await;
    assert!(
        failure(
            &not_upload,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED"
        )
        .contains("only an upload source")
    );

    let page = client.get("/api/sources?page=1&page_size=2").await;
    let body = page.expect(StatusCode::OK);
    assert_eq!(body["pagination"]["total_items"], 3, "{body}");
    assert_eq!(body["pagination"]["total_pages"], 2);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    let deleted = data(
        &client.delete(&format!("/api/sources/{id}")).await,
        StatusCode::OK,
    );
    assert_eq!(deleted["deleted"], true);
    failure(
        &client.get(&format!("/api/sources/{id}/sample")).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );
}

#[tokio::test]
async fn another_org_or_workspace_finds_nothing_and_a_viewer_cannot_write() {
    let app = app().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let client_a = app.as_tenant(&a);
    let id = create_source(&client_a, "private").await;
    data(
        &upload(&client_a, &id, "", "text/csv", b"x\n1\n".to_vec()).await,
        StatusCode::CREATED,
    );

    let client_b = app.as_tenant(&b);
    let path = format!("/api/sources/{id}");
    failure(
        &client_b.get(&path).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );
    failure(
        &client_b.get(&format!("{path}/sample")).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );
    failure(
        &upload(&client_b, &id, "", "text/csv", b"x\n1\n".to_vec()).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );
    failure(
        &client_b.put(&path, json!({"name": "mine"})).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );
    failure(
        &client_b.delete(&path).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );
    let listed = data(&client_b.get("/api/sources").await, StatusCode::OK);
    assert_eq!(listed, json!([]));

    // Another workspace of the same org: the source is not there.
    data(
        &client_a
            .post("/api/workspaces", json!({"name": "other"}))
            .await,
        StatusCode::CREATED,
    );
    let in_other = app.as_tenant(&a).with_header("x-workspace", "other");
    failure(
        &in_other.get(&path).await,
        StatusCode::NOT_FOUND,
        "SOURCE_NOT_FOUND",
    );

    let viewer = key_with_role(&app, &a, "viewer").await;
    let as_viewer = app
        .post(
            "/api/sources",
            std::slice::from_ref(&viewer),
            json!({"name": "v", "kind": "upload"}),
        )
        .await;
    failure(&as_viewer, StatusCode::FORBIDDEN, "FORBIDDEN");
    let read = app.get(&path, std::slice::from_ref(&viewer)).await;
    data(&read, StatusCode::OK);
    let answer = app.call(http::Method::DELETE, &path, &[viewer], None).await;
    failure(&answer, StatusCode::FORBIDDEN, "FORBIDDEN");
}

fn field<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {schema}"))
}

#[tokio::test]
async fn the_built_in_schemas_are_what_their_domains_accept() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let listed = client.get("/api/schemas").await.expect(StatusCode::OK);
    assert_eq!(listed["data"][0]["id"], "contact", "{listed}");
    assert_eq!(listed["data"][1]["id"], "record", "{listed}");
    let contact = data(&client.get("/api/schemas/contact").await, StatusCode::OK);
    assert_eq!(contact["built_in"], true);
    assert_eq!(field(&contact, "emails")["type"], "email");
    assert_eq!(field(&contact, "first_name")["type"], "string");
    assert_eq!(field(&contact, "do_not_mass_email")["type"], "boolean");
    let before = contact["version"].as_u64().unwrap();

    // A custom field defined through Relenta is in the contact schema, typed.
    let saved = app
        .post(
            "/api/v3/custom_field.save.json",
            &[("x-relenta-department-key", tenant.api_key.clone())],
            json!({"label": "T-shirt size", "type": "Single choice", "choices": ["S", "M", "L"]}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let contact = data(&client.get("/api/schemas/contact").await, StatusCode::OK);
    let shirt = field(&contact, "T-shirt_size");
    assert_eq!(shirt["type"], "enum");
    assert_eq!(shirt["enum"], json!(["S", "M", "L"]));
    assert!(contact["version"].as_u64().unwrap() > before);

    let record = data(&client.get("/api/schemas/record").await, StatusCode::OK);
    assert_eq!(field(&record, "title")["required"], true);
    assert!(
        field(&record, "status")["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("queued"))
    );

    for answer in [
        client
            .put("/api/schemas/contact", json!({"name": "mine"}))
            .await,
        client.delete("/api/schemas/record").await,
    ] {
        failure(&answer, StatusCode::CONFLICT, "BUILT_IN_SCHEMA");
    }
    let versions = client
        .get("/api/schemas/record/versions")
        .await
        .expect(StatusCode::OK);
    assert_eq!(versions["data"][0]["version"], 1, "{versions}");
}

#[tokio::test]
async fn a_change_of_fields_is_a_new_version_and_the_old_ones_stay() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let fields = json!([{"name": "email", "type": "email", "required": true}, {"name": "postal_code", "type": "string"}]);
    let created = client
        .post(
            "/api/schemas",
            json!({"name": "customer", "fields": fields}),
        )
        .await;
    let created = data(&created, StatusCode::CREATED);
    assert_eq!(created["version"], 1);
    assert_eq!(created["built_in"], false);
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/schemas/{id}");

    let renamed = data(
        &client
            .put(&path, json!({"name": "customers", "fields": fields}))
            .await,
        StatusCode::OK,
    );
    assert_eq!(
        renamed["version"], 1,
        "the same fields are the same version"
    );
    let more = json!([{"name": "email", "type": "email", "required": true}, {"name": "postal_code", "type": "string"},
        {"name": "tier", "type": "enum", "enum": ["free", "pro"]}]);
    let changed = data(
        &client.put(&path, json!({"fields": more})).await,
        StatusCode::OK,
    );
    assert_eq!(changed["version"], 2);
    let versions = client
        .get(&format!("{path}/versions"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(versions["pagination"]["total_items"], 2, "{versions}");
    let names = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].clone())
            .collect()
    };
    assert_eq!(names(&versions["data"][0]["fields"]), names(&fields));
    assert_eq!(names(&versions["data"][1]["fields"]), names(&more));
    assert_eq!(versions["data"][1]["fields"][1]["required"], false);

    for (body, wanted) in [
        (json!({"name": "Contact", "fields": fields}), "built-in"),
        (
            json!({"name": "x", "fields": [{"name": "1st", "type": "string"}]}),
            "fields[0].name",
        ),
        (
            json!({"name": "x", "fields": [{"name": "a", "type": "enum"}]}),
            "fields[0].enum",
        ),
        (
            json!({"name": "x", "fields": [{"name": "a", "type": "string"}, {"name": "A", "type": "string"}]}),
            "appears twice",
        ),
        (
            json!({"name": "x", "fields": [{"name": "a", "type": "text"}]}),
            "fields[0].type",
        ),
        (json!({"name": "x", "fields": []}), "at least one"),
    ] {
        let answer = client.post("/api/schemas", body).await;
        assert!(
            failure(&answer, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").contains(wanted),
            "{}",
            answer.text
        );
    }
    let taken = client
        .post(
            "/api/schemas",
            json!({"name": "CUSTOMERS", "fields": fields}),
        )
        .await;
    failure(&taken, StatusCode::CONFLICT, "ALREADY_EXISTS");

    let other = app.tenant().await;
    let as_other = app.as_tenant(&other);
    failure(
        &as_other.get(&path).await,
        StatusCode::NOT_FOUND,
        "SCHEMA_NOT_FOUND",
    );
    failure(
        &as_other.get(&format!("{path}/versions")).await,
        StatusCode::NOT_FOUND,
        "SCHEMA_NOT_FOUND",
    );
    failure(
        &as_other.put(&path, json!({"name": "mine"})).await,
        StatusCode::NOT_FOUND,
        "SCHEMA_NOT_FOUND",
    );
    failure(
        &as_other.delete(&path).await,
        StatusCode::NOT_FOUND,
        "SCHEMA_NOT_FOUND",
    );
    let viewer = key_with_role(&app, &tenant, "viewer").await;
    let answer = app
        .post(
            "/api/schemas",
            std::slice::from_ref(&viewer),
            json!({"name": "v", "fields": fields}),
        )
        .await;
    failure(&answer, StatusCode::FORBIDDEN, "FORBIDDEN");

    data(&client.delete(&path).await, StatusCode::OK);
    failure(
        &client.get(&path).await,
        StatusCode::NOT_FOUND,
        "SCHEMA_NOT_FOUND",
    );
    data(
        &client
            .post(
                "/api/schemas",
                json!({"name": "customers", "fields": fields}),
            )
            .await,
        StatusCode::CREATED,
    );
}

/// An upload source holding `csv`, and its id.
async fn source_with(client: &TenantClient<'_>, name: &str, csv: &str) -> String {
    let id = create_source(client, name).await;
    data(
        &upload(client, &id, "", "text/csv", csv.as_bytes().to_vec()).await,
        StatusCode::CREATED,
    );
    id
}

fn issue_csv() -> String {
    csv_text(",")
}

#[tokio::test]
async fn saving_a_mapping_names_the_field_and_the_position_of_what_is_wrong() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let source = source_with(&client, "people", &issue_csv()).await;
    let schema = client
        .post(
            "/api/schemas",
            json!({"name": "person", "fields": [
            {"name": "email", "type": "email", "required": true},
            {"name": "born", "type": "date"},
            {"name": "spent", "type": "number"}]}),
        )
        .await;
    let schema = data(&schema, StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let try_map = |fields: Value, schema_id: &str| json!({"name": "m", "source_id": source, "schema_id": schema_id, "fields": fields});
    for (fields, schema_id, wanted) in [
        (
            json!([{"target": "first_name", "expr": "lower(nope)"}]),
            "contact",
            vec!["fields[0].expr", "column 7", "nope"],
        ),
        (
            json!([{"target": "first_name", "expr": "lower("}]),
            "contact",
            vec!["fields[0].expr", "column 7"],
        ),
        (
            json!([{"target": "email", "expr": "`E-mail`"}, {"target": "born", "expr": "to_number(amount)"}]),
            schema.as_str(),
            vec!["fields[1].expr", "column 1", "a number", "date field"],
        ),
        (
            json!([{"target": "email", "expr": "`E-mail`"}, {"target": "spent", "expr": "concat(fname, lower(amount))"}]),
            schema.as_str(),
            vec!["fields[1].expr", "column 15", "lower"],
        ),
        (
            json!([{"target": "nickname", "expr": "fname"}]),
            "contact",
            vec!["fields[0].target", "nickname"],
        ),
        (
            json!([{"target": "born", "expr": "dob"}]),
            schema.as_str(),
            vec!["required field \"email\""],
        ),
        (
            json!([{"target": "email", "expr": "`E-mail`"}, {"target": "spent", "expr": "amount", "default": "lots"}]),
            schema.as_str(),
            vec!["fields[1].default"],
        ),
    ] {
        let answer = client
            .post("/api/mappings", try_map(fields.clone(), schema_id))
            .await;
        let message = failure(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        );
        for w in wanted {
            assert!(message.contains(w), "{fields}: {message:?} lacks {w:?}");
        }
    }

    let good = try_map(
        json!([{"target": "email", "expr": "lower(trim(`E-mail`))"}, {"target": "born", "expr": "dob"},
               {"target": "spent", "expr": "amount", "default": 0}]),
        &schema,
    );
    let mapping = data(
        &client.post("/api/mappings", good).await,
        StatusCode::CREATED,
    );
    assert_eq!(mapping["schema_version"], 1);
    let id = mapping["id"].as_str().unwrap();
    let preview = client
        .post(&format!("/api/mappings/{id}/preview"), json!({}))
        .await;
    let preview = data(&preview, StatusCode::OK);
    assert_eq!(preview["errors"], json!([]), "{preview}");
    assert_eq!(
        preview["rows"][0],
        json!({"email": "ann@example.com", "born": "1990-12-31", "spent": 1.5})
    );
    assert_eq!(preview["rows"][2]["born"], "1970-06-15");

    // The source and schema it is built on stay while it does.
    let message = failure(
        &client.delete(&format!("/api/sources/{source}")).await,
        StatusCode::CONFLICT,
        "IN_USE",
    );
    assert!(message.contains("\"m\""), "{message}");
    failure(
        &client.delete(&format!("/api/schemas/{schema}")).await,
        StatusCode::CONFLICT,
        "IN_USE",
    );
    data(
        &client.delete(&format!("/api/mappings/{id}")).await,
        StatusCode::OK,
    );
    data(
        &client.delete(&format!("/api/schemas/{schema}")).await,
        StatusCode::OK,
    );
    data(
        &client.delete(&format!("/api/sources/{source}")).await,
        StatusCode::OK,
    );
}

#[tokio::test]
async fn a_preview_applies_the_destination_s_own_rules() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let csv = "E-mail,fname,Last Name\r\nann@example.com,Ann,Lee\r\nbob@example.com,Bob,Ray\r\nnot-an-address,Cy,Doe\r\nzoe@example.com,Zoë,Fox\r\ndan@example.com,Dan,Orr\r\n";
    let source = source_with(&client, "five", csv).await;
    let mapping = client
        .post(
            "/api/mappings",
            json!({"name": "contacts", "source_id": source, "schema_id": "contact", "fields": [
            {"target": "emails", "expr": "`E-mail`"}, {"target": "first_name", "expr": "fname"},
            {"target": "last_name", "expr": "upper(`Last Name`)"}]}),
        )
        .await;
    let id = data(&mapping, StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = key_with_role(&app, &tenant, "viewer").await;
    let preview = app
        .post(
            &format!("/api/mappings/{id}/preview"),
            std::slice::from_ref(&viewer),
            json!({"limit": 10}),
        )
        .await;
    let preview = data(&preview, StatusCode::OK);
    assert_eq!(preview["rows"].as_array().unwrap().len(), 5, "{preview}");
    let errors = preview["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{preview}");
    assert_eq!(errors[0]["row"], 3);
    assert_eq!(errors[0]["field"], "emails");
    assert_eq!(preview["rows"][0]["last_name"], "LEE");
    // A viewer reads, never writes.
    let answer = app
        .post(
            "/api/mappings",
            std::slice::from_ref(&viewer),
            json!({"name": "v", "source_id": source, "schema_id": "contact", "fields": []}),
        )
        .await;
    failure(&answer, StatusCode::FORBIDDEN, "FORBIDDEN");

    // Another org sees none of it.
    let other = app.tenant().await;
    let as_other = app.as_tenant(&other);
    let path = format!("/api/mappings/{id}");
    failure(
        &as_other.get(&path).await,
        StatusCode::NOT_FOUND,
        "MAPPING_NOT_FOUND",
    );
    failure(
        &as_other.post(&format!("{path}/preview"), json!({})).await,
        StatusCode::NOT_FOUND,
        "MAPPING_NOT_FOUND",
    );
    failure(
        &as_other.put(&path, json!({"name": "mine"})).await,
        StatusCode::NOT_FOUND,
        "MAPPING_NOT_FOUND",
    );
    failure(
        &as_other.delete(&path).await,
        StatusCode::NOT_FOUND,
        "MAPPING_NOT_FOUND",
    );
    let theirs = as_other.post("/api/mappings", json!({"name": "x", "source_id": source, "schema_id": "contact", "fields": [{"target": "emails", "expr": "`E-mail`"}]})).await;
    assert!(
        failure(
            &theirs,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED"
        )
        .contains("source_id")
    );
    let suggest = as_other
        .post(
            "/api/mappings/suggest",
            json!({"source_id": source, "schema_id": "contact"}),
        )
        .await;
    failure(
        &suggest,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
}

#[tokio::test]
async fn the_assistant_maps_by_name_synonym_and_precedent_and_says_why() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let source = source_with(&client, "people", &issue_csv()).await;
    let viewer = key_with_role(&app, &tenant, "viewer").await;
    let ask = json!({"source_id": source, "schema_id": "contact"});
    let suggested = app
        .post(
            "/api/mappings/suggest",
            std::slice::from_ref(&viewer),
            ask.clone(),
        )
        .await;
    let suggested = data(&suggested, StatusCode::OK);
    let pick = |s: &Value, target: &str| {
        s["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["target"] == target)
            .cloned()
    };
    let emails = pick(&suggested, "emails").expect("emails");
    assert_eq!(emails["expr"], "`E-mail`");
    assert!(
        emails["why"].as_str().unwrap().contains("synonym"),
        "{emails}"
    );
    assert_eq!(pick(&suggested, "first_name").unwrap()["expr"], "fname");
    assert_eq!(
        pick(&suggested, "last_name").unwrap()["expr"],
        "`Last Name`"
    );
    assert!(
        suggested["unmapped_columns"]
            .as_array()
            .unwrap()
            .contains(&json!("Email consent"))
    );
    let again = data(
        &client.post("/api/mappings/suggest", ask).await,
        StatusCode::OK,
    );
    assert_eq!(again, suggested, "the same input gives the same answer");

    let consent_only =
        source_with(&client, "consent", "Email consent,Name\nyes,Ann\nno,Bob\n").await;
    let s = data(
        &client
            .post(
                "/api/mappings/suggest",
                json!({"source_id": consent_only, "schema_id": "contact"}),
            )
            .await,
        StatusCode::OK,
    );
    assert!(pick(&s, "emails").is_none(), "{s}");

    // A mapping saved once teaches the assistant.
    let schema = client
        .post(
            "/api/schemas",
            json!({"name": "address", "fields": [{"name": "postal_code", "type": "string"}]}),
        )
        .await;
    let schema = data(&schema, StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let saved = client
        .post(
            "/api/mappings",
            json!({"name": "zip import", "source_id": source, "schema_id": schema,
            "fields": [{"target": "postal_code", "expr": "zip"}]}),
        )
        .await;
    data(&saved, StatusCode::CREATED);
    let fresh = source_with(&client, "fresh", "zip,city\n02134,Boston\n").await;
    let s = data(
        &client
            .post(
                "/api/mappings/suggest",
                json!({"source_id": fresh, "schema_id": schema}),
            )
            .await,
        StatusCode::OK,
    );
    let postal = pick(&s, "postal_code").expect("postal_code");
    assert_eq!(postal["expr"], "zip");
    assert!(
        postal["why"]
            .as_str()
            .unwrap()
            .contains("mapped so in mapping \"zip import\""),
        "{postal}"
    );
}

#[tokio::test]
async fn a_pipeline_is_checked_against_its_mapping_and_holds_what_it_uses() {
    let app = app().await;
    let tenant = app.tenant().await;
    let client = app.as_tenant(&tenant);
    let source = source_with(&client, "people", &issue_csv()).await;
    let other_source = source_with(&client, "others", &issue_csv()).await;
    let mapping = client
        .post(
            "/api/mappings",
            json!({"name": "people", "source_id": source, "schema_id": "contact", "fields": [
            {"target": "emails", "expr": "`E-mail`"}, {"target": "first_name", "expr": "fname"}]}),
        )
        .await;
    let mapping = data(&mapping, StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pipeline = |destination: Value, mode: &str, extra: Value| {
        let mut body = json!({"name": "import", "source_id": source, "mapping_id": mapping, "destination": destination, "mode": mode});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, wanted) in [
        (
            pipeline(json!({"kind": "records"}), "append", json!({})),
            "destination.kind",
        ),
        (
            pipeline(json!({"kind": "contacts"}), "upsert", json!({})),
            "destination.key",
        ),
        (
            pipeline(
                json!({"kind": "contacts", "key": "first_name"}),
                "upsert",
                json!({}),
            ),
            "\"emails\"",
        ),
        (
            pipeline(
                json!({"kind": "contacts", "key": "phone"}),
                "upsert",
                json!({}),
            ),
            "\"phone\" is not a field",
        ),
        (
            pipeline(json!({"kind": "dataset"}), "append", json!({})),
            "destination.dataset",
        ),
        (
            pipeline(
                json!({"kind": "contacts"}),
                "append",
                json!({"schedule": "rate(5 weeks)"}),
            ),
            "schedule",
        ),
        (
            pipeline(
                json!({"kind": "contacts"}),
                "append",
                json!({"schedule": "61 * * * *"}),
            ),
            "schedule",
        ),
        (
            pipeline(
                json!({"kind": "contacts"}),
                "append",
                json!({"source_id": other_source}),
            ),
            "mapping_id",
        ),
    ] {
        let answer = client.post("/api/pipelines", body.clone()).await;
        let message = failure(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        );
        assert!(message.contains(wanted), "{body}: {message}");
    }
    let created = client
        .post(
            "/api/pipelines",
            pipeline(
                json!({"kind": "contacts", "key": "emails"}),
                "upsert",
                json!({"schedule": "0 6 * * MON-FRI"}),
            ),
        )
        .await;
    let created = data(&created, StatusCode::CREATED);
    assert_eq!(created["enabled"], true);
    assert_eq!(created["schedule"], "0 6 * * MON-FRI");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/pipelines/{id}");
    let changed = data(
        &client
            .put(&path, json!({"schedule": "rate(1 hour)", "enabled": false}))
            .await,
        StatusCode::OK,
    );
    assert_eq!(changed["schedule"], "rate(1 hour)");
    assert_eq!(changed["enabled"], false);
    let cleared = data(
        &client.put(&path, json!({"schedule": null})).await,
        StatusCode::OK,
    );
    assert!(cleared["schedule"].is_null());
    let taken = client
        .post(
            "/api/pipelines",
            pipeline(json!({"kind": "contacts"}), "append", json!({})),
        )
        .await;
    failure(&taken, StatusCode::CONFLICT, "ALREADY_EXISTS");
    let dataset = client
        .post(
            "/api/pipelines",
            pipeline(
                json!({"kind": "dataset", "dataset": "people", "key": ["emails", "first_name"]}),
                "upsert",
                json!({"name": "to dataset"}),
            ),
        )
        .await;
    data(&dataset, StatusCode::CREATED);

    // What a pipeline runs stays while it does.
    let message = failure(
        &client.delete(&format!("/api/mappings/{mapping}")).await,
        StatusCode::CONFLICT,
        "IN_USE",
    );
    assert!(
        message.contains("pipeline \"import\"") || message.contains("pipeline \"to dataset\""),
        "{message}"
    );
    failure(
        &client.delete(&format!("/api/sources/{source}")).await,
        StatusCode::CONFLICT,
        "IN_USE",
    );

    let other = app.tenant().await;
    let as_other = app.as_tenant(&other);
    failure(
        &as_other.get(&path).await,
        StatusCode::NOT_FOUND,
        "PIPELINE_NOT_FOUND",
    );
    failure(
        &as_other.put(&path, json!({"enabled": true})).await,
        StatusCode::NOT_FOUND,
        "PIPELINE_NOT_FOUND",
    );
    failure(
        &as_other.delete(&path).await,
        StatusCode::NOT_FOUND,
        "PIPELINE_NOT_FOUND",
    );
    assert_eq!(
        data(&as_other.get("/api/pipelines").await, StatusCode::OK),
        json!([])
    );
    let viewer = key_with_role(&app, &tenant, "viewer").await;
    data(
        &app.get(&path, std::slice::from_ref(&viewer)).await,
        StatusCode::OK,
    );
    let answer = app
        .call(
            http::Method::DELETE,
            &path,
            std::slice::from_ref(&viewer),
            None,
        )
        .await;
    failure(&answer, StatusCode::FORBIDDEN, "FORBIDDEN");

    let listed = client.get("/api/pipelines").await.expect(StatusCode::OK);
    assert_eq!(listed["pagination"]["total_items"], 2);
    for p in listed["data"].as_array().unwrap() {
        data(
            &client
                .delete(&format!("/api/pipelines/{}", p["id"].as_str().unwrap()))
                .await,
            StatusCode::OK,
        );
    }
    data(
        &client.delete(&format!("/api/mappings/{mapping}")).await,
        StatusCode::OK,
    );
    data(
        &client.delete(&format!("/api/sources/{source}")).await,
        StatusCode::OK,
    );
}

/// A feed server on loopback: `/feed.csv` (needs `Authorization: Bearer s3cret`),
/// `/feed.ndjson`, `/big.csv` (5 MB).
pub(crate) async fn feed_server() -> String {
    use axum::http::{HeaderMap, StatusCode as S, header};
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/feed.csv",
            get(|headers: HeaderMap| async move {
                if headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    != Some("Bearer s3cret")
                {
                    return (
                        S::UNAUTHORIZED,
                        [(header::CONTENT_TYPE, "text/plain")],
                        String::new(),
                    );
                }
                (
                    S::OK,
                    [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                    "zip,name\n02134,Ann\n00501,Zoë\n".to_owned(),
                )
            }),
        )
        .route(
            "/feed.ndjson",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/x-ndjson")],
                    "{\"b\":\"2\",\"a\":\"1\"}\n",
                )
            }),
        )
        .route(
            "/big.csv",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/csv")],
                    "a\n".repeat(2_500_000),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_http_source_is_sampled_from_its_url_with_its_sealed_headers() {
    use crate::dev_server::spawn;
    let feed = feed_server().await;
    let prefix = format!("hs{}", crate::support::rand_u64() % 1_000_000_000);
    let server = spawn(&prefix, false, &[("RELINX_ALLOW_PRIVATE_TARGETS", "1")]).await;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let auth = format!(
        "ApiKey {}",
        crate::dev_server::sign_up(&http, &server.addr, "Feeds Inc").await
    );
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let request = http
            .request(method, format!("{base}{path}"))
            .header("authorization", &auth);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let source = |name: &str, path: &str, headers: Value| json!({"name": name, "kind": "http", "config": {"url": format!("{feed}{path}"), "headers": headers}});
    let (status, created) = call(
        reqwest::Method::POST,
        "/api/sources".into(),
        Some(source(
            "feed",
            "/feed.csv",
            json!({"Authorization": "Bearer s3cret"}),
        )),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(!created.to_string().contains("s3cret"));
    let id = created["data"]["id"].as_str().unwrap();
    let (status, sample) = call(
        reqwest::Method::GET,
        format!("/api/sources/{id}/sample"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{sample}");
    assert_eq!(sample["data"]["columns"], json!(["zip", "name"]));
    assert_eq!(sample["data"]["rows"][0]["zip"], "02134");
    assert_eq!(sample["data"]["rows"][1]["name"], "Zoë");

    let (_, ndjson) = call(
        reqwest::Method::POST,
        "/api/sources".into(),
        Some(source("nd", "/feed.ndjson", json!({}))),
    )
    .await;
    let (status, sample) = call(
        reqwest::Method::GET,
        format!(
            "/api/sources/{}/sample",
            ndjson["data"]["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{sample}");
    assert_eq!(sample["data"]["columns"], json!(["b", "a"]));

    for (name, path, headers, wanted) in [
        ("no-key", "/feed.csv", json!({}), "HTTP 401"),
        ("missing", "/nothing.csv", json!({}), "HTTP 404"),
        ("big", "/big.csv", json!({}), "more than 4000000 bytes"),
    ] {
        let (_, made) = call(
            reqwest::Method::POST,
            "/api/sources".into(),
            Some(source(name, path, headers)),
        )
        .await;
        let (status, answer) = call(
            reqwest::Method::GET,
            format!(
                "/api/sources/{}/sample",
                made["data"]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert_eq!(status, 422, "{name}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("config.url") && message.contains(wanted),
            "{name}: {message}"
        );
    }
}
