//! Encrypted PostgreSQL connections: the URL's `sslmode` and `sslrootcert` are honoured, and a server
//! certificate that the given root did not sign is refused.

use sea_orm::{ConnectionTrait, Statement};

/// The test server's URL with `localhost` (the name its certificate carries) and these parameters.
fn url_with(params: &str) -> String {
    let admin = std::env::var("FUNDI_TEST_DATABASE_URL")
        .expect("this test needs FUNDI_TEST_DATABASE_URL (PostgreSQL with TLS on)");
    let url = admin.replace("@127.0.0.1", "@localhost");
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// The certificate the local server presents, read through a plain connection.
async fn server_certificate() -> String {
    let db = fundi::db::connect(&url_with("sslmode=disable"))
        .await
        .expect("plain connection");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT setting FROM pg_settings WHERE name = 'ssl_cert_file'",
        ))
        .await
        .unwrap()
        .expect("ssl_cert_file");
    row.try_get::<String>("", "setting").unwrap()
}

async fn encrypted(url: &str) -> Result<bool, sea_orm::DbErr> {
    let db = fundi::db::connect(url).await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await?
        .expect("this connection's row");
    row.try_get::<bool>("", "ssl")
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_DATABASE_URL: a PostgreSQL server with TLS on"]
async fn postgres_sslmode_require_and_verify_full_encrypt_and_a_wrong_root_is_refused() {
    assert!(!encrypted(&url_with("sslmode=disable")).await.unwrap());
    assert!(encrypted(&url_with("sslmode=require")).await.unwrap());
    let certificate = server_certificate().await;
    assert!(
        encrypted(&url_with(&format!(
            "sslmode=verify-full&sslrootcert={certificate}"
        )))
        .await
        .unwrap()
    );
    let wrong_root = tempfile::NamedTempFile::new().unwrap();
    // Any public CA did not sign the local server's certificate.
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", wrong_root.path()).unwrap();
    let refused = encrypted(&url_with(&format!(
        "sslmode=verify-full&sslrootcert={}",
        wrong_root.path().display()
    )))
    .await;
    assert!(
        refused.is_err(),
        "a certificate outside the trusted root is refused"
    );
}
