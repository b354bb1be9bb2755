//! JSON logs, one line per request. Nothing here ever records a header or a body, so
//! keys, tokens and passwords cannot reach a log line.

use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The platform's log format, written to `writer` (stdout in production; a buffer in
/// tests that check what reaches the logs).
pub fn subscriber<W>(writer: W, filter: Targets) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .finish()
        .with(filter)
}

/// Installs the JSON subscriber on stdout, filtered by `RUST_LOG` (`info`,
/// `warn,relinx_ddb=debug`; default `info`): `Targets`, not `EnvFilter`, whose span
/// and regex matching would add a regex engine to every binary.
pub fn init(config: &relinx_config::Config) {
    let filter = config.log_filter.clone();
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, filter));
}
