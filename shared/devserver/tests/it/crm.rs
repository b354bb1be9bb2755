//! Relenta (seed 004) as its clients use it: the seed's paths, the department key
//! header, the `{"status":true,"code":200,"data":…}` envelope, the seed's own
//! objects saved and listed back, typed custom fields, recurrence, departments
//! kept apart, page walks and the plan's contact limit.

use http::{Method, StatusCode};
use relinx_model::LimitsOverride;
use relinx_testkit::{Tenant, TestApp, TestResponse, owner_context};
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

fn department_key(key: &str) -> (&'static str, String) {
    ("x-relenta-department-key", key.to_owned())
}

fn key_of(tenant: &Tenant) -> (&'static str, String) {
    department_key(&tenant.api_key)
}

async fn post(
    app: &TestApp,
    key: &(&'static str, String),
    path: &str,
    body: Value,
) -> TestResponse {
    app.post(&format!("/api/v3/{path}"), std::slice::from_ref(key), body)
        .await
}

async fn get(app: &TestApp, key: &(&'static str, String), path: &str) -> TestResponse {
    app.get(&format!("/api/v3/{path}"), std::slice::from_ref(key))
        .await
}

/// The data of a success, checking the envelope.
fn data(answer: &TestResponse) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["status"], true, "{body}");
    assert_eq!(body["code"], 200, "{body}");
    body["data"].clone()
}

/// The message of an error in Relenta's envelope, checking the envelope.
fn error(answer: &TestResponse, status: StatusCode) -> String {
    assert_eq!(answer.status, status, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["status"], false, "{body}");
    assert_eq!(body["code"], status.as_u16(), "{body}");
    body["message"].as_str().unwrap_or_default().to_owned()
}

fn without(value: &Value, keys: &[&str]) -> Value {
    let mut value = value.clone();
    if let Some(map) = value.as_object_mut() {
        for key in keys {
            map.remove(*key);
        }
    }
    value
}

/// Seed 004's `custom_field.list.json` data.
fn seed_fields() -> Value {
    json!([
        {"id": "33078803", "type": "Text", "key": "Occupation", "label": "Occupation", "default_value": ""},
        {"id": "33078800", "type": "Single choice", "key": "T-shirt_size", "label": "T-shirt size", "default_value": "",
         "choices": ["S", "M", "L", "XL", "XXL"]},
        {"id": "33078801", "type": "Multiple choice", "key": "Featured_in", "label": "Featured in", "default_value": "",
         "choices": ["International Man of Mystery", "The Spy Who Shagged Me", "Goldmember", "Austin Powers 4"]},
        {"id": "33101174", "type": "Text", "key": "Hours", "label": "Hours", "default_value": ""},
        {"id": "33101635", "type": "Text", "key": "Skills", "label": "Skills", "default_value": ""},
        {"id": "33102253", "type": "Date", "key": "DOB", "label": "DOB", "default_value": ""}
    ])
}

/// Seed 004's `contact.list.json` data.
fn seed_contacts() -> Value {
    json!([{
        "id": "33103982", "full_name": "James Bond", "first_name": "James", "last_name": "Bond",
        "dt_created": "2016-01-05T12:03:32Z", "dt_modified": "2016-01-05T14:03:33Z",
        "emails": "james.bond@mi6.gov.uk", "title": null, "company": "British Secret Service",
        "comment": null, "phone": "", "url": "", "fax": "", "messenger": "", "twitter": "",
        "linkedin": "", "facebook": "", "text": "", "address": "", "do_not_mass_email": false
    }, {
        "id": "33077973", "full_name": "Dr. Evil", "first_name": "Dr.", "last_name": "Evil",
        "dt_created": "2013-07-08T12:38:11Z", "dt_modified": "2016-01-03T00:12:22Z",
        "emails": "ceo@virtucon.biz", "title": "CEO", "company": "Virtucon",
        "comment": "Claims that he's the Princess of Canada.",
        "phone": "800-VIRTUCON7 (toll-free);703-123-4567 (Cell)", "url": "virtucon.biz", "fax": "",
        "messenger": "drevil8387 (Skype)", "twitter": "AbsoluteEvil", "linkedin": "",
        "facebook": "https://www.facebook.com/pages/Dr-Evil/351058975168 (personal)", "text": "",
        "address": "(Secret Lair)\nUnderground in the Nevada desert\r\nSomewhere outside Las Vegas",
        "do_not_mass_email": false, "groups": "Cold;Qualified;Beyond evil;Absolute evil",
        "tags": "Good guys;New tag for evil guys;Very evil", "Occupation": "Evil doctor and a nice guy",
        "T-shirt_size": "XL", "Featured_in": "The Spy Who Shagged Me;Austin Powers 4",
        "Skills": "Startups and Entrepreneurship"
    }])
}

