//! The deployment's secrets, read once per instance at start. Deployed, template.yaml
//! makes two Secrets Manager secrets and passes their ARNs; this reads both in one
//! `BatchGetSecretValue` call, so the values never sit in a function's
//! configuration, where anyone allowed to read it would see them. Locally the
//! variables give the values and no call is made.
//!
//! Through aws-sdk-secretsmanager (docs/decisions.md "Configuration and secrets"):
//! +0.14 MB a binary, where aws-sdk-ssm for Parameter Store SecureStrings was
//! +0.93 MB (auth, release profile); the Parameters and Secrets Lambda Extension adds
//! nothing to the binary but is a layer with a process of its own to start in the
//! init phase, an HTTP hop, and a cache that a read once per instance does not use,
//! and the tests could not run it, where they run this against moto.

use relinx_config::{Config, ConfigError, JWT_SECRET, KEY_PEPPER, SecretSource};

/// The two secrets' bytes.
pub struct Secrets {
    pub key_pepper: Vec<u8>,
    pub jwt_secret: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// The secrets `config` gives or names: at most one call, for both.
pub async fn resolve(config: &Config) -> Result<Secrets, ConfigError> {
    let wanted = [
        (&config.secrets.key_pepper, KEY_PEPPER),
        (&config.secrets.jwt_secret, JWT_SECRET),
    ];
    let mut problems = Vec::new();
    let mut arns = Vec::new();
    for (source, (value_var, arn_var)) in wanted {
        match source {
            SecretSource::Stored(arn) => arns.push(arn.clone()),
            SecretSource::Value(_) => {}
            SecretSource::Missing => problems.push(format!(
                "neither {arn_var} (the Secrets Manager secret template.yaml makes) nor {value_var} (its value, for local runs) is set"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    let fetched = if arns.is_empty() {
        Vec::new()
    } else {
        fetch(config, arns).await?
    };
    let value = |source: &SecretSource, arn_var: &str| match source {
        SecretSource::Value(bytes) => Ok(bytes.clone()),
        SecretSource::Stored(arn) => fetched
            .iter()
            .find(|(fetched_arn, _)| fetched_arn == arn)
            .map(|(_, value)| value.clone().into_bytes())
            .ok_or_else(|| format!("{arn_var}: Secrets Manager answered no value for {arn}")),
        SecretSource::Missing => Err(format!("{arn_var} is not set")),
    };
    match (
        value(&config.secrets.key_pepper, KEY_PEPPER.1),
        value(&config.secrets.jwt_secret, JWT_SECRET.1),
    ) {
        (Ok(key_pepper), Ok(jwt_secret)) => Ok(Secrets {
            key_pepper,
            jwt_secret,
        }),
        (a, b) => Err(ConfigError {
            problems: [a.err(), b.err()].into_iter().flatten().collect(),
        }),
    }
}

/// `(arn, value)` of each secret in `arns`; a secret Secrets Manager refuses (not
/// found, not allowed) is an error naming it and why.
async fn fetch(
    config: &Config,
    mut arns: Vec<String>,
) -> Result<Vec<(String, String)>, ConfigError> {
    arns.dedup();
    let shared =
        crate::sdk_config(&config.aws, config.aws.secrets_manager_endpoint.as_deref()).await;
    let client = aws_sdk_secretsmanager::Client::new(&shared);
    let out = client
        .batch_get_secret_value()
        .set_secret_id_list(Some(arns))
        .send()
        .await
        .map_err(|e| {
            ConfigError::new(format!(
                "cannot read the secrets from Secrets Manager: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    let refused: Vec<String> = out
        .errors
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            format!(
                "Secrets Manager cannot give {}: {} {}",
                e.secret_id.unwrap_or_default(),
                e.error_code.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        })
        .collect();
    if !refused.is_empty() {
        return Err(ConfigError { problems: refused });
    }
    Ok(out
        .secret_values
        .unwrap_or_default()
        .into_iter()
        .filter_map(|secret| Some((secret.arn?, secret.secret_string?)))
        .collect())
}
