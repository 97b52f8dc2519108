//! Logs: JSON lines, one span per request carrying the request id (set by the Lambda
//! runtime). `RUST_LOG` sets the level. Passwords, tokens and hashes are never logged.

use tracing_subscriber::EnvFilter;

/// JSON logs for the Lambda functions.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line
        .try_init();
}

/// Stops a function at start with one clear line when its settings are wrong.
pub fn fail_start(what: &str, err: impl std::fmt::Display) -> ! {
    tracing::error!(error = %err, "cannot start: {what}");
    eprintln!("cannot start: {what}: {err}");
    std::process::exit(1)
}
