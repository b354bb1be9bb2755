//! The key schema of the main table, and the one registry of key prefixes.
//!
//! Every item of an org lives under `ORG#{org}`, so a Query for one org can never
//! return another's items. Inside it, each domain owns the sort-key prefixes it
//! registers in [`REGISTRY`]; items found by something other than their org (a key's
//! verification record, a login, an invite token) get a partition prefix of their
//! own. A new domain adds its prefixes here, and a test refuses two domains sharing
//! one or one prefix shadowing another in a `begins_with` query.

use relinx_model::OrgId;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The TTL attribute of the main table (epoch seconds), as template.yaml declares it.
pub const TTL: &str = "ttl";

/// Which key attribute a prefix is used in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPart {
    Partition,
    Sort,
}

/// A prefix and the domain that owns it.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    pub domain: &'static str,
    pub part: KeyPart,
    pub prefix: &'static str,
}

/// The platform core's own keys.
pub mod core {
    /// The partition of everything an org owns (and of its events).
    pub const ORG_PARTITION: &str = "ORG#";
    pub const IDEMPOTENCY: &str = "IDEM#";
    pub const IDEMPOTENCY_SK: &str = "IDEM";
    pub const RATE_WINDOW: &str = "RL#";
    pub const RATE_WINDOW_SK: &str = "RL";
    /// `OP#{op id}`: an applied operation's marker ([`crate::oplog`]).
    pub const OP_MARK: &str = "OP#";
    pub const OP_MARK_SK: &str = "OP";
}

/// Identity's keys (`relinx-identity`).
pub mod identity {
    /// The org item's sort key (a whole key, not a prefix).
    pub const ORG: &str = "ORG";
    pub const WORKSPACE: &str = "WS#";
    pub const WORKSPACE_NAME: &str = "WSNAME#";
    pub const USER: &str = "USER#";
    pub const MEMBER_EMAIL: &str = "EMAIL#";
    pub const SERVICE_ACCOUNT: &str = "SA#";
    pub const SERVICE_ACCOUNT_NAME: &str = "SANAME#";
    pub const API_KEY: &str = "KEY#";
    pub const ROLE: &str = "ROLE#";
    pub const LOGIN: &str = "LOGIN#";
    pub const LOGIN_SK: &str = "LOGIN";
    pub const KEY_CREDENTIAL: &str = "APIKEY#";
    pub const KEY_CREDENTIAL_SK: &str = "APIKEY";
    pub const INVITE: &str = "INVITE#";
    pub const INVITE_SK: &str = "INVITE";
}

/// RelaySync records' keys (`relinx-records`). A workspace's records and its change
/// feed are partitions of their own (not the org's), so a busy workspace never
/// crowds its org's identity items; the index partitions serve the list filters.
pub mod records {
    pub const RECORDS: &str = "RECORDS#";
    pub const FEED: &str = "RECFEED#";
    pub const BY_STATUS: &str = "RECSTATUS#";
    pub const BY_QUEUE: &str = "RECQUEUE#";
    pub const BY_UPDATE: &str = "RECUPD#";
    /// An applied upload-batch operation (its `op_id`), kept like a tombstone.
    pub const APPLIED_OP: &str = "RECOP#";
    pub const APPLIED_OP_SK: &str = "RECOP";
    /// A sync policy, in the org's partition.
    pub const POLICY: &str = "POLICY#";
    /// `RECKEY#{org}#{workspace}#{hash of a data field and its value}`: which record
    /// holds that key (an import's upsert).
    pub const RECORD_KEY: &str = "RECKEY#";
    pub const RECORD_KEY_SK: &str = "KEY";
}

/// Webhooks' keys (`relinx-webhooks`): endpoints live in the org's partition.
pub mod webhooks {
    pub const ENDPOINT: &str = "WEBHOOK#";
    /// In the jobs table: a delivery job, and one attempt of one (per endpoint).
    pub const JOB: &str = "JOB#";
    pub const ATTEMPT: &str = "DLV#";
    /// The due-time index's partitions (`DUE#0` … `DUE#7`).
    pub const DUE_BUCKET: &str = "DUE#";
}

