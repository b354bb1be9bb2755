//! Datalinx's data domain (seed 003's Core APIs; API.md "Datalinx data"): sources and
//! their staged rows, schemas (versioned; the built-in `contact` and `record` from
//! their domains), built in steps (issue 28). What an ingested column holds is
//! inferred so that no value is ever damaged ([`infer`]); CSV is read as written,
//! whatever its encoding and delimiter ([`ingest`]); an upload's rows are staged in
//! compressed chunks until a run consumes them ([`staging`]); every object lives in
//! its workspace's partition ([`scope`]).

pub mod datasets;
pub mod infer;
pub mod ingest;
pub mod load;
pub mod mapping;
pub mod mappings;
pub mod named;
pub mod pipeline;
pub mod pipelines;
pub mod relinx_source;
pub mod run;
pub mod run_queue;
pub mod runner;
pub mod runs;
pub mod schedule;
pub mod schema;
pub mod schemas;
pub mod scope;
pub mod source;
pub mod sources;
pub mod staging;
pub mod suggest;
pub mod uses;

pub use infer::{ColumnProfile, ColumnType, infer_column};
pub use ingest::{CsvOptions, IngestError, Table, parse_csv, parse_json};
pub use schema::{SchemaRef, SchemaView};
pub use scope::Scope;
pub use source::{NewSource, Source, SourceChange, SourceView};
