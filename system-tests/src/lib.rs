//! No code: this crate holds the workspace's tests that span functions (`tests/`), so
//! that no function crate depends on another.
