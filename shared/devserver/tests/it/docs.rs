//! The project documents itself: every link in README.md and docs/ resolves inside
//! the repository (a fresh clone has nothing beside it).

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The markdown files a reader of the repository follows.
fn documents() -> Vec<PathBuf> {
    let root = repository();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

/// The targets of `[text](target)` links in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

#[test]
fn no_link_in_readme_or_docs_points_outside_the_repository() {
    let root = repository().canonicalize().expect("repository");
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let name = file.display().to_string();
        assert!(
            !text.contains("../shared/"),
            "{name} names ../shared/, which is not in the repository"
        );
        for target in link_targets(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
                || target.starts_with('#')
            {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            let resolved = file.parent().expect("a folder").join(path);
            let resolved = resolved
                .canonicalize()
                .unwrap_or_else(|_| panic!("{name}: the link {target:?} leads nowhere"));
            assert!(
                resolved.starts_with(&root),
                "{name}: the link {target:?} leaves the repository"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 5,
        "the documents link to each other ({checked} links)"
    );
}

#[test]
fn every_error_code_is_documented() {
    let api = std::fs::read_to_string(repository().join("docs/api.md")).expect("docs/api.md");
    for code in relinx_model::ErrorCode::ALL {
        assert!(
            api.contains(&format!("| `{}` |", code.as_str())),
            "docs/api.md \"Error codes\" does not list {code}"
        );
    }
}
