//! AWS SDK clients, built once per cold start and shared by every request.

use std::time::Duration;

use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
// The functions take the SDK's settings from here, without a dependency on aws-config each.
pub use aws_config::SdkConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The functions' SDK settings: the region and the credentials from the variables Lambda
/// sets for every function (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`), endpoints from the standard ones (`AWS_ENDPOINT_URL_DYNAMODB`,
/// ...). The SDK's default chains (profiles, SSO, web identity, container and instance
/// metadata) would find the same credentials first, but building them costs every cold
/// start an STS client, an IMDS client and their endpoint tables.
pub async fn sdk_config() -> SdkConfig {
    loader()
        .region(EnvironmentVariableRegionProvider::new())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .load()
        .await
}

/// For the operators' tool (`portal-admin`), run from a laptop or a pipeline: the SDK's
/// default chains, so that profiles, SSO and assumed roles work.
pub async fn sdk_config_with_default_chains() -> SdkConfig {
    loader().load().await
}

/// Timeouts are short so a sick dependency becomes a 503 well inside the function's
/// timeout, not a hung request.
fn loader() -> aws_config::ConfigLoader {
    let http = SharedHttpClient::new(ConnectOnFirstUse(https_client()));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(1500))
        .operation_timeout(Duration::from_millis(4000))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
}

