//! Staged rows: what an upload accepted, kept (7 days) until a pipeline run consumes
//! it. An upload's rows are cut into chunks of at most 300 KB of JSON, each
//! compressed into an item of its own partition (`STAGED#…`): a 4 MB upload is ~20
//! chunks, each one write to its own key, never a burst on one. The upload itself is
//! one item in the workspace's partition (`UPLOAD#{source}#{id}`), written in the
//! transaction that updates the source: chunks written before it and never listed
//! (the process died in between) are unreachable and expire.

use relinx_ddb::codec::{self, Item, binary, from_item, get_b, n, s, to_item};
use relinx_ddb::keys::{self, data as dk};
use relinx_ddb::{Store, StoreError, Table};
use relinx_model::{OrgId, SourceId, Timestamp};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// How long staged rows are kept.
pub const RETENTION_DAYS: i64 = 7;
/// Rows one request may stage.
pub const MAX_ROWS: usize = 10_000;
/// Bytes one request may send (4 MB, as API.md says: MB, not MiB).
pub const MAX_BYTES: usize = 4_000_000;
/// The JSON of one chunk's rows, before compression: the largest a row may be, and
/// far enough under DynamoDB's 400 KB an item that even rows that do not compress fit.
const CHUNK_BYTES: usize = 300 * 1024;

/// One accepted upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    /// Time-ordered (a ULID): runs read uploads in the order they were staged.
    pub id: String,
    pub source_id: SourceId,
    /// This upload's columns, in the file's order (its rows' values align with them).
    pub columns: Vec<String>,
    pub rows: u64,
    pub chunks: u32,
    /// The encoding the file was read in, and the delimiter (CSV).
    pub encoding: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    pub staged_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The sort key of upload `id` of `source` (in the workspace's partition).
pub fn upload_sk(source: &SourceId, id: &str) -> String {
    format!("{}{source}#{id}", dk::UPLOAD)
}

fn chunk_pk(org: &OrgId, source: &SourceId, upload: &str, chunk: u32) -> String {
    format!("{}{org}#{source}#{upload}#{chunk:05}", dk::STAGED_ROWS)
}

/// The upload's item, expiring with its rows.
pub fn upload_item(upload: &Upload, partition: String) -> Result<Item, StoreError> {
    let mut item = to_item(upload, partition, upload_sk(&upload.source_id, &upload.id))?;
    item.insert(keys::TTL.to_owned(), n(upload.expires_at.unix()));
    Ok(item)
}

/// Cuts `rows` into compressed chunks. A row whose JSON alone exceeds a chunk is
/// refused (413), naming it (`first_row` is the number the caller knows it by).
pub fn encode_chunks(rows: &[Vec<String>], first_row: u64) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut chunks = Vec::new();
    let mut current: Vec<u8> = b"[".to_vec();
    let mut in_current = 0usize;
    for (index, row) in rows.iter().enumerate() {
        let json =
            serde_json::to_vec(row).map_err(|e| StoreError::internal("encode staged row", e))?;
        if json.len() + 2 > CHUNK_BYTES {
            return Err(StoreError::TooLarge {
                code: relinx_model::ErrorCode::PayloadTooLarge,
                message: format!(
                    "row {}: {} KB; a row may hold at most {} KB",
                    first_row + index as u64,
                    json.len() / 1024,
                    CHUNK_BYTES / 1024
                ),
            });
        }
        if in_current > 0 && current.len() + json.len() + 2 > CHUNK_BYTES {
            current.push(b']');
            chunks.push(compress(&current)?);
            current = b"[".to_vec();
            in_current = 0;
        }
        if in_current > 0 {
            current.push(b',');
        }
        current.extend_from_slice(&json);
        in_current += 1;
    }
    if in_current > 0 {
        current.push(b']');
        chunks.push(compress(&current)?);
    }
    Ok(chunks)
}

pub(crate) fn compress(json: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(json)
        .map_err(|e| StoreError::internal("compress staged rows", e))?;
    encoder
        .finish()
        .map_err(|e| StoreError::internal("compress staged rows", e))
}

pub(crate) fn decompress(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|e| StoreError::internal("decompress staged rows", e))?;
    Ok(json)
}

fn decode_chunk(bytes: &[u8]) -> Result<Vec<Vec<String>>, StoreError> {
    serde_json::from_slice(&decompress(bytes)?)
        .map_err(|e| StoreError::internal("decode staged rows", e))
}

/// The uploads of `source` staged after upload `after` (all, if none) up to upload
/// `upto` (included; the newest, if none), oldest first; expired ones left out.
pub async fn uploads_between(
    store: &Store,
    partition: &str,
    source: &SourceId,
    after: Option<&str>,
    upto: Option<&str>,
) -> Result<Vec<Upload>, StoreError> {
    if let (Some(after), Some(upto)) = (after, upto)
        && after >= upto
    {
        return Ok(Vec::new());
    }
    let prefix = format!("{}{source}#", dk::UPLOAD);
    // Upload sort keys all have one length, so a space after `after`'s key sorts
    // after it and before every later one.
    let low = after.map_or_else(
        || prefix.clone(),
        |id| format!("{} ", upload_sk(source, id)),
    );
    let high = upto.map_or_else(|| format!("{prefix}~"), |id| upload_sk(source, id));
    let now = Timestamp::now();
    let items = store
        .query(Table::Main, partition)
        .between(low, high)
        .all_items()
        .await?;
    let mut uploads = Vec::with_capacity(items.len());
    for item in items {
        let upload: Upload = from_item(item)?;
        if upload.expires_at > now {
            uploads.push(upload);
        }
    }
    Ok(uploads)
}

