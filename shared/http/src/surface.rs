//! The five API surfaces differ only in paths and envelopes; this says which one a
//! path belongs to.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/v1/…`: the platform itself and RelaySync.
    Platform,
    /// `/api/v1/…`: Relink.
    Relink,
    /// `/api/v3/…`: Relenta.
    Relenta,
    /// `/api/…`: Datalinx.
    Datalinx,
    /// Anything else: the public short links.
    Links,
}

impl Surface {
    pub fn of(path: &str) -> Self {
        if path.starts_with("/api/v1/") || path == "/api/v1" {
            Self::Relink
        } else if path.starts_with("/api/v3/") || path == "/api/v3" {
            Self::Relenta
        } else if path.starts_with("/api/") || path == "/api" {
            Self::Datalinx
        } else if path.starts_with("/v1/") || path == "/v1" {
            Self::Platform
        } else {
            Self::Links
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_surface() {
        assert_eq!(Surface::of("/api/v1/validate"), Surface::Relink);
        assert_eq!(Surface::of("/api/v3/contact.list.json"), Surface::Relenta);
        assert_eq!(Surface::of("/api/workspaces"), Surface::Datalinx);
        assert_eq!(Surface::of("/api/auth/login"), Surface::Datalinx);
        assert_eq!(Surface::of("/v1/records"), Surface::Platform);
        assert_eq!(Surface::of("/abc123"), Surface::Links);
    }
}
