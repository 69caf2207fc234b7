//! The `fundi` command line: settings in --help, bad settings, create-admin, migrations and the schema printer.

use crate::support::*;
use std::process::Command;
use std::sync::Arc;

fn fundi(backend: &Backend) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fundi"));
    command
        .env_clear()
        .env("FUNDI_DATABASE_URL", &backend.database_url)
        .env("FUNDI_DATA_DIR", backend.data_dir.path())
        .env("FUNDI_JWT_SECRET", JWT_SECRET)
        .env("FUNDI_LOG", "warn");
    command
}

fn run(command: &mut Command) -> (bool, String, String) {
    let output = command.output().expect("fundi runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[test]
fn help_documents_every_setting() {
    let (ok, stdout, _) = run(Command::new(env!("CARGO_BIN_EXE_fundi")).arg("--help"));
    assert!(ok);
    for setting in fundi::config::documented() {
        assert!(
            stdout.contains(&setting.var),
            "--help does not mention {}",
            setting.var
        );
    }
    for command in ["serve", "migrate", "schema", "create-admin"] {
        assert!(
            stdout.contains(command),
            "--help does not mention {command}"
        );
    }
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let backend = Backend::new().await;
    let (ok, _, stderr) = run(fundi(&backend).env("FUNDI_LOG_FORMAT", "xml").arg("serve"));
    assert!(!ok);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("FUNDI_LOG_FORMAT"), "{stderr}");
    let (ok, _, stderr) = run(fundi(&backend)
        .env("FUNDI_JWT_SECRET", "too-short")
        .arg("serve"));
    assert!(!ok);
    assert!(stderr.contains("FUNDI_JWT_SECRET"), "{stderr}");
}

#[test]
fn the_schema_command_prints_the_committed_sdl() {
    let (ok, stdout, _) = run(Command::new(env!("CARGO_BIN_EXE_fundi")).arg("schema"));
    assert!(ok);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        stdout == committed,
        "schema.graphql differs from `fundi schema`"
    );
}

