//! Authorization is by permission (`<resource>:<read|write>`); a role is a named set
//! of permissions. The built-in roles are defined by the one table in
//! [`BuiltinRole::permissions`].

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! resources {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// Everything a permission can be about (API.md "Admin").
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Resource { $($variant),+ }

        impl Resource {
            pub const ALL: &'static [Resource] = &[$(Resource::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $(Resource::$variant => $name),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($name => Some(Resource::$variant),)+ _ => None }
            }
        }
    };
}

resources! {
    Org => "org",
    Workspaces => "workspaces",
    Users => "users",
    Keys => "keys",
    Webhooks => "webhooks",
    Policies => "policies",
    Audit => "audit",
    Records => "records",
    Links => "links",
    Contacts => "contacts",
    Activities => "activities",
    Sources => "sources",
    Schemas => "schemas",
    Mappings => "mappings",
    Pipelines => "pipelines",
    Datasets => "datasets",
    Analytics => "analytics",
    Audiences => "audiences",
    Queries => "queries",
    Monitoring => "monitoring",
    Alerts => "alerts",
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    pub resource: Resource,
    pub access: Access,
}

impl Permission {
    pub const fn read(resource: Resource) -> Self {
        Self {
            resource,
            access: Access::Read,
        }
    }

    pub const fn write(resource: Resource) -> Self {
        Self {
            resource,
            access: Access::Write,
        }
    }

    fn bit(&self) -> u64 {
        let index = self.resource as u64 * 2 + matches!(self.access, Access::Write) as u64;
        1 << index
    }

    /// `records:write` → the permission.
    pub fn parse(raw: &str) -> Option<Self> {
        let (resource, access) = raw.split_once(':')?;
        let resource = Resource::parse(resource)?;
        match access {
            "read" => Some(Self::read(resource)),
            "write" => Some(Self::write(resource)),
            _ => None,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        write!(f, "{}:{access}", self.resource.as_str())
    }
}

/// A set of permissions as a bitset: checking one is a mask test on the hot path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u64);

impl PermissionSet {
    pub fn empty() -> Self {
        Self(0)
    }

    pub fn with(mut self, permission: Permission) -> Self {
        self.0 |= permission.bit();
        self
    }

    pub fn allows(&self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// True when every permission of `other` is also in `self`.
    pub fn covers(&self, other: &PermissionSet) -> bool {
        other.0 & !self.0 == 0
    }

    /// The permissions both sets hold.
    pub fn intersection(&self, other: &PermissionSet) -> PermissionSet {
        Self(self.0 & other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        Resource::ALL.iter().flat_map(move |resource| {
            [Permission::read(*resource), Permission::write(*resource)]
                .into_iter()
                .filter(move |p| self.allows(*p))
        })
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<T: IntoIterator<Item = Permission>>(iter: T) -> Self {
        iter.into_iter().fold(Self::empty(), Self::with)
    }
}

/// The four built-in roles, highest first. They are data: read-only role definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinRole {
    Owner,
    Admin,
    Operator,
    Viewer,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Owner, Self::Admin, Self::Operator, Self::Viewer];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "operator" => Some(Self::Operator),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }

    /// The one table of what each built-in role may do (API.md "Tenancy"):
    /// viewer reads; operator writes data; admin also manages users, keys, webhooks,
    /// policies, workspaces and alerting; owner also the org and its plan.
    pub fn permissions(&self) -> PermissionSet {
        use Resource::*;
        const DATA: &[Resource] = &[
            Records, Links, Contacts, Activities, Sources, Schemas, Mappings, Pipelines, Datasets,
            Analytics, Audiences, Queries,
        ];
        const ADMINISTRATION: &[Resource] = &[
            Workspaces, Users, Keys, Webhooks, Policies, Monitoring, Alerts,
        ];
        let reads: PermissionSet = Resource::ALL.iter().map(|r| Permission::read(*r)).collect();
        let data_writes: PermissionSet = DATA.iter().map(|r| Permission::write(*r)).collect();
        let admin_writes: PermissionSet = ADMINISTRATION
            .iter()
            .map(|r| Permission::write(*r))
            .collect();
        let union = |a: PermissionSet, b: PermissionSet| PermissionSet(a.0 | b.0);
        match self {
            Self::Viewer => reads,
            Self::Operator => union(reads, data_writes),
            Self::Admin => union(union(reads, data_writes), admin_writes),
            Self::Owner => union(
                union(union(reads, data_writes), admin_writes),
                PermissionSet::empty().with(Permission::write(Org)),
            ),
        }
    }
}

impl fmt::Display for BuiltinRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_roles_nest() {
        let [owner, admin, operator, viewer] = BuiltinRole::ALL.map(|r| r.permissions());
        assert!(owner.covers(&admin) && !admin.covers(&owner));
        assert!(admin.covers(&operator) && !operator.covers(&admin));
        assert!(operator.covers(&viewer) && !viewer.covers(&operator));
    }

    #[test]
    fn viewer_reads_but_never_writes() {
        let viewer = BuiltinRole::Viewer.permissions();
        for resource in Resource::ALL {
            assert!(viewer.allows(Permission::read(*resource)));
            assert!(!viewer.allows(Permission::write(*resource)));
        }
    }

    #[test]
    fn only_owner_writes_the_org() {
        assert!(
            BuiltinRole::Owner
                .permissions()
                .allows(Permission::write(Resource::Org))
        );
        assert!(
            !BuiltinRole::Admin
                .permissions()
                .allows(Permission::write(Resource::Org))
        );
        assert!(
            !BuiltinRole::Operator
                .permissions()
                .allows(Permission::write(Resource::Keys))
        );
        assert!(
            BuiltinRole::Operator
                .permissions()
                .allows(Permission::write(Resource::Records))
        );
    }

    #[test]
    fn permissions_parse_and_print() {
        let p = Permission::parse("workspaces:write").expect("valid");
        assert_eq!(p.to_string(), "workspaces:write");
        assert!(Permission::parse("workspaces:delete").is_none());
        assert!(Permission::parse("nothing:read").is_none());
    }
}
