//! What the end-to-end benchmarks share: a throwaway database (SQLite in a temp dir, or a fresh
//! PostgreSQL database when FUNDI_BENCH_DATABASE_URL is set), sign-ups through the API and percentiles.

// Each bench uses a part of this module.
#![allow(dead_code)]

use sea_orm::ConnectionTrait;
use std::time::Duration;

/// The value at fraction `p` of already sorted samples; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = fundi::domain::whole::saturating_i64(((sorted.len() as f64 - 1.0) * p).round());
    sorted[usize::try_from(rank).unwrap()]
}

/// A database URL for one run: a new PostgreSQL database created through the admin URL in
/// FUNDI_BENCH_DATABASE_URL, or a SQLite file in `dir`.
pub async fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("FUNDI_BENCH_DATABASE_URL") {
        Ok(admin) => {
            let name = format!("fundi_bench_{}", uuid::Uuid::now_v7().simple());
            let db = sea_orm::Database::connect(&admin).await.expect("postgres");
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create database");
            format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
        }
        Err(_) => format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
    }
}

/// Drops the PostgreSQL database `database_url` created, once the server has let go of it.
pub async fn drop_database(url: &str) {
    let Ok(admin) = std::env::var("FUNDI_BENCH_DATABASE_URL") else {
        return;
    };
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let db = sea_orm::Database::connect(&admin).await.expect("postgres");
    let _ = db
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}

/// The password every bench account signs up with.
pub const PASSWORD: &str = "bench password long enough";

/// Registers an account through the API at `graphql_url` and returns its access token.
pub async fn register(
    http: &reqwest::Client,
    graphql_url: &str,
    email: &str,
    role: &str,
) -> String {
    let body: serde_json::Value = http
        .post(graphql_url)
        .json(&serde_json::json!({
            "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            "variables": {"i": {"email": email, "password": PASSWORD, "fullName": "Bench", "role": role}}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["register"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("registered: {body}"))
        .to_string()
}
