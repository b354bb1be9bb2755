//! The insights rows: an analytics query as a client asks it (over HTTP, on a dev
//! server), and what a contact save costs the stream's consumer once its workspace
//! has audiences (the consumer's handler in-process, as the dispatcher runs it, with
//! its DynamoDB calls counted).

use crate::load;
use relinx_ddb::Store;
use relinx_model::OrgId;
use serde_json::{Value, json};
use std::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

/// A grouped count over the workspace's contacts (`runs` times, one at a time):
/// p50 and p99 of the answer, and items read a second at the p50.
pub async fn grouped_count(
    addr: &str,
    key: &[(String, String)],
    runs: usize,
) -> Result<Value, String> {
    let query = json!({"from": "contacts", "group_by": ["do_not_mass_email"], "metrics": ["count", "count_distinct(emails)"]});
    let mut latencies = Vec::new();
    let mut items_read = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let (status, answer) = load::once(
            addr,
            "POST",
            "/api/analytics/query",
            key,
            Some(query.to_string()),
        )
        .await?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("the grouped count answered {status}: {answer}"));
        }
        items_read = answer["data"]["stats"]["items_read"].as_u64().unwrap_or(0);
    }
    latencies.sort_by(f64::total_cmp);
    let p50 = percentile(&latencies, 0.5);
    #[allow(clippy::cast_precision_loss)]
    let per_second = if p50 > 0.0 {
        items_read as f64 / p50 * 1000.0
    } else {
        0.0
    };
    Ok(json!({
        "query": query,
        "items_read": items_read,
        "runs": runs,
        "p50_ms": p50,
        "p99_ms": percentile(&latencies, 0.99),
        "items_read_per_second": per_second.round(),
    }))
}

/// What the consumer spends on one contact save (its `contact.saved` event): `saves`
/// saves in a fresh workspace with no audiences, then with `audiences` audiences
/// (half of which each saved contact enters), each event handed to the audience
/// consumer in-process. p50/p99 and DynamoDB calls per event, for both.
pub async fn audience_settle(
    addr: &str,
    key: &[(String, String)],
    store: &Store,
    org_id: &str,
    (audiences, saves): (usize, usize),
) -> Result<Value, String> {
    let org = OrgId::parse(org_id).ok_or("the bench org's id does not parse")?;
    let workspace = format!("audiences-{}", relinx_model::Timestamp::now().unix());
    let (status, made) = load::once(
        addr,
        "POST",
        "/v1/workspaces",
        key,
        Some(json!({"name": workspace}).to_string()),
    )
    .await?;
    if status != 201 {
        return Err(format!("workspace: {status} {made}"));
    }
    let mut in_ws: Vec<(String, String)> = key.to_vec();
    in_ws.push(("x-workspace".into(), workspace.clone()));

    let measure = async |label: &str| -> Result<Value, String> {
        let mut latencies = Vec::new();
        let mut calls = 0u64;
        let mut changed = 0usize;
        for i in 0..saves {
            let body = json!({"full_name": format!("{label} {i}"), "company": "Acme", "title": format!("t{}", i % 2)});
            let (status, saved) = load::once(
                addr,
                "POST",
                "/api/v3/contact.save.json",
                &in_ws,
                Some(body.to_string()),
            )
            .await?;
            if status != 200 {
                return Err(format!("contact.save.json: {status} {saved}"));
            }
            let event = relinx_ddb::events::recent(store, &org, 1)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .next()
                .ok_or("the save left no event")?;
            let started = Instant::now();
            let (settled, summary) = relinx_ddb::metrics::measure(
                relinx_insights::audiences::on_contact_event(store, &event),
            )
            .await;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            changed += settled.map_err(|e| e.to_string())?;
            calls += u64::from(summary.calls);
        }
        latencies.sort_by(f64::total_cmp);
        #[allow(clippy::cast_precision_loss)]
        Ok(json!({
            "p50_ms": percentile(&latencies, 0.5),
            "p99_ms": percentile(&latencies, 0.99),
            "calls_per_event": calls as f64 / saves.max(1) as f64,
            "memberships_changed": changed,
        }))
    };
    let none = measure("none").await?;
    for i in 0..audiences {
        // Half hold of every saved contact (its title alternates; it enters those).
        let condition = if i % 2 == 0 {
            "company == \"Acme\"".to_owned()
        } else {
            format!("title == \"t{}\" && company != \"Globex {i}\"", i % 4 / 2)
        };
        let (status, made) = load::once(
            addr,
            "POST",
            "/api/audiences",
            &in_ws,
            Some(json!({"name": format!("segment {i}"), "where": condition}).to_string()),
        )
        .await?;
        if status != 201 {
            return Err(format!("audience: {status} {made}"));
        }
    }
    let with = measure("with").await?;
    Ok(json!({"audiences": audiences, "saves": saves, "none": none, "with": with}))
}
