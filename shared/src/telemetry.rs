//! Logs: JSON lines, one span per request carrying the request id (set by the Lambda
//! runtime). `RUST_LOG` sets the level. Passwords, tokens and hashes are never logged.
//!
//! `RUST_LOG` reaches the portal's own crates only ([`OURS`]): every other crate is capped
//! at info whatever `RUST_LOG` says (`RUST_LOG=trace`, `RUST_LOG=lambda_runtime=trace` or
//! `RUST_LOG=[span]=trace` alike), because their debug and trace lines hold the requests
//! and the answers. In the versions locked today:
//! - `lambda_runtime` (trace): the raw event, that is the login body with its password,
//!   the `Authorization: Bearer` header, the reset token;
//! - `aws_smithy_runtime` (trace): every DynamoDB and SES request and answer, with the
//!   password hashes and session digests of the items read and written;
//! - `aws_sigv4`, `aws_runtime`, `aws_config` (trace): the requests signed, the
//!   settings read from the environment and profiles;
//! - `aws_smithy_http_client`, `hyper_util`, `h2` (debug, trace): connections and frames.
//!
//! An allow list rather than a list of those crates: a crate added to the tree (or
//! renamed by an SDK update) is capped from its first build. A new function crate goes in
//! [`OURS`]; a test below fails until it does.

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterExt, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The crates whose level `RUST_LOG` may raise above info: the portal's own code (the
/// first segment of a log line's target, i.e. its crate).
pub const OURS: &[&str] = &[
    "shared",
    "account",
    "license_file",
    "list_subscriptions",
    "login",
    "record_payment",
    "recover_password",
    "send_pending_mail",
    "upgrade_serial",
    "validate_serial",
];

/// Whether a log line or span passes the cap: info and above from anywhere, anything
/// from the portal's own crates.
fn within_cap(meta: &Metadata<'_>) -> bool {
    *meta.level() <= Level::INFO || OURS.contains(&meta.target().split("::").next().unwrap_or_default())
}

/// The log filter for `directives` (`RUST_LOG` syntax; an unreadable one means `info`),
/// capped at info outside the portal's own crates.
pub fn filter<S>(directives: &str) -> impl Filter<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let asked = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // The hint keeps `asked`'s own (the lower of the two), so that `RUST_LOG=info` costs
    // nothing at the debug and trace call sites.
    asked.and(filter_fn(within_cap).with_max_level_hint(LevelFilter::TRACE))
}

/// The functions' subscriber: JSON lines to `writer`, filtered by [`filter`].
pub fn subscriber<W>(directives: &str, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line
        .with_writer(writer);
    tracing_subscriber::registry().with(lines.with_filter(filter(directives)))
}

/// JSON logs for the Lambda functions, on stdout.
pub fn init() {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing::subscriber::set_global_default(subscriber(&directives, std::io::stdout));
}

/// Stops a function at start with one clear line when its settings are wrong.
pub fn fail_start(what: &str, err: impl std::fmt::Display) -> ! {
    // One line: the JSON log line (logging is set up before any setting is read).
    tracing::error!(error = %err, "cannot start: {what}");
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the subscriber writes for `directives` while `emit` runs.
    fn logged(directives: &str, emit: impl FnOnce()) -> String {
        let capture = Capture::default();
        let writer = capture.clone();
        tracing::subscriber::with_default(subscriber(directives, move || writer.clone()), emit);
        let bytes = capture.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// A line at every level from outside the portal, as the runtime and the SDK log them.
    fn foreign() {
        tracing::trace!(target: "lambda_runtime::layers::api_response", body = "pw-trace", "raw JSON event");
        tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "pw-debug");
        tracing::debug!(target: "some_future_crate", "pw-new-crate");
        tracing::info!(target: "lambda_runtime", "runtime-info");
        tracing::warn!(target: "aws_smithy_runtime::client::orchestrator", "sdk-warn");
    }

    #[test]
    fn foreign_crates_stay_at_info_whatever_rust_log_says() {
        for directives in [
            "trace",
            "debug",
            "lambda_runtime=trace,aws_smithy_runtime=trace,some_future_crate=trace",
            "lambda_runtime::layers=trace,aws_smithy_runtime::client::orchestrator=trace",
            "[outer]=trace",
            "off,lambda_runtime[outer]=trace",
        ] {
            let out = logged(directives, || tracing::info_span!("outer").in_scope(foreign));
            assert!(!out.contains("pw-"), "RUST_LOG={directives}: {out}");
            if !directives.starts_with("off") {
                assert!(out.contains("sdk-warn"), "RUST_LOG={directives}: {out}");
            }
        }
    }

    #[test]
    fn rust_log_still_sets_our_level_and_lowers_everyone() {
        let ours = || {
            tracing::trace!("ours-trace"); // target: shared::telemetry::tests
            tracing::debug!(target: "login", "ours-debug");
            foreign();
        };
        let out = logged("trace", ours);
        assert!(out.contains("ours-trace") && out.contains("ours-debug") && out.contains("runtime-info"), "{out}");
        let out = logged("login=debug", ours);
        assert!(out.contains("ours-debug") && !out.contains("ours-trace") && !out.contains("runtime-info"), "{out}");
        let out = logged("warn", ours);
        assert!(!out.contains("ours-") && !out.contains("runtime-info") && out.contains("sdk-warn"), "{out}");
        let out = logged("login=loud", ours);
        assert!(!out.contains("ours-") && out.contains("runtime-info"), "unreadable means info: {out}");
    }

    /// Every function crate of the workspace is one of [`OURS`] (else its debug lines
    /// would be capped like a dependency's).
    #[test]
    fn every_function_crate_is_ours() {
        let functions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
        for dir in std::fs::read_dir(&functions).unwrap() {
            let manifest = dir.unwrap().path().join("Cargo.toml");
            let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
            let name = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = \""))
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no package name in {}", manifest.display()));
            let krate = name.replace('-', "_");
            assert!(OURS.contains(&krate.as_str()), "{krate} ({}) is not in telemetry::OURS", manifest.display());
        }
    }
}