/// Relink's keys (`relinx-links`): smartlinks live in the org's partition; a slug is
/// a partition of its own (unique across every org, and what a redirect reads).
pub mod links {
    pub const LINK: &str = "LINK#";
    /// The org's count of active smartlinks (the plan limit), in its partition.
    pub const ACTIVE_COUNT_SK: &str = "LINKCOUNT";
    /// `SLUG#{slug, lowercased}` → the link it names.
    pub const SLUG: &str = "SLUG#";
    pub const SLUG_SK: &str = "SLUG";
    /// `HITS#{link}#{shard}`: a link's counters, one item per day.
    pub const HITS: &str = "HITS#";
}

/// Relenta's keys (`relinx-crm`): a department's (workspace's) contacts, activities
/// and custom fields are a partition of their own, `CRM#{org}#{workspace}`, so a big
/// address book never crowds its org's identity items; the org's contact count (the
/// plan's limit is per org) is in the org's partition.
pub mod crm {
    pub const PARTITION: &str = "CRM#";
    /// `CONTACT#{id, 12 digits}`: ids sort as numbers.
    pub const CONTACT: &str = "CONTACT#";
    pub const ACTIVITY: &str = "ACTIVITY#";
    /// `ACTMAIL#{address}#{activity id}`: an activity naming that address among its
    /// contacts (how a contact finds its activities).
    pub const ACTIVITY_BY_EMAIL: &str = "ACTMAIL#";
    /// The department's custom field definitions, one item.
    pub const FIELDS_SK: &str = "CRMFIELDS";
    /// The department's id counters (contacts, activities).
    pub const SEQUENCE_SK: &str = "CRMSEQ";
    /// The org's count of contacts (the plan limit), in its partition.
    pub const CONTACT_COUNT_SK: &str = "CONTACTCOUNT";
    /// `CRMMAIL#{org}#{workspace}#{address}`, sort key the contact's: which contacts
    /// hold an address (an import's upsert key). A partition per address, so an
    /// import puts no second write a row on the department's partition.
    pub const CONTACT_BY_EMAIL: &str = "CRMMAIL#";
}

/// Datalinx's keys (`relinx-data`): a workspace's sources, schemas and mappings are
/// a partition of their own, `DATA#{org}#{workspace}` (names kept unique by guard
/// items beside them); a source's staged uploads are listed there too, while their
/// rows live one chunk a partition (`STAGED#…`), so a 4 MB upload never sends more
/// than one chunk's writes to one partition key.
pub mod data {
    pub const PARTITION: &str = "DATA#";
    pub const SOURCE: &str = "SRC#";
    pub const SOURCE_NAME: &str = "SRCNAME#";
    /// `UPLOAD#{source}#{upload id}`: one accepted upload (its rows' chunks, counts).
    pub const UPLOAD: &str = "UPLOAD#";
    /// `STAGED#{org}#{source}#{upload}#{chunk}`: one chunk of an upload's rows.
    pub const STAGED_ROWS: &str = "STAGED#";
    pub const STAGED_ROWS_SK: &str = "ROWS";
    pub const SCHEMA: &str = "SCH#";
    pub const SCHEMA_NAME: &str = "SCHNAME#";
    /// `SCHVER#{schema}#{version, 6 digits}`: the fields of each version.
    pub const SCHEMA_VERSION: &str = "SCHVER#";
    pub const MAPPING: &str = "MAP#";
    pub const MAPPING_NAME: &str = "MAPNAME#";
    pub const PIPELINE: &str = "PL#";
    pub const PIPELINE_NAME: &str = "PLNAME#";
    /// `RUN#{pipeline}#{run}`: a run, its counters and its checkpoint.
    pub const RUN: &str = "RUN#";
    /// `REJECTED#{org}#{run}#{slice, 6 digits}`: a slice's rejected rows, compressed.
    pub const REJECTED: &str = "REJECTED#";
    pub const REJECTED_SK: &str = "ROWS";
    /// `DATASET#{name}`: a dataset's columns, row count and generation.
    pub const DATASET: &str = "DATASET#";
    /// `DSROW#{org}#{workspace}#{dataset}#{generation}#{shard, 2 digits}`: a dataset's
    /// rows, spread over shards so a load puts at most 1/16 of its writes on a key.
    pub const DATASET_ROWS: &str = "DSROW#";
    /// `PLDUE#{bucket}`, sort key `{due ms, 15 digits}#{org}#{workspace}#{pipeline}`:
    /// when each scheduled pipeline runs next (read by the sweep, across orgs).
    pub const SCHEDULE_DUE: &str = "PLDUE#";
}

