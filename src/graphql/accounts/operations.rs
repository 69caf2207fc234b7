//! Account queries and mutations: sign-up, sign-in, sessions, profile, email verification, password reset and two-factor.

use crate::error::AppResult;
use crate::graphql::accounts::password_guard::PasswordWork;
use crate::graphql::accounts::types::*;
use crate::graphql::common::{Counted, TotalCount, connection};
use crate::graphql::context::{client_info, services, viewer};
use crate::services::accounts::account::{
    self as account_service, Credentials, ProfileUpdate, Registration, SignedIn,
};
use crate::services::platform::pagination::Page;
use crate::services::{accounts::credentials, accounts::sessions, accounts::totp};
use async_graphql::{Context, MaybeUndefined, Object, Result};

fn payload(signed_in: SignedIn) -> AuthPayload {
    AuthPayload {
        access_token: signed_in.tokens.access_token,
        refresh_token: signed_in.tokens.refresh_token,
        access_token_expires_at: signed_in.tokens.access_token_expires_at,
        user: User(signed_in.user),
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let viewer = viewer(ctx).await?;
        Ok(User(account_service::me(services(ctx), &viewer).await?))
    }

    /// The viewer's sign-in attempts, newest first.
    async fn login_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Counted<LoginEvent>> {
        let viewer = viewer(ctx).await?;
        let page = Page::parse(first, after.as_deref())?;
        let slice = account_service::login_history(services(ctx), &viewer, page).await?;
        let db = services(ctx).db.clone();
        let total = TotalCount::new(move || {
            let db = db.clone();
            async move { account_service::login_history_count(&db, viewer.user_id).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |row| row.id,
            LoginEvent,
        ))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a CUSTOMER or TECHNICIAN account and signs it in.
    #[graphql(guard = "PasswordWork")]
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let registration = Registration {
            email: input.email,
            password: input.password,
            full_name: input.full_name,
            phone: input.phone,
            role: input.role.into(),
        };
        Ok(payload(
            account_service::register(services(ctx), registration, &client_info(ctx)).await?,
        ))
    }

    #[graphql(guard = "PasswordWork")]
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        let credentials = Credentials {
            email: input.email,
            password: input.password,
            totp_code: input.totp_code,
        };
        Ok(payload(
            account_service::login(services(ctx), credentials, &client_info(ctx)).await?,
        ))
    }

    /// Exchanges a refresh token for a new pair; each refresh token works once.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> Result<AuthPayload> {
        let (tokens, user) = sessions::refresh(services(ctx), &refresh_token).await?;
        Ok(payload(SignedIn { tokens, user }))
    }

    /// Ends the session the refresh token belongs to.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        sessions::logout(services(ctx), &refresh_token).await?;
        Ok(true)
    }

    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User> {
        let viewer = viewer(ctx).await?;
        let phone = match input.phone {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(phone) => Some(Some(phone)),
        };
        let addresses = input
            .addresses
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, address)| address.parse(i))
                    .collect::<AppResult<Vec<_>>>()
            })
            .transpose()?;
        let update = ProfileUpdate {
            full_name: input.full_name,
            phone,
            addresses,
        };
        Ok(User(
            account_service::update_profile(services(ctx), &viewer, update).await?,
        ))
    }

    /// Changes the password and signs out every other session.
    #[graphql(guard = "PasswordWork")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        credentials::change_password(services(ctx), &viewer, &current_password, &new_password)
            .await?;
        Ok(true)
    }

    /// Mails a 6-digit code to the viewer's address (at most one per minute).
    async fn request_email_verification(&self, ctx: &Context<'_>) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        credentials::request_email_verification(services(ctx), &viewer).await?;
        Ok(true)
    }

    async fn verify_email(&self, ctx: &Context<'_>, code: String) -> Result<User> {
        let viewer = viewer(ctx).await?;
        Ok(User(
            credentials::verify_email(services(ctx), &viewer, &code).await?,
        ))
    }

    /// Mails a reset code if the account exists; the answer is the same either way.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        credentials::request_password_reset(services(ctx), &email).await?;
        Ok(true)
    }

    /// Sets a new password with a mailed code and signs out every session.
    #[graphql(guard = "PasswordWork")]
    async fn reset_password(&self, ctx: &Context<'_>, input: ResetPasswordInput) -> Result<bool> {
        credentials::reset_password(
            services(ctx),
            &input.email,
            &input.code,
            &input.new_password,
        )
        .await?;
        Ok(true)
    }

    /// Starts two-factor setup; confirm with enableTotp.
    async fn setup_totp(&self, ctx: &Context<'_>) -> Result<TotpSetup> {
        let viewer = viewer(ctx).await?;
        let setup = totp::setup(services(ctx), &viewer).await?;
        Ok(TotpSetup {
            secret: setup.secret,
            otpauth_uri: setup.otpauth_uri,
        })
    }

    #[graphql(guard = "PasswordWork")]
    async fn enable_totp(&self, ctx: &Context<'_>, code: String) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        totp::enable(services(ctx), &viewer, &code).await?;
        Ok(true)
    }

    #[graphql(guard = "PasswordWork")]
    async fn disable_totp(
        &self,
        ctx: &Context<'_>,
        password: String,
        code: String,
    ) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        totp::disable(services(ctx), &viewer, &password, &code).await?;
        Ok(true)
    }
}
