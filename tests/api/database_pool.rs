//! The database pool's size: `FUNDI_DATABASE_MAX_CONNECTIONS`, or the backend's default without it.

use crate::support::*;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde_json::json;

fn pool_size(db: &DatabaseConnection) -> u32 {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => db
            .get_sqlite_connection_pool()
            .options()
            .get_max_connections(),
        _ => db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
    }
}

#[tokio::test]
async fn the_pool_opens_as_many_connections_as_the_setting_allows() {
    let s = TestServer::start_with(vec![("FUNDI_DATABASE_MAX_CONNECTIONS", "3".into())]).await;
    assert_eq!(pool_size(&s.services().db), 3);
    let session = s.register("small-pool@example.com").await;
    assert!(s.ok(session.token(), "{ me { id } }", json!({})).await["me"].is_object());

    let default = TestServer::start().await;
    let db = &default.services().db;
    let expected = match db.get_database_backend() {
        DatabaseBackend::Sqlite => 8,
        _ => 20,
    };
    assert_eq!(pool_size(db), expected, "the backend's default when unset");
}
