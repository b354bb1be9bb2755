#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let platform = relinx_http::Platform::from_config(config).await?;
    // A revived job's wake-up goes straight to the delivery queue.
    if let Some(queue) = relinx_webhooks::DeliveryQueue::from_config(platform.store.config()).await
    {
        relinx_webhooks::queue::attach(&platform.store, queue);
    }
    lambda_http::run(sync_fn::app(platform)).await
}
