use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    relinx_http::telemetry::init();
    let dispatcher = Arc::new(dispatcher_fn::Dispatcher::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let dispatcher = Arc::clone(&dispatcher);
        async move { dispatcher.handle(event.payload).await }
    }))
    .await
}