/// Datalinx insights' keys (`relinx-insights`): saved queries and audiences live in
/// the Datalinx workspace partition (`DATA#{org}#{workspace}`) beside the objects
/// they read, under prefixes of their own; an audience's members are a partition of
/// their own (`AUDMEM#{org}#{workspace}#{audience}`), members by contact id, and its
/// size in shards beside them, so two members joining at once never contend.
pub mod insights {
    pub const QUERY: &str = "QRY#";
    pub const QUERY_NAME: &str = "QRYNAME#";
    pub const AUDIENCE: &str = "AUD#";
    pub const AUDIENCE_NAME: &str = "AUDNAME#";
    /// The workspace's count of audiences (at most 50), beside them.
    pub const AUDIENCE_COUNT_SK: &str = "AUDCOUNT";
    pub const MEMBERS: &str = "AUDMEM#";
    /// In a members partition: `M#{contact id, 12 digits}`.
    pub const MEMBER: &str = "M#";
    /// In a members partition: `X#{contact id, 12 digits}`, a contact's last exit.
    pub const EXITED: &str = "X#";
    /// In a members partition: `SIZE#{shard}`, the size's shards.
    pub const SIZE: &str = "SIZE#";
}

const fn reg(domain: &'static str, part: KeyPart, prefix: &'static str) -> Registered {
    Registered {
        domain,
        part,
        prefix,
    }
}

