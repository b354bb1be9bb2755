//! The Lambda binary itself, started as Lambda starts it: a bad or missing setting
//! stops it before it asks the runtime for work, with a message naming the variable.

use std::process::{Command, Stdio};

fn start(env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auth"))
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_value_stops_the_function_naming_the_variable() {
    let (ok, stderr) = start(&[
        ("MAIN_TABLE", "m"),
        ("EVENTS_TABLE", "e"),
        ("JOBS_TABLE", "j"),
        ("RELINX_RETRY_SCHEDULE", "5s,banana"),
    ]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("RELINX_RETRY_SCHEDULE=\"5s,banana\""),
        "{stderr}"
    );
    assert!(stderr.contains("5s, 5m, 2h or 1d"), "{stderr}");
}

#[test]
fn a_function_without_its_secrets_names_where_they_come_from() {
    let (ok, stderr) = start(&[
        ("MAIN_TABLE", "m"),
        ("EVENTS_TABLE", "e"),
        ("JOBS_TABLE", "j"),
    ]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("RELINX_KEY_PEPPER_SECRET_ARN"), "{stderr}");
    assert!(stderr.contains("RELINX_JWT_SECRET_ARN"), "{stderr}");
}

#[test]
fn a_function_without_its_tables_says_so() {
    let (ok, stderr) = start(&[
        (
            "RELINX_KEY_PEPPER",
            "a-pepper-long-enough-a-pepper-long-enough",
        ),
        (
            "RELINX_JWT_SECRET",
            "a-secret-long-enough-a-secret-long-enough",
        ),
    ]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("MAIN_TABLE"), "{stderr}");
}
