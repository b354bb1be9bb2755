#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let platform = relinx_http::Platform::from_config(config).await?;
    // A run is queued for the runner the moment it is asked for.
    relinx_data::run_queue::attach_configured(&platform.store).await;
    lambda_http::run(data_fn::app(platform)).await
}
