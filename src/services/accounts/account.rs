//! Accounts: registration, sign-in with throttling and two-factor, staff creation, profile and address updates.

use crate::db::accounts::account as db_account;
use crate::db::batch;
use crate::db::entities::{address, login_attempt, user};
use crate::db::{begin_write, is_unique_violation};
use crate::domain::account::{
    Email, FieldError, Phone, Role, ThrottlePolicy, check_full_name, check_password,
};
use crate::domain::geo::LatLng;
use crate::error::{AppError, AppResult};
use crate::services::accounts::rate_limits::Action;
use crate::services::accounts::sessions::{self, ClientInfo, TokenPair};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::platform::pagination::{Page, Slice};
use crate::services::{Effects, Services, Viewer, accounts::passwords, accounts::totp};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::bad_input(e.field, e.message)
    }
}

pub struct Registration {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
}

pub struct Credentials {
    pub email: String,
    pub password: String,
    pub totp_code: Option<String>,
}

pub struct SignedIn {
    pub tokens: TokenPair,
    pub user: user::Model,
}

pub async fn register(
    services: &Services,
    input: Registration,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    if !input.role.may_self_register() {
        return Err(AppError::bad_input(
            "role",
            "only CUSTOMER and TECHNICIAN accounts can register",
        ));
    }
    // Counted before the email is looked up, so probing which emails exist costs sign-ups too.
    services
        .rate_limits
        .check(Action::SignUp, client.ip.as_deref())
        .await?;
    let prepared = prepare_account(services, input).await?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let account = insert_account(&txn, prepared).await?;
    if input_role_is_technician(&account) {
        crate::services::technicians::technician::create_profile(&txn, account.id, now).await?;
    }
    let tokens = sessions::start(&txn, services, &account, client, now).await?;
    record_attempt(
        &txn,
        Some(account.id),
        &account.email,
        true,
        None,
        client,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(SignedIn {
        tokens,
        user: account,
    })
}

fn input_role_is_technician(account: &user::Model) -> bool {
    account.role == Role::Technician
}

/// Creates an ADMIN or SUPPORT account; only the operator's command line calls this.
pub async fn create_staff(
    services: &Services,
    email: &str,
    password: &str,
    full_name: &str,
    role: Role,
) -> AppResult<user::Model> {
    if !role.is_staff() {
        return Err(AppError::bad_input(
            "role",
            "staff accounts are ADMIN or SUPPORT",
        ));
    }
    let input = Registration {
        email: email.into(),
        password: password.into(),
        full_name: full_name.into(),
        phone: None,
        role,
    };
    let prepared = prepare_account(services, input).await?;
    insert_account(&services.db, prepared).await
}

/// Validates a registration and hashes its password, before any transaction holds a lock.
async fn prepare_account(services: &Services, input: Registration) -> AppResult<user::Model> {
    let email = Email::parse(&input.email, "email")?;
    check_password(&input.password, "password")?;
    let full_name = check_full_name(&input.full_name, "fullName")?;
    let phone = input
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| Phone::parse(p, "phone"))
        .transpose()?;
    let taken = db_account::count_with_email(&services.db, email.as_str()).await?;
    if taken > 0 {
        return Err(AppError::bad_input(
            "email",
            "an account with this email already exists",
        ));
    }
    if let Some(phone) = &phone
        && db_account::count_with_phone(&services.db, phone.as_str()).await? > 0
    {
        return Err(AppError::bad_input(
            "phone",
            "an account with this phone number already exists",
        ));
    }
    let password_hash = passwords::hash(input.password)
        .await
        .map_err(AppError::internal)?;
    let now = services.clock.now();
    Ok(user::Model {
        id: Uuid::now_v7(),
        email: email.as_str().into(),
        phone: phone.map(|p| p.as_str().to_string()),
        password_hash,
        full_name,
        role: input.role,
        email_verified_at: None,
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        login_locked_until: None,
        login_failures: 0,
        login_window_started_at: None,
        created_at: now,
        updated_at: now,
    })
}