/// Every row of `upload`, in order.
pub async fn upload_rows(
    store: &Store,
    org: &OrgId,
    upload: &Upload,
) -> Result<Vec<Vec<String>>, StoreError> {
    let keys = (0..upload.chunks)
        .map(|i| {
            codec::key(
                chunk_pk(org, &upload.source_id, &upload.id, i),
                dk::STAGED_ROWS_SK,
            )
        })
        .collect();
    let mut chunks = store.get_items(keys).await?;
    if chunks.len() != upload.chunks as usize {
        return Err(StoreError::Internal(format!(
            "upload {} lists {} chunks of rows, {} were found",
            upload.id,
            upload.chunks,
            chunks.len()
        )));
    }
    chunks.sort_by(|a, b| codec::get_s(a, keys::PK).cmp(&codec::get_s(b, keys::PK)));
    let mut rows = Vec::with_capacity(upload.rows as usize);
    for chunk in chunks {
        let bytes = get_b(&chunk, "rows")
            .ok_or_else(|| StoreError::Internal("a staged chunk without rows".into()))?;
        rows.extend(decode_chunk(bytes)?);
    }
    Ok(rows)
}

/// Writes an upload's chunks (before the transaction that lists the upload).
pub async fn write_chunks(
    store: &Store,
    upload: &Upload,
    org: &OrgId,
    chunks: Vec<Vec<u8>>,
) -> Result<(), StoreError> {
    let ttl = upload.expires_at.unix();
    let items = chunks
        .into_iter()
        .zip(0u32..)
        .map(|(bytes, index)| {
            let mut item = codec::key(
                chunk_pk(org, &upload.source_id, &upload.id, index),
                dk::STAGED_ROWS_SK,
            );
            item.insert("rows".to_owned(), binary(bytes));
            item.insert(keys::TTL.to_owned(), n(ttl));
            item.insert("upload".to_owned(), s(upload.id.clone()));
            item
        })
        .collect();
    store.batch_put(Table::Main, items).await
}

/// Rows staged into a source, oldest first, each with its columns.
pub struct StagedRows {
    pub uploads: Vec<Upload>,
    /// Every row read, as `(index into uploads, values)`.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The first `limit` rows staged into `source` and not yet expired, oldest first.
pub async fn read_rows(
    store: &Store,
    partition: &str,
    org: &OrgId,
    source: &SourceId,
    limit: usize,
) -> Result<StagedRows, StoreError> {
    let now = Timestamp::now();
    let prefix = format!("{}{source}#", dk::UPLOAD);
    let mut staged = StagedRows {
        uploads: Vec::new(),
        rows: Vec::new(),
    };
    let mut after = None;
    'uploads: loop {
        let page = store
            .query(Table::Main, partition)
            .begins_with(prefix.clone())
            .limit(25)
            .after(after)
            .page_items()
            .await?;
        for item in page.items {
            let upload: Upload = from_item(item)?;
            // Expired but not yet removed by TTL: already gone as far as anyone knows.
            if upload.expires_at <= now {
                continue;
            }
            let keys = (0..upload.chunks)
                .map(|i| codec::key(chunk_pk(org, source, &upload.id, i), dk::STAGED_ROWS_SK))
                .collect();
            let mut chunks = store.get_items(keys).await?;
            chunks.sort_by(|a, b| codec::get_s(a, keys::PK).cmp(&codec::get_s(b, keys::PK)));
            let index = staged.uploads.len();
            staged.uploads.push(upload);
            for chunk in chunks {
                let bytes = get_b(&chunk, "rows")
                    .ok_or_else(|| StoreError::Internal("a staged chunk without rows".into()))?;
                for row in decode_chunk(bytes)? {
                    if staged.rows.len() == limit {
                        break 'uploads;
                    }
                    staged.rows.push((index, row));
                }
            }
            if staged.rows.len() == limit {
                break 'uploads;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(staged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_and_stay_under_an_item() {
        let rows: Vec<Vec<String>> = (0..20_000)
            .map(|i| vec![format!("row {i}"), "x".repeat(i % 50)])
            .collect();
        let chunks = encode_chunks(&rows, 1).unwrap();
        assert!(chunks.len() > 1);
        let mut back = Vec::new();
        for chunk in &chunks {
            assert!(chunk.len() < 350 * 1024);
            back.extend(decode_chunk(chunk).unwrap());
        }
        assert_eq!(back, rows);
    }

    #[test]
    fn a_row_larger_than_a_chunk_is_refused_by_its_number() {
        let rows = vec![vec!["a".into()], vec!["b".repeat(CHUNK_BYTES)]];
        let err = encode_chunks(&rows, 1).unwrap_err();
        assert!(err.to_string().contains("row 2"), "{err}");
    }
}
