//! Cursors of record lists and of the change feed: sealed (AES-GCM under the
//! deployment's pepper) over the org, the workspace and the query they continue, so
//! a cursor cannot be forged, read, or replayed against another org, workspace or
//! filter — any of those is a 400.

use crate::state::state;
use relinx_ddb::{Store, StoreError};
use relinx_model::{OrgId, ValidationError, WorkspaceId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
struct Sealed {
    o: String,
    w: String,
    /// The query the cursor continues (filters, or `feed`).
    q: String,
    /// Where to continue: the key attributes of the last item read.
    k: BTreeMap<String, String>,
}

pub(crate) fn seal(
    store: &Store,
    org: &OrgId,
    ws: &WorkspaceId,
    query: &str,
    position: BTreeMap<String, String>,
) -> String {
    let sealed = Sealed {
        o: org.to_string(),
        w: ws.to_string(),
        q: query.to_owned(),
        k: position,
    };
    serde_json::to_string(&sealed)
        .map(|plain| state(store).cursors.seal(&plain))
        .unwrap_or_default()
}

pub(crate) fn open(
    store: &Store,
    org: &OrgId,
    ws: &WorkspaceId,
    field: &str,
    query: &str,
    cursor: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    let invalid = |why: &str| StoreError::Invalid(ValidationError::new(field, why.to_owned()));
    let plain = state(store)
        .cursors
        .open(cursor)
        .ok_or_else(|| invalid("is not a cursor this API returned; start again without it"))?;
    let sealed: Sealed = serde_json::from_str(&plain)
        .map_err(|_| invalid("is not a cursor this API returned; start again without it"))?;
    if sealed.o != org.as_str() || sealed.w != ws.as_str() {
        return Err(invalid(
            "belongs to another organization or workspace; start again without it",
        ));
    }
    if sealed.q != query {
        return Err(invalid(
            "continues a query with other filters; send the same filters, or start again without it",
        ));
    }
    Ok(sealed.k)
}
