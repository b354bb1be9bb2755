//! Datalinx's data domain (seed 003's Core APIs: sources, schemas, mappings; API.md
//! "Datalinx data"). Being built in steps (issue 28): first what an ingested column
//! holds, inferred so that no value is ever damaged ([`infer`]).

pub mod infer;

pub use infer::{ColumnProfile, ColumnType, infer_column};
