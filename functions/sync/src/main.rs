#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    relinx_http::telemetry::init();
    let platform = relinx_http::Platform::from_env().await?;
    // A revived job's wake-up goes straight to the delivery queue.
    if let Some(queue) = relinx_webhooks::DeliveryQueue::from_env().await {
        relinx_webhooks::queue::attach(&platform.store, queue);
    }
    lambda_http::run(sync_fn::app(platform)).await
}
