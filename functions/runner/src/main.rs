use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = relinx_http::Config::from_env()?;
    relinx_http::telemetry::init(&config);
    let runner = Arc::new(runner_fn::Runner::from_config(config).await?);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| {
            let runner = Arc::clone(&runner);
            async move { Ok::<_, lambda_runtime::Error>(runner.on_queue(event.payload).await) }
        },
    ))
    .await
}
