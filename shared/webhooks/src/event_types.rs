//! The event-type catalogue (`GET /v1/webhooks/event-types`): every event name the
//! platform writes, with what it means and an example of the payload an endpoint
//! receives. Generated from the one event table (`relinx_model::EventName`), so a new
//! event is listed the moment it exists.

use relinx_model::EventName;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// One event type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventType {
    /// The name endpoints subscribe to (`events`), e.g. `record.synced`.
    #[schema(value_type = String)]
    pub name: EventName,
    pub description: &'static str,
    /// A payload as an endpoint receives it (signed, Standard Webhooks headers).
    #[schema(value_type = Object)]
    pub example: Value,
}

/// Every event type, in the table's order.
pub fn catalogue() -> Vec<EventType> {
    EventName::ALL
        .iter()
        .map(|name| EventType {
            name: *name,
            description: name.description(),
            example: example_payload(*name),
        })
        .collect()
}

const WORKSPACE: &str = "ws_01JD8Z2X4Q7V3N5K9M2B6C8D0G";
const AT: &str = "2026-11-26T10:30:00.000Z";

/// The payload an endpoint receives for `name`, with example data.
pub fn example_payload(name: EventName) -> Value {
    if matches!(
        name,
        EventName::PipelineCompleted | EventName::PipelineFailed
    ) {
        // Seed 003's own form: flat, `workspace` the workspace's name.
        let failed = name == EventName::PipelineFailed;
        let mut counts = json!({"dry_run": false, "trigger": "api", "rows_read": 120, "rows_written": if failed { 0 } else { 118 }, "rows_inserted": if failed { 0 } else { 100 }, "rows_updated": if failed { 0 } else { 18 }, "rows_unchanged": 0, "rows_rejected": 2, "rows_duplicate_key": 0});
        if failed {
            counts["reason"] = json!("the pipeline's mapping was deleted");
        }
        return json!({
            "id": "evt_01JD8Z2X4Q7V3N5K9M2B6C8D0E",
            "event": name.as_str(),
            "workspace": "production",
            "workspace_id": WORKSPACE,
            "pipeline_id": "pl_01JD8Z2X4Q7V3N5K9M2B6C8D0E",
            "run_id": "run_01JD8Z2X4Q7V3N5K9M2B6C8D0F",
            "status": if failed { "failed" } else { "success" },
            "timestamp": AT,
            "data": counts,
        });
    }
    json!({
        "id": "evt_01JD8Z2X4Q7V3N5K9M2B6C8D0E",
        "event": name.as_str(),
        "workspace": WORKSPACE,
        "timestamp": AT,
        "data": example_data(name),
    })
}

fn example_data(name: EventName) -> Value {
    let record = json!({"id": "rec_01JD8Z2X4Q7V3N5K9M2B6C8D0F", "title": "Pressure check", "type": "inspection", "site": "alpha", "status": "synced", "queue": "default", "priority": "normal", "data": {}, "causal": "01JD8Z2X4Q7V3N5K9M2B6C8D0H", "created_at": AT, "updated_at": AT, "deleted": false, "deleted_at": null});
    match name {
        EventName::UserInvited => {
            json!({"id": "usr_01JD8Z2X4Q7V3N5K9M2B6C8D0F", "email": "ada@example.com", "role": "operator", "status": "invited", "expires_at": "2026-12-03T10:30:00.000Z", "invite_url": "https://api.example.com/v1/invites/TOKEN/accept"})
        }
        EventName::RecordConflict => {
            json!({"causal_sent": "01JD8Z2X4Q7V3N5K9M2B6C8D0A", "current": record})
        }
        EventName::WebhookTest => {
            json!({"endpoint_id": "wh_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "message": "a test event from relinx: your endpoint receives and verifies our webhooks"})
        }
        EventName::WebhookDisabled => {
            json!({"id": "wh_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "url": "https://hooks.example.com/relinx", "events": ["record.synced"], "enabled": false, "failing_since": "2026-11-21T10:30:00.000Z", "created_at": AT, "updated_at": AT, "reason": "every delivery since 2026-11-21T10:30:00.000Z failed; fix the receiver, enable the endpoint and recover what it missed with POST /v1/webhooks/{id}/recover"})
        }
        EventName::AudienceEntered | EventName::AudienceExited => {
            let mut data = json!({"audience_id": "aud_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "audience_name": "Acme people", "contact_id": 12, "entered_at": AT});
            if name == EventName::AudienceExited {
                data["exited_at"] = json!("2026-11-27T08:00:00.000Z");
            }
            data
        }
        EventName::AlertTriggered | EventName::AlertResolved => {
            json!({"id": "alr_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "name": "Error rate", "metric": "errors_5xx", "op": ">", "threshold": 5, "value": 9, "state": if name == EventName::AlertTriggered { "firing" } else { "ok" }})
        }
        _ => match name
            .as_str()
            .split_once('.')
            .map_or("", |(resource, _)| resource)
        {
            "org" => json!({"id": "org_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "name": "Acme", "plan": "pro"}),
            "workspace" => {
                json!({"id": WORKSPACE, "name": "production", "read_only": false, "created_at": AT, "updated_at": AT})
            }
            "user" => {
                json!({"id": "usr_01JD8Z2X4Q7V3N5K9M2B6C8D0F", "email": "ada@example.com", "name": "Ada", "role": "operator", "status": "active", "created_at": AT})
            }
            "role" => json!({"name": "support", "permissions": ["records:read", "contacts:read"]}),
            "api_key" => {
                json!({"id": "0oZ9harWIrsgWHoQ", "name": "ci", "role": "operator", "workspace_id": null, "owner": {"type": "user", "id": "usr_01JD8Z2X4Q7V3N5K9M2B6C8D0F"}, "created_at": AT, "expires_at": null})
            }
            "service_account" => {
                json!({"id": "sa_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "name": "deployer", "role": "operator", "workspace_id": null, "created_at": AT})
            }
            "record" => record,
            "policy" => {
                json!({"name": "big-on-wifi", "when": "size > 5120", "then": "queue=wifi", "priority": 10})
            }
            "smartlink" => {
                json!({"id": "lnk_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "status": "Active", "type": "Url", "configuration": {"smartlinkName": "Spring sale", "smartlinkUrl": "spring"}, "destination": {"url": "https://example.com/sale"}})
            }
            "contact" => json!({"id": 1, "full_name": "Dr. Evil", "emails": "ceo@virtucon.biz"}),
            "activity" => {
                json!({"id": 1, "label": "Lunch", "dt_start": "2026-11-30T12:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=3"})
            }
            "custom_field" => {
                json!({"id": "T-shirt_size", "label": "T-shirt size", "type": "Single choice", "choices": ["S", "M", "L"]})
            }
            "webhook" => {
                json!({"id": "wh_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "url": "https://hooks.example.com/relinx", "events": ["record.synced"], "enabled": true, "created_at": AT, "updated_at": AT})
            }
            other => {
                json!({"id": format!("{other}_01JD8Z2X4Q7V3N5K9M2B6C8D0E"), "name": "example"})
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_listed_with_a_description_and_its_own_name_in_the_example() {
        let listed = catalogue();
        assert_eq!(listed.len(), EventName::ALL.len());
        for event in listed {
            assert!(event.description.ends_with('.'), "{}", event.name);
            assert_eq!(event.example["event"], event.name.as_str());
            assert!(event.example["data"].is_object(), "{}", event.name);
        }
    }
}
