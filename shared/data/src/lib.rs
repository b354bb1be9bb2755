//! Datalinx's data domain (seed 003's Core APIs: sources, schemas, mappings; API.md
//! "Datalinx data"). Being built in steps (issue 28): first what an ingested column
//! holds, inferred so that no value is ever damaged ([`infer`]), and CSV read as
//! written, whatever its encoding and delimiter ([`ingest`]).

pub mod infer;
pub mod ingest;

pub use infer::{ColumnProfile, ColumnType, infer_column};
pub use ingest::{CsvOptions, IngestError, Table, parse_csv, parse_json};
