//! Production: the schema is hidden by default, and the shipped recipes (docker-compose.yml, the Helm
//! chart) start the real binary with exactly the environment they give.

use crate::process::ServerProcess;
use crate::support::*;
use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const PAYOUT_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn production_server(extra: Vec<(&'static str, String)>) -> TestServer {
    let backend = std::sync::Arc::new(Backend::new().await);
    let mut settings = vec![
        ("FUNDI_ENV", "production".to_string()),
        ("FUNDI_PAYOUT_ENCRYPTION_KEY", PAYOUT_KEY.to_string()),
    ];
    settings.extend(extra);
    let options = Options {
        // One server on its own: replicas have their own rules about uploads.
        redis_url: None,
        extra: settings,
        ..Options::default()
    };
    TestServer::start_on(backend, options).await
}

/// What a client can learn about the schema: (introspection answered, suggestion given, GraphiQL served).
async fn schema_exposure(s: &TestServer) -> (bool, bool, bool) {
    let introspection = s
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    let typo = s.gql(None, "{ serviceCategorie { id } }", json!({})).await;
    let page = s
        .http()
        .get(s.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    (
        introspection["data"]["__schema"]["queryType"]["name"] == "QueryRoot",
        typo["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Did you mean")),
        page.status() == 200,
    )
}

#[tokio::test]
async fn production_hides_introspection_suggestions_and_graphiql_unless_turned_on() {
    let development = TestServer::start().await;
    assert_eq!(schema_exposure(&development).await, (true, true, true));
    let production = production_server(Vec::new()).await;
    assert_eq!(schema_exposure(&production).await, (false, false, false));
    let opened = production_server(vec![("FUNDI_INTROSPECTION", "true".into())]).await;
    assert_eq!(schema_exposure(&opened).await, (true, true, true));
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
        && *value != json!("")
        && *value != json!(0)
        && *value != json!({})
}

/// The value a documented `$(openssl rand -hex N)` or `$(openssl rand -base64 N)` produces.
fn openssl_rand(kind: &str, bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    match kind {
        "hex" => hex::encode(random),
        "base64" => base64::engine::general_purpose::STANDARD.encode(random),
        other => panic!("openssl rand -{other} is not a documented form"),
    }
}

/// Secrets a recipe's instructions generate, from lines like
/// `export FUNDI_X="$(openssl rand -hex 32)"` or `--from-literal=FUNDI_X="$(openssl rand -base64 32)"`,
/// and literal values from `--from-literal=FUNDI_X='...'`.
fn documented_values(text: &str) -> BTreeMap<String, String> {
    let generated =
        regex::Regex::new(r#"(FUNDI_[A-Z0-9_]+)="\$\(openssl rand -(hex|base64) (\d+)\)""#)
            .unwrap();
    let literal = regex::Regex::new(r#"--from-literal=(FUNDI_[A-Z0-9_]+)='([^']*)'"#).unwrap();
    let mut values = BTreeMap::new();
    for c in generated.captures_iter(text) {
        values.insert(c[1].to_string(), openssl_rand(&c[2], c[3].parse().unwrap()));
    }
    for c in literal.captures_iter(text) {
        values.insert(c[1].to_string(), c[2].to_string());
    }
    values
}

/// The `ENV` lines of the Dockerfile's runtime stage, which every container started from the image has.
fn image_env() -> BTreeMap<String, String> {
    let dockerfile = repo_file("Dockerfile");
    let runtime = dockerfile
        .split("AS runtime")
        .nth(1)
        .expect("a runtime stage");
    let pair = regex::Regex::new(r"(FUNDI_[A-Z0-9_]+)=(\S+)").unwrap();
    let mut env = BTreeMap::new();
    let mut continued = false;
    for line in runtime.lines() {
        if line.starts_with("ENV ") || continued {
            for c in pair.captures_iter(line) {
                env.insert(c[1].to_string(), c[2].to_string());
            }
            continued = line.trim_end().ends_with('\\');
        }
    }
    env
}

/// docker-compose.yml's environment for the fundi service, `${VAR:?...}` filled in the way its
/// header tells the operator to, on top of the image's own `ENV`.
fn compose_env() -> BTreeMap<String, String> {
    let text = repo_file("docker-compose.yml");
    let instructions = documented_values(&text);
    let compose = yaml("docker-compose.yml");
    let service = &compose["services"]["fundi"]["environment"];
    let interpolation = regex::Regex::new(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}").unwrap();
    let mut env = image_env();
    for (key, value) in service.as_object().expect("environment as a map") {
        let value = scalar(value);
        let filled = interpolation.replace_all(&value, |c: &regex::Captures| {
            instructions.get(&c[1]).cloned().unwrap_or_else(|| {
                panic!(
                    "docker-compose.yml needs {} but its instructions do not say how to set it",
                    &c[1]
                )
            })
        });
        env.insert(key.clone(), filled.into_owned());
    }
    env
}

/// The FUNDI_* keys `fundi.configData` in the chart's helpers can emit.
fn chart_config_keys() -> Vec<String> {
    let helpers = repo_file("charts/fundi/templates/_helpers.tpl");
    let block = helpers
        .split(r#"define "fundi.configData""#)
        .nth(1)
        .and_then(|b| b.split("{{- end }}\n\n").next())
        .expect("fundi.configData in _helpers.tpl");
    let key = regex::Regex::new(r"(?m)^(FUNDI_[A-Z0-9_]+):").unwrap();
    let mut keys: Vec<String> = key.captures_iter(block).map(|c| c[1].to_string()).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The chart's ConfigMap for its default values (as `fundi.configData` renders it) plus the Secret its
/// documentation tells the operator to create.
fn helm_env() -> BTreeMap<String, String> {
    let values = yaml("charts/fundi/values.yaml");
    let config = &values["config"];
    let uploads = &values["uploads"];
    let mut env = BTreeMap::new();
    let mut put = |key: &str, value: &Value| {
        if truthy(value) || value.is_boolean() && key == "FUNDI_INTROSPECTION" {
            env.insert(key.to_string(), scalar(value));
        }
    };
    put(
        "FUNDI_BIND",
        &json!(format!("0.0.0.0:{}", scalar(&values["containerPort"]))),
    );
    put("FUNDI_ENV", &config["env"]);
    put("FUNDI_DATA_DIR", &config["dataDir"]);
    if truthy(&values["metrics"]["port"]) {
        put(
            "FUNDI_METRICS_BIND",
            &json!(format!("0.0.0.0:{}", scalar(&values["metrics"]["port"]))),
        );
    }
    put("FUNDI_LOG", &config["log"]);
    put("FUNDI_LOG_FORMAT", &config["logFormat"]);
    put("FUNDI_INTROSPECTION", &config["introspection"]);
    if truthy(&values["redisTls"]["rootCertSecret"]) {
        put(
            "FUNDI_REDIS_ROOT_CERT",
            &json!("/etc/fundi/redis-ca/ca.pem"),
        );
    }
    put("FUNDI_S3_BUCKET", &uploads["s3Bucket"]);
    put("FUNDI_S3_ENDPOINT", &uploads["s3Endpoint"]);
    put("FUNDI_S3_REGION", &uploads["s3Region"]);
    let single = !truthy(&values["autoscaling"]["enabled"])
        && values["replicaCount"].as_u64().unwrap_or(1) <= 1;
    if truthy(&uploads["sharedDataVolume"]) || single {
        put("FUNDI_DATA_DIR_SHARED", &json!("true"));
    }
    let known = [
        "FUNDI_BIND",
        "FUNDI_DATA_DIR",
        "FUNDI_DATA_DIR_SHARED",
        "FUNDI_ENV",
        "FUNDI_INTROSPECTION",
        "FUNDI_LOG",
        "FUNDI_LOG_FORMAT",
        "FUNDI_METRICS_BIND",
        "FUNDI_REDIS_ROOT_CERT",
        "FUNDI_S3_BUCKET",
        "FUNDI_S3_ENDPOINT",
        "FUNDI_S3_REGION",
    ];
    assert_eq!(
        chart_config_keys(),
        known,
        "fundi.configData changed: teach this test the new keys"
    );
    if let Some(extra) = config["extraEnv"].as_object() {
        for (key, value) in extra {
            env.insert(key.clone(), scalar(value));
        }
    }
    env.extend(documented_values(&repo_file("charts/fundi/values.yaml")));
    env
}

/// Points a recipe at this test's own PostgreSQL, Redis, port and data directory, and nothing else.
fn pointed_at_the_test(
    mut env: BTreeMap<String, String>,
    backend: &Backend,
    redis: &str,
) -> Vec<(String, String)> {
    for key in [
        "FUNDI_DATABASE_URL",
        "FUNDI_REDIS_URL",
        "FUNDI_BIND",
        "FUNDI_DATA_DIR",
    ] {
        assert!(env.contains_key(key), "the recipe does not set {key}");
    }
    env.insert("FUNDI_DATABASE_URL".into(), backend.database_url.clone());
    env.insert("FUNDI_REDIS_URL".into(), redis.to_string());
    env.insert("FUNDI_BIND".into(), "127.0.0.1:0".into());
    if env.contains_key("FUNDI_METRICS_BIND") {
        env.insert("FUNDI_METRICS_BIND".into(), "127.0.0.1:0".into());
    }
    env.insert(
        "FUNDI_DATA_DIR".into(),
        backend.data_dir.path().display().to_string(),
    );
    env.into_iter().collect()
}

async fn starts_ready_and_hides_the_schema(name: &str, env: Vec<(String, String)>) {
    let server = ServerProcess::spawn(&env)
        .unwrap_or_else(|failure| panic!("{name} does not start:\n{}", failure.stderr));
    let http = reqwest::Client::new();
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{name}: {}", server.stderr());
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["redis"], "ok", "{name} shares events through Redis");
    let metrics = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(
        metrics.status(),
        404,
        "{name} serves /metrics on the public port"
    );
    let introspection: Value = http
        .post(server.url("/graphql"))
        .json(&json!({"query": "{ __schema { queryType { name } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        introspection["data"]["__schema"].is_null(),
        "{name} exposes the schema: {introspection}"
    );
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_DATABASE_URL and FUNDI_TEST_REDIS_URL: the recipes run on PostgreSQL and Redis"]
async fn the_compose_and_helm_recipes_start_with_exactly_the_environment_they_give() {
    std::env::var("FUNDI_TEST_DATABASE_URL")
        .expect("this test needs FUNDI_TEST_DATABASE_URL (PostgreSQL), as the recipes do");
    let redis = require_redis();
    let compose = compose_env();
    assert_eq!(compose["FUNDI_ENV"], "production");
    let backend = Backend::new().await;
    starts_ready_and_hides_the_schema(
        "docker-compose.yml",
        pointed_at_the_test(compose, &backend, &redis),
    )
    .await;
    let helm = helm_env();
    assert_eq!(helm["FUNDI_ENV"], "production");
    let backend = Backend::new().await;
    starts_ready_and_hides_the_schema(
        "the Helm chart",
        pointed_at_the_test(helm, &backend, &redis),
    )
    .await;
}
