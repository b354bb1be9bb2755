//! Relink (seed 001; API.md "links"): smartlinks, a short public link (`/{slug}` on
//! the links host) that redirects or shows a page, by type. This crate holds the
//! link itself, its slug (unique across every org, case-insensitively), its
//! destination by type and the plan's limit on active links.
//!
//! It owns the key prefixes in `relinx_ddb::keys::links` and follows the rule for a
//! domain (README "Layout"): each operation takes the `Store`, the caller's `Context`
//! and typed input, checks its permission first, and writes one transaction carrying
//! its event.

pub mod hits;
pub mod link;
pub mod links;
pub mod slug;
pub mod visit;

pub use link::{Destination, LinkType, Smartlink};
pub use links::{CustomHtmlChange, LinkChange, NewLink, OpenGraphChange};
pub use slug::Slug;
