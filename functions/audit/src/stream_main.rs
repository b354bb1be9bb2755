//! The audit routes with a streamed response (a Lambda Function URL with
//! `InvokeMode: RESPONSE_STREAM`), so `GET /v1/audit/stream` reaches the client as
//! it is written.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let platform = relinx_http::Platform::from_config(config).await?;
    lambda_http::run_with_streaming_response(audit_fn::app(platform)).await
}
