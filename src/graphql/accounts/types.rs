//! GraphQL types for accounts: users, addresses, auth payloads, sign-in history and their inputs.

use crate::db::entities::{address, login_attempt, user};
use crate::domain::account;
use crate::error::AppResult;
use crate::graphql::common::LatLngInput;
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{self, AddressesOfUser};
use crate::services::accounts::account::AddressInput as AddressChange;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "account::Role")]
pub enum Role {
    Customer,
    Technician,
    Admin,
    Support,
}

/// A Fundi account, as seen by its owner or by staff.
pub struct User(pub user::Model);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id)
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }
    async fn email_verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.email_verified_at
    }
    /// Whether signing in needs a code from an authenticator app.
    async fn totp_enabled(&self) -> bool {
        self.0.totp_secret.is_some()
    }
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<Address>> {
        let rows = loaders::list(ctx, AddressesOfUser(self.0.id)).await?;
        Ok(rows.into_iter().map(Address).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Address(pub address::Model);

#[Object]
impl Address {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Address, self.0.id)
    }
    async fn label(&self) -> &str {
        &self.0.label
    }
    async fn line(&self) -> &str {
        &self.0.line
    }
    async fn city(&self) -> &str {
        &self.0.city
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn postal_code(&self) -> Option<&str> {
        self.0.postal_code.as_deref()
    }
    async fn location(&self) -> Option<LatLng> {
        Some(LatLng {
            lat: self.0.lat?,
            lng: self.0.lng?,
        })
    }
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
}

#[derive(SimpleObject, Clone, Copy)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(SimpleObject)]
pub struct TotpSetup {
    /// Base32 secret, for typing into an authenticator app by hand.
    pub secret: String,
    /// otpauth:// URI, usually shown as a QR code.
    pub otpauth_uri: String,
}

/// One sign-in attempt on the account.
pub struct LoginEvent(pub login_attempt::Model);

#[Object]
impl LoginEvent {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::LoginEvent, self.0.id)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn success(&self) -> bool {
        self.0.success
    }
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub full_name: String,
    /// E.164, e.g. +254712345678.
    pub phone: Option<String>,
    #[graphql(default_with = "Role::Customer")]
    pub role: Role,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Required once two-factor sign-in is enabled.
    pub totp_code: Option<String>,
}

#[derive(InputObject)]
pub struct ResetPasswordInput {
    pub email: String,
    pub code: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct AddressInput {
    pub label: String,
    pub line: String,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub location: Option<LatLngInput>,
    #[graphql(default)]
    pub is_default: bool,
}

impl AddressInput {
    /// The address as the service takes it, its point parsed: off the globe is BAD_USER_INPUT at
    /// `addresses[<position>].location.lat` or `.lng`.
    pub fn parse(self, position: usize) -> AppResult<AddressChange> {
        let location = self
            .location
            .map(|l| l.parse(&format!("addresses[{position}].location")))
            .transpose()?;
        Ok(AddressChange {
            label: self.label,
            line: self.line,
            city: self.city,
            region: self.region,
            postal_code: self.postal_code,
            location,
            is_default: self.is_default,
        })
    }
}

/// Fields left out stay as they are; `phone: null` removes the phone; `addresses` replaces the address book.
#[derive(InputObject)]
pub struct UpdateMeInput {
    pub full_name: Option<String>,
    pub phone: MaybeUndefined<String>,
    pub addresses: Option<Vec<AddressInput>>,
}