async fn insert_account(db: &impl ConnectionTrait, model: user::Model) -> AppResult<user::Model> {
    // The unique indexes are the real guard: two registrations racing past the checks above meet here.
    match db_account::insert_user(db, model).await {
        Ok(account) => Ok(account),
        Err(e) if is_unique_violation(&e) => {
            let field = if e.to_string().contains("phone") {
                "phone"
            } else {
                "email"
            };
            Err(AppError::bad_input(
                field,
                format!("an account with this {field} already exists"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn wrong_credentials() -> AppError {
    AppError::Unauthenticated("wrong email or password".into())
}

pub async fn login(
    services: &Services,
    input: Credentials,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let now = services.clock.now();
    let email = Email::parse(&input.email, "email")
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|_| input.email.trim().to_lowercase());
    let found = db_account::user_by_email(&services.db, &email).await?;
    let Some(account) = found else {
        // Spend the same time as a real check so response times do not reveal which emails exist.
        let _ = passwords::verify(input.password, passwords::DUMMY_HASH.into()).await;
        record_attempt(
            &services.db,
            None,
            &email,
            false,
            Some("unknown email"),
            client,
            now,
        )
        .await?;
        return Err(wrong_credentials());
    };
    let policy = ThrottlePolicy::default();
    // Counted before the password is checked, in one conditional update: however many attempts
    // arrive at once, on however many replicas, at most the policy's number get a check.
    if !count_attempt(&services.db, &account, &policy, now).await? {
        record_attempt(
            &services.db,
            Some(account.id),
            &email,
            false,
            Some("throttled"),
            client,
            now,
        )
        .await?;
        let current = find(&services.db, account.id).await?.unwrap_or(account);
        return Err(AppError::RateLimited {
            message: "too many failed sign-ins; try again later".into(),
            retry_after_secs: policy.retry_after_secs(
                current.login_window_started_at,
                current.login_locked_until,
                now,
            ),
        });
    }
    let password_ok = passwords::verify(input.password, account.password_hash.clone())
        .await
        .map_err(AppError::internal)?;
    if !password_ok {
        return fail_login(
            services,
            &account,
            "wrong password",
            wrong_credentials(),
            client,
            now,
        )
        .await;
    }
    let txn = begin_write(&services.db).await?;
    if account.totp_secret.is_some() {
        let Some(code) = input.totp_code.filter(|c| !c.trim().is_empty()) else {
            // The password was right; this attempt gives its place back (a wrong code would count).
            drop(txn);
            uncount_attempt(&services.db, account.id).await?;
            return Err(AppError::Unauthenticated(
                "two-factor code required (totpCode)".into(),
            ));
        };
        if !totp::accept_code(&txn, &services.vault, &account, &code, now).await? {
            drop(txn);
            let refused = AppError::Unauthenticated("wrong or already used two-factor code".into());
            return fail_login(
                services,
                &account,
                "wrong two-factor code",
                refused,
                client,
                now,
            )
            .await;
        }
    }
    let mut effects = Effects::default();
    let tokens = sessions::start(&txn, services, &account, client, now).await?;
    record_attempt(&txn, Some(account.id), &email, true, None, client, now).await?;
    clear_attempts(&txn, account.id).await?;
    if account.totp_secret.is_none() {
        let where_from = client
            .user_agent
            .clone()
            .unwrap_or_else(|| "an unknown device".into());
        let body = format!(
            "New sign-in from {where_from}. If this was not you, change your password and turn on two-factor sign-in."
        );
        in_app::create(
            &txn,
            &mut effects,
            now,
            NewNotification::new(account.id, Kind::NewSignIn, "New sign-in", body),
        )
        .await?;
    }
    txn.commit().await?;
    services.after_commit(effects);
    Ok(SignedIn {
        tokens,
        user: account,
    })
}

/// Records a failed sign-in and locks the account when the window's failures reach the limit.
async fn fail_login(
    services: &Services,
    account: &user::Model,
    reason: &str,
    error: AppError,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<SignedIn> {
    let policy = ThrottlePolicy::default();
    let txn = begin_write(&services.db).await?;
    record_attempt(
        &txn,
        Some(account.id),
        &account.email,
        false,
        Some(reason),
        client,
        now,
    )
    .await?;
    // This attempt was counted before its check; the count now says whether it was the last allowed.
    let failures = find(&txn, account.id).await?.map_or(0, |current| {
        u32::try_from(current.login_failures).unwrap_or(0)
    });
    if policy.locks_after(failures) {
        db_account::lock_sign_in_until(
            &txn,
            account.id,
            now + chrono::Duration::seconds(policy.lock_secs),
        )
        .await?;
        tracing::warn!(user = %account.id, "sign-in throttled after repeated failures");
    }
    txn.commit().await?;
    Err(error)
}

/// Takes one of the window's attempts for `account`, starting a new window when the last one has
/// passed; false (and nothing changed) when the account is locked or the window's attempts are used.
async fn count_attempt(
    db: &impl ConnectionTrait,
    account: &user::Model,
    policy: &ThrottlePolicy,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let window_start = now - chrono::Duration::seconds(policy.window_secs);
    let counted = db_account::count_attempt(
        db,
        account.id,
        window_start,
        policy.max_failures as i32,
        now,
    )
    .await?;
    Ok(counted == 1)
}

/// Gives back an attempt that turned out to need nothing more than the second factor it lacked.
async fn uncount_attempt(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    Ok(db_account::uncount_attempt(db, user_id).await?)
}

/// A successful sign-in starts the count afresh.
async fn clear_attempts(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    Ok(db_account::clear_attempts(db, user_id).await?)
}

async fn record_attempt(
    db: &impl ConnectionTrait,
    user_id: Option<Uuid>,
    email: &str,
    success: bool,
    failure_reason: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = login_attempt::Model {
        id: Uuid::now_v7(),
        user_id,
        email: email.chars().take(254).collect(),
        success,
        failure_reason: failure_reason.map(Into::into),
        ip: client.ip.clone(),
        user_agent: client
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(512).collect()),
        created_at: now,
        updated_at: now,
    };
    Ok(db_account::insert_login_attempt(db, row).await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(db_account::user_by_id(db, id).await?)
}

/// A user the viewer may see (themselves, or anyone for staff); None when missing or not theirs.
pub async fn visible_user(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<user::Model>> {
    Ok(find(db, id)
        .await?
        .filter(|u| viewer.may_see_records_of(u.id)))
}

/// A sign-in attempt on an account the viewer may see; None when missing or not theirs.
pub async fn visible_login_event(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<login_attempt::Model>> {
    Ok(db_account::login_attempt_by_id(db, id).await?.filter(|e| {
        e.user_id
            .is_some_and(|owner| viewer.may_see_records_of(owner))
    }))
}

/// An address of an account the viewer may see; None when missing or not theirs.
pub async fn visible_address(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<address::Model>> {
    Ok(db_account::address_by_id(db, id)
        .await?
        .filter(|a| viewer.may_see_records_of(a.user_id)))
}

/// Users by id, many in one statement; ids with no user are left out.
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, user::Model>> {
    let rows = db_account::users_by_ids(db, ids.iter().copied()).await?;
    Ok(batch::index(rows, |u| u.id))
}

pub async fn me(services: &Services, viewer: &Viewer) -> AppResult<user::Model> {
    find(&services.db, viewer.user_id)
        .await?
        .ok_or_else(AppError::unauthenticated)
}

pub async fn login_history(
    services: &Services,
    viewer: &Viewer,
    page: Page,
) -> AppResult<Slice<login_attempt::Model>> {
    let rows =
        db_account::login_attempts_of(&services.db, viewer.user_id, page.after, page.limit + 1)
            .await?;
    Ok(Slice::from_probe(rows, page.limit))
}

/// How many sign-in attempts `login_history` pages through, in one statement.
pub async fn login_history_count(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<u64> {
    Ok(db_account::count_login_attempts(db, user_id).await?)
}

pub struct AddressInput {
    pub label: String,
    pub line: String,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub location: Option<LatLng>,
    pub is_default: bool,
}

/// A profile change: `None` leaves a field as it is; `phone: Some(None)` removes the phone number;
/// `addresses: Some(list)` replaces the whole address book.
pub struct ProfileUpdate {
    pub full_name: Option<String>,
    pub phone: Option<Option<String>>,
    pub addresses: Option<Vec<AddressInput>>,
}

pub const MAX_ADDRESSES: usize = 10;

pub async fn update_profile(
    services: &Services,
    viewer: &Viewer,
    update: ProfileUpdate,
) -> AppResult<user::Model> {
    let now = services.clock.now();
    let full_name = update
        .full_name
        .as_deref()
        .map(|n| check_full_name(n, "fullName"))
        .transpose()?;
    let phone = match &update.phone {
        Some(Some(raw)) if !raw.trim().is_empty() => {
            Some(Some(Phone::parse(raw, "phone")?.as_str().to_string()))
        }
        Some(_) => Some(None),
        None => None,
    };
    let addresses = update
        .addresses
        .map(|list| validate_addresses(list, viewer.user_id, now))
        .transpose()?;
    let txn = begin_write(&services.db).await?;
    let account = db_account::user_by_id(&txn, viewer.user_id)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let updated = match db_account::update_profile(&txn, account, full_name, phone, now).await {
        Ok(updated) => updated,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::bad_input(
                "phone",
                "an account with this phone number already exists",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(addresses) = addresses {
        db_account::delete_addresses_of(&txn, viewer.user_id).await?;
        db_account::insert_addresses(&txn, addresses).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

fn validate_addresses(
    list: Vec<AddressInput>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<address::Model>> {
    if list.len() > MAX_ADDRESSES {
        return Err(AppError::bad_input(
            "addresses",
            format!("at most {MAX_ADDRESSES} addresses"),
        ));
    }
    if list.iter().filter(|a| a.is_default).count() > 1 {
        return Err(AppError::bad_input(
            "addresses",
            "only one address can be the default",
        ));
    }
    let only_one = list.len() == 1;
    // Counted as i32, the position column's type; MAX_ADDRESSES keeps it small.
    (0..)
        .zip(list)
        .map(|(i, a)| {
            let text = |value: &str, name: &str, max: usize| {
                crate::services::platform::validation::text(
                    value,
                    format!("addresses[{i}].{name}"),
                    name,
                    1,
                    max,
                )
            };
            let optional =
                |value: Option<String>, name: &str, max: usize| -> AppResult<Option<String>> {
                    value
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| text(&v, name, max))
                        .transpose()
                };
            Ok(address::Model {
                id: Uuid::now_v7(),
                user_id,
                label: text(&a.label, "label", 40)?,
                line: text(&a.line, "line", 200)?,
                city: text(&a.city, "city", 100)?,
                region: optional(a.region, "region", 100)?,
                postal_code: optional(a.postal_code, "postalCode", 20)?,
                lat: a.location.map(LatLng::lat),
                lng: a.location.map(LatLng::lng),
                // A lone address is the default whether or not the client said so.
                is_default: a.is_default || only_one,
                position: i,
                created_at: now,
                updated_at: now,
            })
        })
        .collect()
}

/// Each user's saved addresses in their order, for many users in one statement.
pub async fn addresses_of(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<address::Model>>> {
    let rows = db_account::addresses_of(db, user_ids).await?;
    Ok(batch::group(rows, |a| a.user_id))
}
