#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let platform = relinx_http::Platform::from_config(config).await?;
    lambda_http::run(insights_fn::app(platform)).await
}
