//! Logs: JSON lines, one span per request carrying the request id (set by the Lambda
//! runtime). `RUST_LOG` sets the level. Passwords, tokens and hashes are never logged.

use tracing_subscriber::EnvFilter;

/// Crates whose debug and trace output holds request and response bodies (password
/// hashes, session digests): capped at info whatever `RUST_LOG` asks for.
const QUIET: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sigv4",
    "aws_sdk_dynamodb",
    "aws_sdk_sesv2",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
];

/// The log filter for `directives` (`RUST_LOG` syntax), with the SDK capped at info.
pub fn filter(directives: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in QUIET {
        if let Ok(d) = format!("{target}=info").parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// JSON logs for the Lambda functions.
pub fn init() {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter(&directives))
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line
        .try_init();
}

/// Stops a function at start with one clear line when its settings are wrong.
pub fn fail_start(what: &str, err: impl std::fmt::Display) -> ! {
    // One line: the JSON log line (logging is set up before any setting is read).
    tracing::error!(error = %err, "cannot start: {what}");
    std::process::exit(1)
}