#[tokio::test]
async fn create_admin_makes_staff_accounts_that_can_sign_in() {
    let backend = Arc::new(Backend::new().await);
    let (ok, stdout, stderr) = run(fundi(&backend).args([
        "create-admin",
        "--email",
        "Boss@Example.com",
        "--password",
        PASSWORD,
        "--name",
        "The Boss",
    ]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("ADMIN"));
    let (ok, _, stderr) = run(fundi(&backend).args([
        "create-admin",
        "--email",
        "helpdesk@example.com",
        "--password",
        PASSWORD,
        "--name",
        "Help Desk",
        "--role",
        "support",
    ]));
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(fundi(&backend).args([
        "create-admin",
        "--email",
        "weak@example.com",
        "--password",
        "short",
        "--name",
        "W",
    ]));
    assert!(!ok);
    assert!(stderr.contains("password"), "{stderr}");

    let s = TestServer::start_on(backend, Options::default()).await;
    for (email, role) in [
        ("boss@example.com", "ADMIN"),
        ("helpdesk@example.com", "SUPPORT"),
    ] {
        let login = s.login(email, PASSWORD).await;
        let token = login["data"]["login"]["accessToken"]
            .as_str()
            .expect("staff can sign in")
            .to_string();
        let me = s
            .ok(Some(&token), "{ me { role } }", serde_json::json!({}))
            .await;
        assert_eq!(me["me"]["role"], role);
    }
}

#[tokio::test]
async fn migrations_roll_back_one_at_a_time_and_reapply() {
    let backend = Backend::new().await;
    let (ok, _, stderr) = run(fundi(&backend).args(["migrate", "up"]));
    assert!(ok, "{stderr}");
    let (_, status, _) = run(fundi(&backend).args(["migrate", "status"]));
    let applied = status.lines().filter(|l| l.starts_with("applied")).count();
    assert!(applied >= 3, "{status}");
    for _ in 0..applied {
        let (ok, _, stderr) = run(fundi(&backend).args(["migrate", "down"]));
        assert!(ok, "{stderr}");
    }
    let (_, status, _) = run(fundi(&backend).args(["migrate", "status"]));
    assert_eq!(
        status.lines().filter(|l| l.starts_with("pending")).count(),
        applied,
        "{status}"
    );
    let (ok, _, stderr) = run(fundi(&backend).args(["migrate", "up"]));
    assert!(ok, "{stderr}");
    let (_, status, _) = run(fundi(&backend).args(["migrate", "status"]));
    assert!(!status.contains("pending"), "{status}");
}

#[tokio::test]
async fn seed_demo_fills_an_empty_database_once() {
    let backend = Arc::new(Backend::new().await);
    let (ok, stdout, stderr) = run(fundi(&backend).args(["seed", "--demo"]));
    assert!(ok, "{stderr}");
    let customer = stdout
        .split_whitespace()
        .find(|w| w.starts_with("customer01+"))
        .expect("demo logins printed")
        .to_string();
    let (ok, _, stderr) = run(fundi(&backend).args(["seed", "--demo"]));
    assert!(!ok, "a second run is refused");
    assert!(stderr.contains("--force"), "{stderr}");
    let s = TestServer::start_on(backend, Options::default()).await;
    let login = s
        .login(&customer, fundi::services::platform::demo::DEMO_PASSWORD)
        .await;
    let session = crate::support::Session::from_payload(&login["data"]["login"]);
    let found = crate::fixtures::matches(
        &s,
        &session,
        crate::fixtures::NAIROBI,
        serde_json::json!({"first": 50}),
    )
    .await;
    assert!(!found.is_empty(), "demo technicians are matchable");
    assert_eq!(
        s.services().matching.len(),
        200,
        "two in three demo technicians are available"
    );
    // The seed says which login acts as which matched technician.
    let table = std::fs::read_to_string(s.services().config.data_dir.join("demo-technicians.tsv"))
        .expect("the seed writes who is who");
    assert!(stdout.contains("demo-technicians.tsv"), "{stdout}");
    let first = &found[0]["technician"];
    let row = table
        .lines()
        .find(|line| line.starts_with(first["id"].as_str().unwrap()))
        .expect("every matched technician is in the table");
    let columns: Vec<&str> = row.split('\t').collect();
    assert_eq!(columns[1], first["fullName"].as_str().unwrap());
    let login = s
        .login(columns[3], fundi::services::platform::demo::DEMO_PASSWORD)
        .await;
    let tech = crate::support::Session::from_payload(&login["data"]["login"]);
    let me = s
        .ok(
            tech.token(),
            "{ myTechnicianProfile { id } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(me["myTechnicianProfile"]["id"], first["id"]);
}

#[tokio::test]
async fn an_empty_variable_counts_as_unset_and_a_flag_replaces_its_variable() {
    let backend = Backend::new().await;
    let (ok, _, stderr) = run(fundi(&backend)
        .env("FUNDI_S3_BUCKET", "")
        .env("FUNDI_SMTP_URL", " ")
        .args(["migrate", "status"]));
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(fundi(&backend).env("FUNDI_LOG_FORMAT", "xml").args([
        "--log-format",
        "json",
        "migrate",
        "status",
    ]));
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(fundi(&backend).args(["--log-format", "xml", "migrate", "status"]));
    assert!(!ok);
    assert_eq!(
        stderr.trim(),
        "fundi: bad setting FUNDI_LOG_FORMAT: expected text or json, got \"xml\""
    );
}

#[test]
fn the_schema_command_ignores_the_settings() {
    let (ok, _, stderr) = run(Command::new(env!("CARGO_BIN_EXE_fundi"))
        .env("FUNDI_LOG_FORMAT", "xml")
        .arg("schema"));
    assert!(ok, "{stderr}");
}
