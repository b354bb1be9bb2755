//! The layering rules of ARCHITECTURE.md "The rule for a domain", checked on the
//! source: only relinx-ddb (and the dev server and the bench, which run DynamoDB
//! Local's streams and the reference calls) speak to DynamoDB through the AWS SDK;
//! every domain and function crate goes through relinx-ddb's typed operations; and
//! only relinx-config reads the environment.

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Crates allowed to name the DynamoDB SDK.
const SDK_CRATES: [&str; 3] = ["shared/ddb", "shared/devserver", "shared/bench"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            found.push(path);
        }
    }
}

/// The files of every crate but `except` (`shared/ddb`, …) that contain any of
/// `needles`; `part` is the folder of each crate to read (`""` for all of it).
fn files_naming(except: &[&str], part: &str, needles: &[&str]) -> Vec<String> {
    let root = repository();
    let mut offending = Vec::new();
    let mut checked = 0;
    for group in ["shared", "functions"] {
        for entry in std::fs::read_dir(root.join(group))
            .expect("crates")
            .flatten()
        {
            let relative = format!("{group}/{}", entry.file_name().to_string_lossy());
            if except.contains(&relative.as_str()) {
                continue;
            }
            let mut files = Vec::new();
            rust_files(&entry.path().join(part), &mut files);
            for file in files {
                checked += 1;
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                if needles.iter().any(|needle| text.contains(needle)) {
                    offending.push(file.display().to_string());
                }
            }
        }
    }
    assert!(checked > 50, "{checked} files checked");
    offending
}

#[test]
fn only_relinx_ddb_names_the_dynamodb_sdk() {
    let offending = files_naming(&SDK_CRATES, "", &["aws_sdk_dynamodb", "aws-sdk-dynamodb"]);
    assert!(
        offending.is_empty(),
        "these name the DynamoDB SDK; use relinx-ddb's typed operations: {offending:#?}"
    );
}

/// Reads the environment; `std::env::args` (the bench's flags) is not among them.
const ENV_READS: [&str; 4] = ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("];

#[test]
fn only_relinx_config_reads_the_environment() {
    // The config crate reads it; the test kit is test support (the test tables'
    // prefix, the emulator a test run was given); tests/ folders are not read.
    let offending = files_naming(&["shared/config", "shared/testkit"], "src", &ENV_READS);
    assert!(
        offending.is_empty(),
        "these read the environment; add the variable to relinx_config::Config: {offending:#?}"
    );
}
