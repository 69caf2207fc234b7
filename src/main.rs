//! The `fundi` command line: serve (default), migrate, schema, seed --demo, create-admin and ledger verify.

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use fundi::config::{CommandLineError, Config, Settings};
use fundi::domain::account::Role;
use migration::{Migrator, MigratorTrait};
use std::ffi::OsString;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "fundi",
    version,
    about = "GraphQL API for hyperlocal home-services marketplaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    // Every setting, also read from its FUNDI_* environment variable; a flag replaces the variable.
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): applies pending migrations, then listens on FUNDI_BIND.
    Serve,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Fill an empty database with a demo city: an admin, 20 customers and 300 technicians.
    Seed {
        /// Required: this command only makes demo data.
        #[arg(long)]
        demo: bool,
        /// Centre of the demo city (default: Nairobi).
        #[arg(long, default_value_t = -1.2921, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, default_value_t = 36.8219, allow_hyphen_values = true)]
        lng: f64,
        /// Add the demo city even when the database already has users.
        #[arg(long)]
        force: bool,
    },
    /// Create a staff account (ADMIN by default, or SUPPORT).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "support"], default_value = "admin")]
        role: String,
    },
    /// Check the money ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the most recent migration.
    Down,
    /// List applied and pending migrations.
    Status,
}

#[derive(Subcommand, Clone, Copy)]
enum LedgerAction {
    /// Recompute every balance from the postings; exits non-zero naming the first broken invariant.
    Verify,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let command = fundi::config::for_help(Cli::command());
    // The command alone first, so that help and `fundi schema` work whatever the environment holds.
    let cli = match fundi::config::parse_arguments(command.clone(), &args)
        .and_then(|matches| Cli::from_arg_matches(&matches).map_err(CommandLineError::Usage))
    {
        Ok(cli) => cli,
        Err(e) => return refused(e),
    };
    if let Some(Command::Schema) = cli.command {
        print!("{}", fundi::graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_command_line(command, &args, fundi::config::env_lookup) {
        Ok((config, _)) => config,
        Err(e) => return refused(e),
    };
    let telemetry = match fundi::telemetry::init(&config) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("fundi: FUNDI_OTLP_ENDPOINT: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { action } => migrate(config, action).await,
        Command::CreateAdmin {
            email,
            password,
            name,
            role,
        } => create_admin(config, &email, &password, &name, &role).await,
        Command::Seed {
            demo,
            lat,
            lng,
            force,
        } => seed(config, demo, (lat, lng), force).await,
        Command::Ledger { action } => ledger(config, action).await,
        Command::Schema => unreachable!("handled above"),
    };
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fundi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A bad setting is one line naming its variable (exit status 2, as for any usage error).
fn refused(e: CommandLineError) -> ExitCode {
    match e {
        CommandLineError::Setting(e) => {
            eprintln!("fundi: bad setting {e}");
            ExitCode::from(2)
        }
        CommandLineError::Usage(e) => e.exit(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let server = fundi::app::start(config).await?;
    println!("Fundi is serving GraphQL on http://{}/graphql", server.addr);
    let shutdown = server.shutdown.clone();
    let stop = stop_signal()?;
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stop signal received; draining");
        shutdown.cancel();
    });
    server.wait().await
}

/// Installs the SIGTERM handler now, so a server that could not drain on SIGTERM does not start,
/// and returns what waits for SIGTERM or Ctrl-C.
fn stop_signal() -> anyhow::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

async fn migrate(config: Config, action: MigrateAction) -> anyhow::Result<()> {
    let db =
        fundi::db::connect_with(&config.database_url, fundi::app::pool_options(&config)).await?;
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await?,
        MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
        MigrateAction::Status => {
            for m in Migrator::get_applied_migrations(&db).await? {
                println!("applied  {}", m.name());
            }
            for m in Migrator::get_pending_migrations(&db).await? {
                println!("pending  {}", m.name());
            }
        }
    }
    Ok(())
}

async fn ledger(config: Config, action: LedgerAction) -> anyhow::Result<()> {
    let db =
        fundi::db::connect_with(&config.database_url, fundi::app::pool_options(&config)).await?;
    match action {
        LedgerAction::Verify => {
            let outcome = fundi::services::money::ledger::verify_snapshot(&db)
                .await
                .map_err(|e| match e {
                    fundi::error::AppError::Internal(cause) => cause,
                    other => anyhow::anyhow!("{}", other.message()),
                })?;
            match outcome {
                Ok(report) => println!("{report}"),
                Err(broken) => anyhow::bail!("ledger invariant broken: {broken}"),
            }
        }
    }
    Ok(())
}

async fn seed(config: Config, demo: bool, centre: (f64, f64), force: bool) -> anyhow::Result<()> {
    anyhow::ensure!(demo, "say --demo: seed only makes demo data");
    anyhow::ensure!(
        (-90.0..=90.0).contains(&centre.0) && (-180.0..=180.0).contains(&centre.1),
        "--lat/--lng out of range"
    );
    let shutdown = CancellationToken::new();
    let services = fundi::app::build_services(config, &shutdown).await?;
    let logins = fundi::services::platform::demo::seed(&services, centre, force)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    shutdown.cancel();
    println!(
        "Demo city ready around {:.4}, {:.4}. Every demo account's password is: {}",
        centre.0,
        centre.1,
        fundi::services::platform::demo::DEMO_PASSWORD
    );
    println!("  admin:       {}", logins.admin);
    println!(
        "  customers:   {} .. {}",
        logins.customers[0],
        logins.customers[logins.customers.len() - 1]
    );
    println!(
        "  technicians: {} .. {}",
        logins.technicians[0].email,
        logins.technicians[logins.technicians.len() - 1].email
    );
    // Who is who: matchTechnicians shows a technician's id and name; this says how to sign in as them.
    let mut table = String::from("technician id\tfull name\tmain skill\temail\n");
    for tech in &logins.technicians {
        let id = fundi::graphql::ids::encode(fundi::graphql::ids::Kind::Technician, tech.id);
        table.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            id.as_str(),
            tech.full_name,
            tech.category,
            tech.email
        ));
    }
    let path = services.config.data_dir.join("demo-technicians.tsv");
    std::fs::write(&path, &table).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "  which login is which technician (id, name, skill, email): {}",
        path.display()
    );
    for line in table.lines().skip(1).take(5) {
        println!("    {line}");
    }
    println!(
        "    … {} more in that file",
        logins.technicians.len().saturating_sub(5)
    );
    Ok(())
}

async fn create_admin(
    config: Config,
    email: &str,
    password: &str,
    name: &str,
    role: &str,
) -> anyhow::Result<()> {
    let role = if role == "support" {
        Role::Support
    } else {
        Role::Admin
    };
    let shutdown = CancellationToken::new();
    let services = fundi::app::build_services(config, &shutdown).await?;
    let account =
        fundi::services::accounts::account::create_staff(&services, email, password, name, role)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    shutdown.cancel();
    println!(
        "created {} account {} ({})",
        role.as_str(),
        account.email,
        account.id
    );
    Ok(())
}
