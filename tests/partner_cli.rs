//! `thumbd partner create` and `partner set` run as the real binary against a temporary
//! data dir.

use std::path::Path;
use std::process::{Command, Output};

use thumbd::service::DataDir;
use thumbd::store::MetadataStore;

fn thumbd(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thumbd"))
        .args(arguments)
        .env("THUMBD_LOG", "warn")
        .output()
        .expect("thumbd binary runs")
}

fn create(data_dir: &Path, extra: &[&str]) -> Output {
    let mut arguments = vec![
        "partner",
        "create",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--partner-id",
        "101",
    ];
    arguments.extend_from_slice(extra);
    thumbd(&arguments)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn create_prints_and_stores_partner() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");

    let output = create(&data_dir, &["--admin-secret", "adm!n", "--secret", "us3r"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "partner_id: 101\nadmin_secret: adm!n\nsecret: us3r\nstatus: 1\nks_version: 1\n"
    );
    let data = DataDir::open(&data_dir).unwrap();
    let partner = data.store.partner(101).unwrap().unwrap();
    assert_eq!(partner.admin_secret, "adm!n");
    assert_eq!(partner.secret, "us3r");
    assert_eq!(partner.status, 1);
    assert_eq!(partner.settings.ks_version, None);
}

#[test]
fn create_stores_ks_version() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");

    let output = create(
        &data_dir,
        &["--admin-secret", "a", "--secret", "u", "--ks-version", "2"],
    );

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).ends_with("ks_version: 2\n"));
    let data = DataDir::open(&data_dir).unwrap();
    let partner = data.store.partner(101).unwrap().unwrap();
    assert_eq!(partner.settings.ks_version, Some(2));
}

#[test]
fn create_rejects_unknown_ks_version() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");

    let output = create(
        &data_dir,
        &["--admin-secret", "a", "--secret", "u", "--ks-version", "3"],
    );

    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--ks-version"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn create_rejects_existing_partner() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let first = create(&data_dir, &["--admin-secret", "first", "--secret", "u"]);
    assert!(first.status.success(), "{}", stderr(&first));

    let second = create(&data_dir, &["--admin-secret", "second", "--secret", "u"]);

    assert!(!second.status.success());
    assert!(second.stdout.is_empty());
    let message = stderr(&second);
    assert!(message.contains("partner 101 already exists"), "{message}");
    assert!(message.contains("--update"), "{message}");
    let data = DataDir::open(&data_dir).unwrap();
    let partner = data.store.partner(101).unwrap().unwrap();
    assert_eq!(partner.admin_secret, "first");
}

#[test]
fn create_rejects_bad_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let long = "x".repeat(65);
    let cases = [
        ("--admin-secret", "", "must not be empty"),
        ("--admin-secret", long.as_str(), "maximum of 64"),
        ("--secret", "has space", "character 4 is a space"),
        (
            "--secret",
            "tab\there",
            "character 4 is a space or not printable",
        ),
        ("--secret", "caf\u{e9}", "not printable ASCII"),
    ];

    for (option, value, reason) in cases {
        let mut arguments = vec!["--admin-secret", "good", "--secret", "good"];
        let index = arguments.iter().position(|a| *a == option).unwrap();
        arguments[index + 1] = value;

        let output = create(&data_dir, &arguments);

        assert!(!output.status.success(), "{option} {value:?} was accepted");
        let message = stderr(&output);
        assert!(message.contains(&format!("invalid {option}")), "{message}");
        assert!(message.contains(reason), "{option} {value:?}: {message}");
        assert!(
            value.is_empty() || !message.contains(value),
            "the secret is echoed: {message}"
        );
    }

    let data = DataDir::open(&data_dir).unwrap();
    assert_eq!(data.store.partner(101).unwrap(), None);
}

#[test]
fn update_replaces_secrets_and_keeps_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data_arg = data_dir.to_str().unwrap();
    let created = create(
        &data_dir,
        &[
            "--admin-secret",
            "old-admin",
            "--secret",
            "old-user",
            "--ks-version",
            "2",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let set = thumbd(&[
        "partner",
        "set",
        "--data-dir",
        data_arg,
        "--partner-id",
        "101",
        "--cache-age",
        "120",
        "--ks-max-expiry-secs",
        "600",
    ]);
    assert!(set.status.success(), "{}", stderr(&set));

    let updated = create(
        &data_dir,
        &[
            "--admin-secret",
            "new-admin",
            "--secret",
            "new-user",
            "--update",
        ],
    );

    assert!(updated.status.success(), "{}", stderr(&updated));
    assert_eq!(
        stdout(&updated),
        "partner_id: 101\nadmin_secret: new-admin\nsecret: new-user\nstatus: 1\nks_version: 2\n"
    );
    let data = DataDir::open(&data_dir).unwrap();
    let partner = data.store.partner(101).unwrap().unwrap();
    assert_eq!(partner.admin_secret, "new-admin");
    assert_eq!(partner.secret, "new-user");
    assert_eq!(partner.settings.cache_age, Some(120));
    assert_eq!(partner.settings.ks_max_expiry_secs, Some(600));
    assert_eq!(partner.settings.ks_version, Some(2));
}

#[test]
fn set_changes_ks_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data_arg = data_dir.to_str().unwrap();
    let set = |extra: &[&str]| {
        let mut arguments = vec![
            "partner",
            "set",
            "--data-dir",
            data_arg,
            "--partner-id",
            "7",
        ];
        arguments.extend_from_slice(extra);
        thumbd(&arguments)
    };

    let output = set(&["--ks-version", "2", "--ks-max-expiry-secs", "3600"]);

    assert!(output.status.success(), "{}", stderr(&output));
    let line = stdout(&output);
    assert!(line.contains("\"ks_version\":2"), "{line}");
    assert!(line.contains("\"ks_max_expiry_secs\":3600"), "{line}");

    let reset = set(&["--ks-max-expiry-secs", "0"]);

    assert!(reset.status.success(), "{}", stderr(&reset));
    let data = DataDir::open(&data_dir).unwrap();
    let partner = data.store.partner(7).unwrap().unwrap();
    assert_eq!(partner.settings.ks_version, Some(2));
    assert_eq!(partner.settings.ks_max_expiry_secs, None);
}