/// Every prefix in use, with its owner.
pub const REGISTRY: &[Registered] = &[
    reg("core", KeyPart::Partition, core::ORG_PARTITION),
    reg("core", KeyPart::Partition, core::IDEMPOTENCY),
    reg("core", KeyPart::Partition, core::RATE_WINDOW),
    reg("core", KeyPart::Partition, core::OP_MARK),
    reg("identity", KeyPart::Sort, identity::ORG),
    reg("identity", KeyPart::Sort, identity::WORKSPACE),
    reg("identity", KeyPart::Sort, identity::WORKSPACE_NAME),
    reg("identity", KeyPart::Sort, identity::USER),
    reg("identity", KeyPart::Sort, identity::MEMBER_EMAIL),
    reg("identity", KeyPart::Sort, identity::SERVICE_ACCOUNT),
    reg("identity", KeyPart::Sort, identity::SERVICE_ACCOUNT_NAME),
    reg("identity", KeyPart::Sort, identity::API_KEY),
    reg("identity", KeyPart::Sort, identity::ROLE),
    reg("identity", KeyPart::Partition, identity::LOGIN),
    reg("identity", KeyPart::Partition, identity::KEY_CREDENTIAL),
    reg("identity", KeyPart::Partition, identity::INVITE),
    reg("records", KeyPart::Partition, records::RECORDS),
    reg("records", KeyPart::Partition, records::FEED),
    reg("records", KeyPart::Partition, records::BY_STATUS),
    reg("records", KeyPart::Partition, records::BY_QUEUE),
    reg("records", KeyPart::Partition, records::BY_UPDATE),
    reg("records", KeyPart::Partition, records::APPLIED_OP),
    reg("records", KeyPart::Sort, records::POLICY),
    reg("records", KeyPart::Partition, records::RECORD_KEY),
    reg("webhooks", KeyPart::Sort, webhooks::ENDPOINT),
    reg("webhooks", KeyPart::Sort, webhooks::JOB),
    reg("webhooks", KeyPart::Sort, webhooks::ATTEMPT),
    reg("webhooks", KeyPart::Partition, webhooks::DUE_BUCKET),
    reg("links", KeyPart::Sort, links::LINK),
    reg("links", KeyPart::Sort, links::ACTIVE_COUNT_SK),
    reg("links", KeyPart::Partition, links::SLUG),
    reg("links", KeyPart::Partition, links::HITS),
    reg("crm", KeyPart::Partition, crm::PARTITION),
    reg("crm", KeyPart::Sort, crm::CONTACT),
    reg("crm", KeyPart::Sort, crm::ACTIVITY),
    reg("crm", KeyPart::Sort, crm::ACTIVITY_BY_EMAIL),
    reg("crm", KeyPart::Sort, crm::FIELDS_SK),
    reg("crm", KeyPart::Sort, crm::SEQUENCE_SK),
    reg("crm", KeyPart::Sort, crm::CONTACT_COUNT_SK),
    reg("crm", KeyPart::Partition, crm::CONTACT_BY_EMAIL),
    reg("data", KeyPart::Partition, data::PARTITION),
    reg("data", KeyPart::Sort, data::SOURCE),
    reg("data", KeyPart::Sort, data::SOURCE_NAME),
    reg("data", KeyPart::Sort, data::UPLOAD),
    reg("data", KeyPart::Partition, data::STAGED_ROWS),
    reg("data", KeyPart::Sort, data::SCHEMA),
    reg("data", KeyPart::Sort, data::SCHEMA_NAME),
    reg("data", KeyPart::Sort, data::SCHEMA_VERSION),
    reg("data", KeyPart::Sort, data::MAPPING),
    reg("data", KeyPart::Sort, data::MAPPING_NAME),
    reg("data", KeyPart::Sort, data::PIPELINE),
    reg("data", KeyPart::Sort, data::PIPELINE_NAME),
    reg("data", KeyPart::Sort, data::RUN),
    reg("data", KeyPart::Partition, data::REJECTED),
    reg("data", KeyPart::Sort, data::DATASET),
    reg("data", KeyPart::Partition, data::DATASET_ROWS),
    reg("data", KeyPart::Partition, data::SCHEDULE_DUE),
    reg("insights", KeyPart::Sort, insights::QUERY),
    reg("insights", KeyPart::Sort, insights::QUERY_NAME),
    reg("insights", KeyPart::Sort, insights::AUDIENCE),
    reg("insights", KeyPart::Sort, insights::AUDIENCE_NAME),
    reg("insights", KeyPart::Partition, insights::MEMBERS),
    reg("insights", KeyPart::Sort, insights::MEMBER),
    reg("insights", KeyPart::Sort, insights::SIZE),
    reg("insights", KeyPart::Sort, insights::EXITED),
    reg("insights", KeyPart::Sort, insights::AUDIENCE_COUNT_SK),
];

/// The partition of an org's items.
pub fn org(org: &OrgId) -> String {
    format!("{}{org}", core::ORG_PARTITION)
}

/// An `Idempotency-Key` record of one credential (`caller`) of an org.
pub fn idempotency(org: &OrgId, caller: &str, key: &str) -> String {
    format!("{}{org}#{caller}#{key}", core::IDEMPOTENCY)
}

/// A rate-limit window of a bucket (an org id, or `login-ip:…` and the like).
pub fn rate_window(bucket: &str, window_start: i64) -> String {
    format!("{}{bucket}#{window_start}", core::RATE_WINDOW)
}

/// Events are kept per org, sorted by their time-ordered id.
pub fn event_partition(org: &OrgId) -> String {
    self::org(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_domains_share_a_prefix_and_none_shadows_another() {
        for (i, a) in REGISTRY.iter().enumerate() {
            for b in &REGISTRY[i + 1..] {
                if a.part != b.part {
                    continue;
                }
                assert_ne!(
                    a.prefix, b.prefix,
                    "{} and {} both use {:?}",
                    a.domain, b.domain, a.prefix
                );
                // A query for one prefix must never return the other's items.
                let shadows = |x: &Registered, y: &Registered| {
                    x.prefix.ends_with('#') && y.prefix.starts_with(x.prefix)
                };
                assert!(
                    !shadows(a, b) && !shadows(b, a),
                    "{:?} ({}) and {:?} ({}) overlap in begins_with queries",
                    a.prefix,
                    a.domain,
                    b.prefix,
                    b.domain
                );
            }
        }
    }
}
