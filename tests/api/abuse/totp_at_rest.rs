//! Two-factor secrets are sealed at rest with the payout details' key, and plain ones from before are
//! sealed when the server starts.

use crate::support::*;
use fundi::db::entities::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::sync::Arc;

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { accessToken } }";

async fn stored(s: &TestServer, email: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&s.services().db)
        .await
        .unwrap()
        .unwrap()
}

async fn sign_in_with_code(s: &TestServer, email: &str, secret: &str) -> serde_json::Value {
    let code =
        fundi::services::accounts::totp::current_code(secret, s.services().clock.now()).unwrap();
    s.gql(
        None,
        LOGIN,
        json!({"input": {"email": email, "password": PASSWORD, "totpCode": code}}),
    )
    .await
}

#[tokio::test]
async fn two_factor_secrets_are_sealed_at_rest() {
    let s = TestServer::start().await;
    let session = s.register("sealed@example.com").await;
    let setup = s
        .ok(
            session.token(),
            "mutation { setupTotp { secret } }",
            json!({}),
        )
        .await;
    let secret = setup["setupTotp"]["secret"].as_str().unwrap().to_string();
    let pending = stored(&s, "sealed@example.com")
        .await
        .totp_pending_secret
        .unwrap();
    assert!(pending.starts_with("v1:"), "{pending}");
    assert!(!pending.contains(&secret));

    let code =
        fundi::services::accounts::totp::current_code(&secret, s.services().clock.now()).unwrap();
    s.ok(
        session.token(),
        "mutation($c: String!) { enableTotp(code: $c) }",
        json!({"c": code}),
    )
    .await;
    let enabled = stored(&s, "sealed@example.com").await.totp_secret.unwrap();
    assert!(enabled.starts_with("v1:"), "{enabled}");
    assert!(!enabled.contains(&secret));

    s.advance_clock(chrono::Duration::seconds(60));
    let body = sign_in_with_code(&s, "sealed@example.com", &secret).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn plain_secrets_stored_before_sealing_are_sealed_at_start_up_and_still_work() {
    let backend = Arc::new(Backend::new().await);
    let first = TestServer::start_on(backend.clone(), Options::default()).await;
    first.register("legacy@example.com").await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let mut row: user::ActiveModel = stored(&first, "legacy@example.com").await.into();
    row.totp_secret = Set(Some(secret.to_string()));
    row.update(&first.services().db).await.unwrap();
    first.stop().await;

    let second = TestServer::start_on(backend, Options::default()).await;
    let sealed = stored(&second, "legacy@example.com")
        .await
        .totp_secret
        .unwrap();
    assert!(sealed.starts_with("v1:"), "{sealed}");
    let body = sign_in_with_code(&second, "legacy@example.com", secret).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}
