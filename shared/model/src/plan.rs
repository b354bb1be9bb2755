//! Plans and the limits they set (API.md "Tenancy, plans, roles").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Starter,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "starter" => Some(Self::Starter),
            "pro" => Some(Self::Pro),
            "enterprise" => Some(Self::Enterprise),
            _ => None,
        }
    }

    /// A plan named in a request; anything else is a 400 naming `field`.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, crate::ValidationError> {
        Self::parse(raw).ok_or_else(|| {
            crate::ValidationError::new(
                field,
                format!("{raw:?} is not a plan; use starter, pro or enterprise"),
            )
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Starter => "starter",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }

    /// The plan's own figures; `None` means unlimited.
    pub fn limits(&self) -> Limits {
        match self {
            Self::Starter => Limits {
                smartlinks: Some(3),
                contacts: Some(1_000),
                rate_per_minute: 60,
                burst: 10,
            },
            Self::Pro => Limits {
                smartlinks: Some(10),
                contacts: Some(50_000),
                rate_per_minute: 300,
                burst: 50,
            },
            Self::Enterprise => Limits {
                smartlinks: None,
                contacts: None,
                rate_per_minute: 7_200,
                burst: 240,
            },
        }
    }
}

/// What an org may do: its plan's figures with the org's overrides applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Limits {
    pub smartlinks: Option<u64>,
    pub contacts: Option<u64>,
    /// Requests per minute across the whole org.
    pub rate_per_minute: u64,
    /// Requests allowed within any one second.
    pub burst: u64,
}

/// Per-org exceptions to the plan's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LimitsOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smartlinks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_minute: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
}

impl Limits {
    pub fn with_override(self, over: &LimitsOverride) -> Self {
        Self {
            smartlinks: over.smartlinks.or(self.smartlinks),
            contacts: over.contacts.or(self.contacts),
            rate_per_minute: over.rate_per_minute.unwrap_or(self.rate_per_minute),
            burst: over.burst.unwrap_or(self.burst),
        }
    }
}
