//! Relenta's recurrence checked from outside: activities saved through a real
//! `relinx-dev`, their occurrences compared with another RFC 5545 implementation —
//! python-dateutil's `rrule` (in the venv scripts/test names in `RELINX_PYTHON`;
//! moto depends on it).

use crate::dev_server::{DevServer, spawn};
use relinx_testkit::http_call;
use serde_json::{Value, json};

/// Rules a calendar meets, each with its first start.
const RULES: [(&str, &str); 8] = [
    ("FREQ=WEEKLY;BYDAY=MO;COUNT=3", "2026-11-30T09:00:00Z"),
    ("FREQ=MONTHLY;BYDAY=-1FR;COUNT=5", "2026-01-01T17:00:00Z"),
    (
        "FREQ=DAILY;INTERVAL=3;UNTIL=20270115T000000Z",
        "2026-12-20T08:30:00Z",
    ),
    ("FREQ=MONTHLY;BYMONTHDAY=31", "2026-01-31T12:00:00Z"),
    (
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "2024-02-29T10:00:00Z",
    ),
    (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=10",
        "2026-03-03T15:00:00Z",
    ),
    (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=6",
        "2026-01-01T18:00:00Z",
    ),
    ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "2026-01-05T07:00:00Z"),
];
const FROM: &str = "2024-01-01T00:00:00Z";
const TO: &str = "2032-12-31T23:59:59Z";

async fn key_of(server: &DevServer) -> String {
    let made = http_call(
        &server.addr,
        "POST",
        "/v1/signup",
        &[],
        Some(json!({
            "organization": "Recurrence",
            "email": format!("rrule-{}@example.com", crate::rand_u64()),
            "password": "a long enough password",
            // Sixteen calls in a row: more than a starter org's burst of 10.
            "plan": "enterprise",
        })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    made.json()["api_key"].as_str().unwrap().to_owned()
}

/// The starts python-dateutil expands for `rule` from `start` within the window.
fn dateutil_starts(rule: &str, start: &str) -> Vec<String> {
    let python = std::env::var("RELINX_PYTHON")
        .expect("RELINX_PYTHON is not set: run the tests with scripts/test");
    let script = r#"
import sys
from datetime import datetime, timezone
from dateutil.rrule import rrulestr
rule, start, since, until = sys.argv[1:5]
parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
found = rrulestr(rule, dtstart=parse(start)).between(parse(since), parse(until), inc=True)
print("\n".join(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in found[:1000]))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, rule, start, FROM, TO])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dateutil: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn occurrences_agree_with_python_dateutil() {
    let server = spawn(&format!("rrule{}", crate::rand_u64()), false, &[]).await;
    let key = [("x-relenta-department-key", key_of(&server).await)];
    for (rule, start) in RULES {
        let saved = http_call(
            &server.addr,
            "POST",
            "/api/v3/activity.save.json",
            &key,
            Some(json!({"label": rule, "dt_start": start, "rrule": rule})),
        )
        .await;
        assert_eq!(saved.status, 200, "{rule}: {}", saved.text);
        let id = saved.json()["data"]["id"].as_u64().unwrap();
        let listed = http_call(
            &server.addr,
            "GET",
            &format!("/api/v3/activity.occurrences.json?id={id}&from={FROM}&to={TO}&limit=1000"),
            &key,
            None,
        )
        .await;
        assert_eq!(listed.status, 200, "{rule}: {}", listed.text);
        let ours: Vec<String> = listed.json()["data"]["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o: &Value| o["dt_start"].as_str().unwrap().to_owned())
            .collect();
        let theirs = dateutil_starts(rule, start);
        assert!(!theirs.is_empty(), "{rule}: dateutil found nothing");
        assert_eq!(ours, theirs, "{rule} from {start}");
    }
}