/// Seed 004's first `activity.list.json` item.
fn seed_activity() -> Value {
    json!({
        "id": "33104113", "activity_type": "default", "label": "Lunch", "calendar_id": "1",
        "all_day": true, "dt_created": "2016-01-09T15:05:29Z", "dt_modified": "2016-01-21T16:21:42Z",
        "dt_start": "2016-01-21T19:00:00Z", "dt_end": "2016-01-21T19:00:00Z", "rrule": "",
        "status": "open", "author": "Austin Powers <austin.powers@mi6.gov.uk>",
        "users": "Austin Powers <austin.powers@mi6.gov.uk>",
        "contacts": "Ivana Humpalot <ivana.humpalot@kgb.ru>;Mustafa <assassinmustafa@gmail.com>",
        "subject": "Discuss placement subject", "body": "Discuss placement body"
    })
}

const SERVER_KEPT: [&str; 3] = ["id", "dt_created", "dt_modified"];

/// Defines the seed's custom fields in a fresh department.
async fn define_seed_fields(app: &TestApp, key: &(&'static str, String)) {
    for field in seed_fields().as_array().unwrap() {
        let mut body = json!({"label": field["label"], "type": field["type"]});
        if let Some(choices) = field.get("choices") {
            body["choices"] = choices.clone();
        }
        let saved = data(&post(app, key, "custom_field.save.json", body).await);
        assert_eq!(saved["key"], field["key"], "{saved}");
    }
}

#[tokio::test]
async fn the_seed_fields_and_contacts_come_back_as_the_seed_shows_them() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    define_seed_fields(&app, &key).await;
    let listed = data(&get(&app, &key, "custom_field.list.json").await);
    let listed: Vec<Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| without(f, &["id"]))
        .collect();
    let expected: Vec<Value> = seed_fields()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| without(f, &["id"]))
        .collect();
    assert_eq!(listed, expected);

    // Saved as the seed's objects (new contacts: their ids and times are the
    // server's), through both paths the seed names.
    let mut ids = Vec::new();
    for (contact, path) in seed_contacts()
        .as_array()
        .unwrap()
        .iter()
        .zip(["contact.save.json", "contact.create.json"])
    {
        let saved = data(&post(&app, &key, path, without(contact, &["id"])).await);
        assert!(
            saved["id"].is_u64(),
            "the save answers an integer id: {saved}"
        );
        ids.push(saved["id"].as_u64().unwrap());
    }
    let listed = data(&get(&app, &key, "contact.list.json").await);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for ((shown, seed), id) in listed
        .iter()
        .zip(seed_contacts().as_array().unwrap())
        .zip(&ids)
    {
        assert_eq!(shown["id"], id.to_string(), "lists show ids as strings");
        assert_eq!(without(shown, &SERVER_KEPT), without(seed, &SERVER_KEPT));
        for time in ["dt_created", "dt_modified"] {
            let at = shown[time].as_str().unwrap();
            assert!(at.len() == 20 && at.ends_with('Z'), "{time}: {at}");
        }
    }

    // An update changes only what it carries; the table's spelling of the flag is
    // taken and answered in the example's.
    let evil = ids[1];
    data(
        &post(
            &app,
            &key,
            "contact.save.json",
            json!({"id": evil.to_string(), "title": "Chief Evil Officer", "do_no_mass_email": true}),
        )
        .await,
    );
    let shown = data(&get(&app, &key, &format!("contact.get.json?id={evil}")).await);
    assert_eq!(shown["title"], "Chief Evil Officer");
    assert_eq!(shown["do_not_mass_email"], true);
    assert!(shown.get("do_no_mass_email").is_none());
    assert_eq!(shown["T-shirt_size"], "XL");
    assert_eq!(shown["company"], "Virtucon");

    let missing = post(
        &app,
        &key,
        "contact.save.json",
        json!({"id": 999_999, "title": "x"}),
    )
    .await;
    error(&missing, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn custom_field_values_are_checked_by_type_and_unknown_keys_refused() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    define_seed_fields(&app, &key).await;
    let save = |body: Value| {
        let (app, key) = (&app, &key);
        async move { post(app, key, "contact.save.json", body).await }
    };
    let message = error(
        &save(json!({"full_name": "A", "T-shirt_size": "XXXL"})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.starts_with("T-shirt_size"), "{message}");
    assert!(message.contains("S, M, L, XL, XXL"), "{message}");
    let message = error(
        &save(json!({"full_name": "A", "DOB": "2020-13-40"})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.starts_with("DOB"), "{message}");
    let message = error(
        &save(json!({"full_name": "A", "Featured_in": "Goldmember;Nope"})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.contains("\"Nope\""), "{message}");
    let message = error(
        &save(json!({"full_name": "A", "Nickname": "x"})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.starts_with("Nickname"), "{message}");
    let message = error(
        &save(json!({"full_name": "A", "emails": "a@b.io;nope"})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.starts_with("emails"), "{message}");
    // Nothing of the refused saves was stored.
    assert_eq!(data(&get(&app, &key, "contact.list.json").await), json!([]));

    // A good save normalizes choices to their defined spelling.
    let saved = data(
        &save(json!({"full_name": "Mini-Me", "T-shirt_size": "s", "Featured_in": "goldmember; Austin Powers 4", "DOB": "1999-06-11"}))
            .await,
    );
    let shown = data(&get(&app, &key, &format!("contact.get.json?id={}", saved["id"])).await);
    assert_eq!(shown["T-shirt_size"], "S");
    assert_eq!(shown["Featured_in"], "Goldmember;Austin Powers 4");

    // Changing a field's type when stored values would not fit: 409 with the count,
    // and the definition stays as it was.
    let fields = data(&get(&app, &key, "custom_field.list.json").await);
    let size = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "T-shirt_size")
        .unwrap()
        .clone();
    let message = error(
        &post(
            &app,
            &key,
            "custom_field.save.json",
            json!({"id": size["id"], "type": "Number"}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(message.contains("1 contact holds"), "{message}");
    let fields = data(&get(&app, &key, "custom_field.list.json").await);
    assert!(fields.as_array().unwrap().contains(&size), "{fields}");
    // Dropping a choice nobody holds is fine; one somebody holds is not.
    let narrowed = post(
        &app,
        &key,
        "custom_field.save.json",
        json!({"id": size["id"], "choices": ["S", "M", "L"]}),
    )
    .await;
    assert_eq!(data(&narrowed)["choices"], json!(["S", "M", "L"]));
    let message = error(
        &post(
            &app,
            &key,
            "custom_field.save.json",
            json!({"id": size["id"], "choices": ["M", "L"]}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(message.starts_with("T-shirt_size"), "{message}");
    // A key is unique in the department without regard to case.
    let message = error(
        &post(
            &app,
            &key,
            "custom_field.save.json",
            json!({"label": "t-shirt SIZE", "type": "Text"}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(message.contains("T-shirt_size"), "{message}");
}

#[tokio::test]
async fn the_seed_activity_lists_back_and_recurrence_expands() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    let saved = data(
        &post(
            &app,
            &key,
            "activity.save.json",
            without(&seed_activity(), &["id"]),
        )
        .await,
    );
    let id = saved["id"].as_u64().unwrap();
    let listed = data(&get(&app, &key, "activity.list.json").await);
    let shown = &listed.as_array().unwrap()[0];
    assert_eq!(shown["id"], id.to_string());
    assert_eq!(
        without(shown, &SERVER_KEPT),
        without(&seed_activity(), &SERVER_KEPT)
    );

    let recurring = |rule: &str, start: &str| {
        json!({"label": "Standup", "dt_start": start, "dt_end": start, "rrule": rule,
               "contacts": "Ivana Humpalot <ivana.humpalot@kgb.ru>"})
    };
    let weekly = data(
        &post(
            &app,
            &key,
            "activity.save.json",
            recurring("FREQ=WEEKLY;BYDAY=MO;COUNT=3", "2026-11-30T09:00:00Z"),
        )
        .await,
    )["id"]
        .clone();
    let found = data(
        &get(
            &app,
            &key,
            &format!("activity.occurrences.json?id={weekly}&from=2026-01-01&to=2027-12-31"),
        )
        .await,
    );
    let starts: Vec<&str> = found["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["dt_start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-11-30T09:00:00Z",
            "2026-12-07T09:00:00Z",
            "2026-12-14T09:00:00Z"
        ]
    );
    assert_eq!(found["has_more"], false);

    let monthly = data(
        &post(
            &app,
            &key,
            "activity.save.json",
            recurring("FREQ=MONTHLY;BYDAY=-1FR;COUNT=5", "2026-01-01T17:00:00Z"),
        )
        .await,
    )["id"]
        .clone();
    let found = data(
        &get(
            &app,
            &key,
            &format!("activity.occurrences.json?id={monthly}&from=2026-01-01&to=2026-12-31"),
        )
        .await,
    );
    let days: Vec<String> = found["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["dt_start"].as_str().unwrap()[..10].to_owned())
        .collect();
    assert_eq!(
        days,
        [
            "2026-01-30",
            "2026-02-27",
            "2026-03-27",
            "2026-04-24",
            "2026-05-29"
        ]
    );

    let message = error(
        &post(
            &app,
            &key,
            "activity.save.json",
            recurring("FREQ=SOMETIMES", "2026-01-01T17:00:00Z"),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.starts_with("rrule"), "{message}");

    // An all-day activity expands by date.
    let daily = data(
        &post(
            &app,
            &key,
            "activity.save.json",
            json!({"all_day": true, "dt_start": "2016-01-21T19:00:00Z", "rrule": "FREQ=DAILY;COUNT=2"}),
        )
        .await,
    )["id"]
        .clone();
    let found = data(
        &get(
            &app,
            &key,
            &format!("activity.occurrences.json?id={daily}&from=2016-01-01&to=2016-12-31"),
        )
        .await,
    );
    assert_eq!(found["all_day"], true);
    assert_eq!(
        found["occurrences"],
        json!([{"dt_start": "2016-01-21", "dt_end": "2016-01-21"}, {"dt_start": "2016-01-22", "dt_end": "2016-01-22"}])
    );

    // Activities find their contacts by address, whichever was saved first.
    let ivana = data(
        &post(
            &app,
            &key,
            "contact.save.json",
            json!({"full_name": "Ivana Humpalot", "emails": "Ivana.Humpalot@kgb.ru"}),
        )
        .await,
    )["id"]
        .clone();
    let shown = data(&get(&app, &key, &format!("contact.get.json?id={ivana}")).await);
    let subjects: Vec<&Value> = shown["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    // The seed's lunch, the weekly and the monthly one (the daily one names nobody).
    assert_eq!(subjects.len(), 3, "{shown}");
    data(&post(&app, &key, "activity.delete.json", json!({"id": weekly})).await);
    let shown = data(&get(&app, &key, &format!("contact.get.json?id={ivana}")).await);
    assert_eq!(shown["activities"].as_array().unwrap().len(), 2, "{shown}");
}

#[tokio::test]
async fn a_department_key_sees_only_its_department() {
    let app = app().await;
    let tenant = app.tenant().await;
    let owner = tenant.key_header();
    let made = app
        .post(
            "/v1/workspaces",
            std::slice::from_ref(&owner),
            json!({"name": "Sales B"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let workspace_b = made.json()["id"].as_str().unwrap().to_owned();
    let mut keys = Vec::new();
    for workspace in [&tenant.workspace_id, &workspace_b] {
        let made = app
            .post(
                "/v1/api-keys",
                std::slice::from_ref(&owner),
                json!({"name": "department", "role": "operator", "workspace_id": workspace}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        keys.push(department_key(made.json()["key"].as_str().unwrap()));
    }
    let (a, b) = (&keys[0], &keys[1]);
    // Ids are per department: B's second contact has an id A has never given.
    data(
        &post(
            &app,
            b,
            "contact.save.json",
            json!({"full_name": "First in B"}),
        )
        .await,
    );
    let in_b = data(
        &post(
            &app,
            b,
            "contact.save.json",
            json!({"full_name": "Only in B"}),
        )
        .await,
    )["id"]
        .clone();
    data(
        &post(
            &app,
            a,
            "contact.save.json",
            json!({"full_name": "Only in A"}),
        )
        .await,
    );

    let seen_by_a = data(&get(&app, a, "contact.list.json").await);
    let names: Vec<&Value> = seen_by_a
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["full_name"])
        .collect();
    assert_eq!(names, [&json!("Only in A")]);
    error(
        &post(
            &app,
            a,
            "contact.save.json",
            json!({"id": in_b, "full_name": "taken over"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    error(
        &get(&app, a, &format!("contact.get.json?id={in_b}")).await,
        StatusCode::NOT_FOUND,
    );
    error(
        &post(&app, a, "contact.delete.json", json!({"id": in_b})).await,
        StatusCode::NOT_FOUND,
    );
    let still = data(&get(&app, b, &format!("contact.get.json?id={in_b}")).await);
    assert_eq!(still["full_name"], "Only in B");
    // Another department's header cannot widen a scoped key.
    let widened = app
        .get(
            "/api/v3/contact.list.json",
            &[a.clone(), ("workspaceId", workspace_b.clone())],
        )
        .await;
    assert!(
        widened.status != StatusCode::OK || !widened.text.contains("Only in B"),
        "{}",
        widened.text
    );

    // A viewer's key reads but cannot save: Relenta's 401, not a 403.
    let made = app
        .post(
            "/v1/api-keys",
            std::slice::from_ref(&owner),
            json!({"name": "reader", "role": "viewer"}),
        )
        .await;
    let viewer = department_key(made.json()["key"].as_str().unwrap());
    data(&get(&app, &viewer, "contact.list.json").await);
    data(&post(&app, &viewer, "contact.list.json", json!({"page": 1})).await);
    error(
        &post(
            &app,
            &viewer,
            "contact.save.json",
            json!({"full_name": "x"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
    error(
        &get(&app, &department_key("nope.nope"), "contact.list.json").await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn a_page_number_past_any_list_is_a_400_not_an_overflow() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    for path in [
        "contact.list.json?page=18446744073709551615",
        "contact.list.json?page=18446744073709551615&page_size=200",
        "activity.list.json?page=1000001",
    ] {
        let answer = get(&app, &key, path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
        assert!(answer.text.contains("page"), "{}", answer.text);
    }
    let last = get(&app, &key, "contact.list.json?page=1000000&page_size=200").await;
    assert_eq!(
        data(&last),
        json!([]),
        "the last page allowed is merely empty"
    );
}

#[tokio::test]
async fn pages_walk_every_contact_once() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    let mut made = Vec::new();
    for i in 0..25 {
        let saved = data(
            &post(
                &app,
                &key,
                "contact.save.json",
                json!({"full_name": format!("Contact {i}")}),
            )
            .await,
        );
        made.push(saved["id"].as_u64().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    for page in 1..=4 {
        // The query string, a JSON body and a form body all carry the page.
        let answer = match page {
            1 => get(&app, &key, "contact.list.json?page=1&page_size=10").await,
            2 => {
                post(
                    &app,
                    &key,
                    "contact.list.json",
                    json!({"page": 2, "page_size": 10}),
                )
                .await
            }
            _ => {
                // As curl --data sends it: form-encoded, the page in the query.
                let request = http::Request::builder()
                    .method(Method::POST)
                    .uri(format!("/api/v3/contact.list.json?page={page}"))
                    .header(key.0, &key.1)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from("page_size=10"))
                    .unwrap();
                app.raw(request).await
            }
        };
        let listed = data(&answer);
        let ids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        sizes.push(ids.len());
        seen.extend(ids);
    }
    assert_eq!(sizes, [10, 10, 5, 0]);
    assert_eq!(seen, made, "every contact once, by id");

    // Walked again while another instance (a second Store on the same table) adds
    // contacts after the first page: nothing repeats, nothing is skipped, the new
    // ones come last.
    let other = TestApp::new(relinx_devserver::app).await;
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    for page in 1..=4 {
        let listed = data(
            &get(
                &app,
                &key,
                &format!("contact.list.json?page={page}&page_size=10"),
            )
            .await,
        );
        let ids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        sizes.push(ids.len());
        seen.extend(ids);
        if page == 1 {
            for i in 0..3 {
                let saved = data(
                    &post(
                        &other,
                        &key,
                        "contact.save.json",
                        json!({"full_name": format!("Added meanwhile {i}")}),
                    )
                    .await,
                );
                made.push(saved["id"].as_u64().unwrap().to_string());
            }
        }
    }
    assert_eq!(sizes, [10, 10, 8, 0]);
    assert_eq!(seen, made);
    let message = error(
        &get(&app, &key, "contact.list.json?page_size=500").await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.starts_with("page_size"), "{message}");
}

#[tokio::test]
async fn the_plan_limit_is_a_401_and_never_exceeded_under_concurrent_saves() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    // A starter org whose limit is lowered to 10, so the race is at hand.
    relinx_identity::orgs::set_limits_override(
        &app.platform.store,
        &owner_context(&tenant),
        LimitsOverride {
            contacts: Some(10),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for i in 0..5 {
        data(
            &post(
                &app,
                &key,
                "contact.save.json",
                json!({"full_name": format!("Early {i}")}),
            )
            .await,
        );
    }
    // Half the racers through a second instance (its own Store) on the same table.
    let second = TestApp::new(relinx_devserver::app).await;
    let saves = (0..20).map(|i| {
        let (app, key) = (if i % 2 == 0 { &app } else { &second }, &key);
        async move {
            post(
                app,
                key,
                "contact.save.json",
                json!({"full_name": format!("Racer {i}")}),
            )
            .await
        }
    });
    let answers = futures::future::join_all(saves).await;
    let won = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    assert_eq!(won, 5, "exactly the 5 places left");
    for lost in answers.iter().filter(|a| a.status != StatusCode::OK) {
        let message = error(lost, StatusCode::UNAUTHORIZED);
        assert!(message.contains("limit of 10 contacts"), "{message}");
    }
    let all = data(&get(&app, &key, "contact.list.json?page_size=50").await);
    assert_eq!(all.as_array().unwrap().len(), 10);
    let ids: std::collections::BTreeSet<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 10, "ids are unique across instances");

    // A delete frees a place.
    let first = all[0]["id"].clone();
    data(&post(&app, &key, "contact.delete.json", json!({"id": first})).await);
    data(
        &post(
            &app,
            &key,
            "contact.save.json",
            json!({"full_name": "Late"}),
        )
        .await,
    );
    error(
        &post(
            &app,
            &key,
            "contact.save.json",
            json!({"full_name": "Too late"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn a_type_change_racing_saves_never_leaves_a_value_that_does_not_fit() {
    let app = app().await;
    let tenant = app.tenant().await;
    let key = key_of(&tenant);
    relinx_identity::orgs::set_limits_override(
        &app.platform.store,
        &owner_context(&tenant),
        LimitsOverride {
            burst: Some(1000),
            rate_per_minute: Some(10_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let field = data(
        &post(
            &app,
            &key,
            "custom_field.save.json",
            json!({"label": "Size", "type": "Text"}),
        )
        .await,
    );
    // Saves of a text value through one instance while another instance tries to
    // make the field a Number.
    let second = TestApp::new(relinx_devserver::app).await;
    let saves = (0..12).map(|i| {
        let (app, key) = (&app, &key);
        async move {
            post(
                app,
                key,
                "contact.save.json",
                json!({"full_name": format!("Racer {i}"), "Size": "large"}),
            )
            .await
        }
    });
    let change = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        post(
            &second,
            &key,
            "custom_field.save.json",
            json!({"id": field["id"], "type": "Number"}),
        )
        .await
    };
    let (saved, changed) = tokio::join!(futures::future::join_all(saves), change);
    let stored = data(&get(&app, &key, "contact.list.json?page_size=50").await);
    let texts = stored
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["Size"] == "large")
        .count();
    let fields = data(&get(&app, &key, "custom_field.list.json").await);
    let now = fields[0]["type"].as_str().unwrap().to_owned();
    if changed.status == StatusCode::OK {
        assert_eq!(now, "Number");
        assert_eq!(texts, 0, "a text value got in beside the change");
    } else {
        error(&changed, StatusCode::CONFLICT);
        assert_eq!(now, "Text", "a refused change leaves the field as it was");
        assert!(texts > 0);
    }
    for answer in &saved {
        assert!(
            answer.status == StatusCode::OK || answer.status == StatusCode::BAD_REQUEST,
            "{}",
            answer.text
        );
    }
    let ok = saved.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(ok, texts, "every accepted save is stored");
}
