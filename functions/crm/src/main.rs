#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    relinx_http::telemetry::init();
    let platform = relinx_http::Platform::from_env().await?;
    lambda_http::run(crm_fn::app(platform)).await
}
