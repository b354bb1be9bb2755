//! Embeds the committed OpenAPI document (`docs/openapi.json`) deflated: the binary
//! that serves it (auth) carries ~40 KB instead of the document's ~440 KB of pretty
//! JSON, which grows with every route and alone would push it past the 10 MB budget.

use std::io::Write;

fn main() {
    let source = "../../docs/openapi.json";
    println!("cargo:rerun-if-changed={source}");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default())
        .join("openapi.json.deflate");
    let document = std::fs::read(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let deflated = encoder
        .write_all(&document)
        .and_then(|()| encoder.finish())
        .unwrap_or_else(|e| panic!("deflate {source}: {e}"));
    std::fs::write(&out, deflated).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
