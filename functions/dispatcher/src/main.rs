use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let dispatcher = Arc::new(dispatcher_fn::Dispatcher::from_config(config).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let dispatcher = Arc::clone(&dispatcher);
        async move { dispatcher.handle(event.payload).await }
    }))
    .await
}
