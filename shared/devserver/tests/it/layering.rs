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

/// The modules of a crate, from its `src/*.rs` files, each with the sibling
/// modules it names (`crate::name`).
fn module_graph(src: &Path) -> Vec<(String, Vec<String>)> {
    let Ok(entries) = std::fs::read_dir(src) else {
        return Vec::new();
    };
    let files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    files
        .iter()
        .zip(&names)
        .map(|(file, name)| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let uses = names
                .iter()
                .filter(|other| {
                    *other != name
                        && (text.contains(&format!("crate::{other}::"))
                            || text.contains(&format!("crate::{other};"))
                            || text.contains(&format!("crate::{other}::{{"))
                            || text.contains(&format!("crate::{other}}}"))
                            || text.contains(&format!("crate::{other},")))
                })
                .cloned()
                .collect();
            (name.clone(), uses)
        })
        .collect()
}

/// A module cycle (`a → b → a`) in `graph`, if there is one.
fn cycle(graph: &[(String, Vec<String>)]) -> Option<Vec<String>> {
    fn visit(
        graph: &[(String, Vec<String>)],
        at: &str,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut found = path[start..].to_vec();
            found.push(at.to_owned());
            return Some(found);
        }
        if done.iter().any(|m| m == at) {
            return None;
        }
        path.push(at.to_owned());
        let uses = graph
            .iter()
            .find(|(m, _)| m == at)
            .map(|(_, u)| u.clone())
            .unwrap_or_default();
        for next in uses {
            if let Some(found) = visit(graph, &next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.push(at.to_owned());
        None
    }
    let mut done = Vec::new();
    graph
        .iter()
        .find_map(|(m, _)| visit(graph, m, &mut Vec::new(), &mut done))
}

/// Modules known to close a cycle, left out of the check until they are split:
/// identity's `state` holds every identity cache (keys, orgs, roles), so it names
/// the modules whose items it caches and they name it.
const KNOWN_HUBS: [(&str, &str); 1] = [("identity", "state")];

/// A domain's modules are layered: a lower one never names a higher one, so each
/// can be read (and a Datalinx module added) without the whole crate in mind.
#[test]
fn no_domain_crate_has_a_module_cycle() {
    let root = repository().join("shared");
    let mut cycles = Vec::new();
    for entry in std::fs::read_dir(&root).expect("crates").flatten() {
        let krate = entry.file_name().to_string_lossy().into_owned();
        let mut graph = module_graph(&entry.path().join("src"));
        for (hub_crate, hub) in KNOWN_HUBS {
            if krate == hub_crate {
                graph.retain(|(m, _)| m != hub);
            }
        }
        if let Some(found) = cycle(&graph) {
            cycles.push(format!("{krate}: {}", found.join(" → ")));
        }
    }
    assert!(cycles.is_empty(), "module cycles: {cycles:#?}");
}
