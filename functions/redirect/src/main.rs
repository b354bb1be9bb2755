#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let platform = relinx_http::Platform::from_config(config).await?;
    // Hits are written after the answer, within the invocation.
    let after = platform.after_response.clone();
    relinx_http::after_response::run_lambda(redirect_fn::app(platform), after).await
}