/// The SDK's HTTPS client: rustls over ring, trusting the compiled-in roots.
fn https_client() -> SharedHttpClient {
    let tls = TlsContext::builder().with_trust_store(trust_store()).build().expect("a trust store is all it takes");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

/// The SDK's HTTPS client without its check at client construction. That check builds a
/// TLS connector (parsing every root certificate) and throws it away, once per service
/// client; the connector actually used is built on the first request and then shared by
/// the DynamoDB and SES clients (same timeouts, same connector). A connector that cannot
/// be built fails that first request instead; `the_tls_connector_builds_with_the_compiled_in_roots`
/// below builds one.
#[derive(Debug)]
struct ConnectOnFirstUse(SharedHttpClient);

impl HttpClient for ConnectOnFirstUse {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The roots TLS trusts: the five of Amazon Trust Services (Amazon Root CA 1 to 4,
/// Starfield Services Root G2), which every AWS endpoint chains to and which Amazon Trust
/// Services recommends a custom trust store holds. They are Mozilla's certificates,
/// compiled in (`webpki-root-certs`, picked by `build.rs`), not the platform's store: that
/// store would be read from disk at every cold start (a directory of a few hundred files
/// on Debian-like systems, a 200 KB bundle on Amazon Linux) and parsed, and so would all
/// of Mozilla's 118 roots on the first request (a fifth of an event function's cold start,
/// BENCHMARKS.md). The clients talk to AWS endpoints only, so no other CA needs trusting.
/// Updating the crate updates the roots.
pub fn trust_store() -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(roots_pem())
}

/// The trusted roots as one PEM bundle (the form the SDK's trust store takes), made
/// at build time (`build.rs`) rather than at every cold start.
fn roots_pem() -> &'static [u8] {
    include_bytes!(concat!(env!("OUT_DIR"), "/roots.pem"))
}

/// A service client either given (tests point it at another endpoint) or built on its
/// first use. Building a client reads its service's endpoint rules and config: work a
/// function that only sometimes sends mail or events need not do before its first answer
/// (BENCHMARKS.md, "Clients on first use"). Cheap to clone.
pub struct ClientOnFirstUse<C>(std::sync::Arc<Cell<C>>);

enum Cell<C> {
    Built(C),
    OnFirstUse { sdk: Box<SdkConfig>, build: fn(&SdkConfig) -> C, client: std::sync::OnceLock<C> },
}

impl<C> ClientOnFirstUse<C> {
    pub fn built(client: C) -> Self {
        ClientOnFirstUse(std::sync::Arc::new(Cell::Built(client)))
    }

    pub fn new(sdk: &SdkConfig, build: fn(&SdkConfig) -> C) -> Self {
        let cell = Cell::OnFirstUse { sdk: Box::new(sdk.clone()), build, client: std::sync::OnceLock::new() };
        ClientOnFirstUse(std::sync::Arc::new(cell))
    }

    pub fn get(&self) -> &C {
        match &*self.0 {
            Cell::Built(client) => client,
            Cell::OnFirstUse { sdk, build, client } => client.get_or_init(|| build(sdk)),
        }
    }
}

impl<C> Clone for ClientOnFirstUse<C> {
    fn clone(&self) -> Self {
        ClientOnFirstUse(self.0.clone())
    }
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// SES v2 with one attempt per send: a mail SES did not take stays in the outbox, which
/// retries it later with its own waits and counts (`crate::outbox`); an SDK retry would
/// only hold the request up, and could send a mail twice after a lost answer.
pub fn sesv2(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(sesv2_config(config).build())
}

/// The SES v2 settings of [`sesv2`] (e.g. to point them at another endpoint in tests).
pub fn sesv2_config(config: &SdkConfig) -> aws_sdk_sesv2::config::Builder {
    aws_sdk_sesv2::config::Builder::from(config).retry_config(RetryConfig::standard().with_max_attempts(1))
}

pub fn eventbridge(config: &SdkConfig) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(config)
}

pub fn sqs(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

pub fn secretsmanager(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn the_compiled_in_roots_are_the_five_of_amazon_trust_services_from_mozillas_set() {
        let pem = roots_pem();
        let text = std::str::from_utf8(pem).unwrap();
        let certs: Vec<Vec<u8>> = text
            .split("-----END CERTIFICATE-----\n")
            .filter(|block| !block.is_empty())
            .map(|block| {
                let body = block.strip_prefix("-----BEGIN CERTIFICATE-----\n").expect("PEM header");
                assert!(body.lines().all(|l| l.len() <= 64), "PEM lines of 64 characters");
                base64::engine::general_purpose::STANDARD.decode(body.replace('\n', "")).unwrap()
            })
            .collect();
        // The subjects' common names appear verbatim in the DER.
        let names = |c: &[u8], name: &str| c.windows(name.len()).any(|w| w == name.as_bytes());
        let roots = [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ];
        assert_eq!(certs.len(), roots.len());
        for (cert, root) in certs.iter().zip(roots) {
            assert!(names(cert, root), "{root} is not where expected");
            // Byte for byte one of Mozilla's roots, not a certificate of our own.
            assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().any(|m| m.as_ref() == cert.as_slice()), "{root}");
        }
        // Any other public CA is left out (one AWS endpoints never chain to).
        assert!(!certs.iter().any(|c| names(c, "DigiCert Global Root G2")));
    }

    #[test]
    fn the_tls_connector_builds_with_the_compiled_in_roots() {
        use aws_sdk_dynamodb::config::{ConfigBag, RuntimeComponentsBuilder};
        // What the SDK's own client does at construction: build a TLS connector, parsing
        // every trusted root (it panics on one it cannot use).
        https_client().validate_base_client_config(&RuntimeComponentsBuilder::new("test"), &ConfigBag::base()).unwrap();
    }

    #[tokio::test]
    async fn a_client_on_first_use_is_built_once_when_first_used_and_shared_by_its_clones() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        fn build(config: &SdkConfig) -> aws_sdk_sqs::Client {
            BUILT.fetch_add(1, Ordering::SeqCst);
            sqs(config)
        }
        let lazy = ClientOnFirstUse::new(&sdk_config().await, build);
        let copy = lazy.clone();
        assert_eq!(BUILT.load(Ordering::SeqCst), 0, "nothing built before the first use");
        let first = lazy.get().config().region().cloned();
        let _ = copy.get();
        let _ = lazy.get();
        assert_eq!(BUILT.load(Ordering::SeqCst), 1, "one client for the function's life");
        assert_eq!(first, copy.get().config().region().cloned());
    }

    #[tokio::test]
    async fn clients_build() {
        let config = sdk_config().await;
        let _ = dynamodb(&config);
        let _ = sesv2(&config);
    }
}
