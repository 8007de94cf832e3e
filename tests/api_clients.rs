//! Runs the official Kaltura client libraries against the real server. Each test runs a
//! scenario script from `tests/clients/` as a child process, with the Python client
//! (PyPI KalturaApiClient 23.10.0) or the Node client (npm kaltura-client 21.20.0).
//!
//! The clients are installed once under `target/client-env/` and reused by later runs.
//! When installing fails (no python3-venv or npm, no network), a test prints why and
//! returns early, except under CI, where it fails with the installer's output.

mod common;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use common::*;
use thumbd::store::{MetadataStore, Partner, PartnerSettings};

const PARTNER_ID: i64 = 4242;
const ADMIN_SECRET: &str = "scenario-admin-secret-4242";
const USER_SECRET: &str = "scenario-user-secret-4242";

/// Packages that pip installs. The KalturaApiClient wheel does not declare its `lxml`
/// dependency, so it is listed here.
const PYTHON_PACKAGES: [&str; 2] = ["KalturaApiClient==23.10.0", "lxml"];

const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);
/// Seconds of video that the Python scenario uploads, enough for `generate` to capture
/// at second 2.
const VIDEO_SECONDS: u32 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_scenario() {
    let Some(python) = prepare_client("python", install_python_client).await else {
        return;
    };
    let server = start_server_with_partner().await;
    let video = server.file("scenario.mp4");
    counter_video(&video, VIDEO_SECONDS);

    let mut command = Command::new(python);
    command
        .arg(clients_dir().join("python/scenario.py"))
        .env("SCENARIO_VIDEO", &video)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    run_scenario("python", command, &server).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_client_scenario() {
    let Some(node_modules) = prepare_client("node", install_node_client).await else {
        return;
    };
    let server = start_server_with_partner().await;

    let mut command = Command::new("node");
    command
        // kaltura-client 21.20.0 calls the deprecated `new Buffer()`.
        .arg("--no-deprecation")
        .arg(clients_dir().join("node/scenario.js"))
        .env("NODE_PATH", node_modules);
    run_scenario("node", command, &server).await;
    server.shutdown().await;
}

async fn start_server_with_partner() -> TestServer {
    let server = TestServer::start().await;
    server
        .data
        .store
        .upsert_partner(&Partner {
            id: PARTNER_ID,
            admin_secret: ADMIN_SECRET.to_string(),
            secret: USER_SECRET.to_string(),
            status: 1,
            settings: PartnerSettings::default(),
        })
        .expect("partner is stored");
    server
}

/// Runs a scenario against `server` and panics with its output unless it exits with 0.
async fn run_scenario(client: &str, mut command: Command, server: &TestServer) {
    command
        .env("KALTURA_SERVICE_URL", format!("http://{}", server.address))
        .env("KALTURA_PARTNER_ID", PARTNER_ID.to_string())
        .env("KALTURA_ADMIN_SECRET", ADMIN_SECRET)
        .env("KALTURA_USER_SECRET", USER_SECRET)
        .env("SCENARIO_IMAGE", fixture("pillow_hopper.jpg"));
    keep_on_loopback(&mut command);

    let finished = tokio::task::spawn_blocking(move || run_command(&mut command, SCENARIO_TIMEOUT))
        .await
        .expect("scenario thread ends");
    let finished =
        finished.unwrap_or_else(|error| panic!("{client} scenario did not start: {error}"));
    assert!(
        finished.succeeded(),
        "{client} scenario failed: {}",
        finished.report()
    );
    println!("{client} scenario:\n{}", finished.stdout);
}

/// Removes proxy settings so that the clients connect to the loopback server directly.
fn keep_on_loopback(command: &mut Command) {
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        command
            .env_remove(name)
            .env_remove(name.to_ascii_lowercase());
    }
    command.env("NO_PROXY", "*").env("no_proxy", "*");
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// `target/client-env`, or its equivalent under `CARGO_TARGET_DIR`.
fn client_env_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir has a parent")
        .join("client-env")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
}

/// Installs a client (or finds it installed) and returns what its scenario needs: the
/// venv's Python or the `node_modules` folder. Returns `None` when installing failed
/// outside CI.
async fn prepare_client(
    client: &'static str,
    install: fn(&Path) -> Result<PathBuf, String>,
) -> Option<PathBuf> {
    let prepared = tokio::task::spawn_blocking(move || {
        let root = client_env_dir();
        fs::create_dir_all(&root)
            .map_err(|error| format!("cannot create {}: {error}", root.display()))?;
        let _lock = InstallLock::acquire(&root)?;
        install(&root.join(client))
    })
    .await
    .expect("install thread ends");

    match prepared {
        Ok(path) => Some(path),
        Err(reason) if in_ci() => panic!("installing the {client} client failed: {reason}"),
        Err(reason) => {
            eprintln!("skipping the {client} client scenario: {reason}");
            None
        }
    }
}

/// Creates a venv with the Python client in `dir` unless a working one with the same
/// packages is there, and returns its interpreter.
fn install_python_client(dir: &Path) -> Result<PathBuf, String> {
    let python = dir.join("bin/python");
    let spec = PYTHON_PACKAGES.join("\n");
    let import_check = || {
        let mut import = Command::new(&python);
        import.args(["-c", "import KalturaClient, lxml"]);
        run_installer(&mut import, "importing the installed client")
    };
    if installed_spec(dir).as_deref() == Some(spec.as_str()) && import_check().is_ok() {
        return Ok(python);
    }
    remove_partial_install(dir)?;

    let mut venv = Command::new("python3");
    venv.args(["-m", "venv"]).arg(dir);
    run_installer(
        &mut venv,
        "python3 -m venv (needs the python3-venv package)",
    )?;

    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
    ])
    .args(PYTHON_PACKAGES);
    run_installer(&mut pip, "pip install")?;

    import_check()?;
    mark_installed(dir, &spec)?;
    Ok(python)
}

/// Installs the Node client from `tests/clients/node/package.json` into `dir` unless a
/// working install of the same package.json is there, and returns its `node_modules`.
fn install_node_client(dir: &Path) -> Result<PathBuf, String> {
    let manifest = clients_dir().join("node/package.json");
    let spec = fs::read_to_string(&manifest)
        .map_err(|error| format!("cannot read {}: {error}", manifest.display()))?;
    let node_modules = dir.join("node_modules");
    let load_check = || {
        let mut node = Command::new("node");
        node.args(["-e", "require('kaltura-client')"])
            .env("NODE_PATH", &node_modules);
        run_installer(&mut node, "loading the installed client with node")
    };
    if installed_spec(dir).as_deref() == Some(spec.as_str()) && load_check().is_ok() {
        return Ok(node_modules);
    }
    remove_partial_install(dir)?;
    fs::create_dir_all(dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    fs::write(dir.join("package.json"), &spec)
        .map_err(|error| format!("cannot write package.json in {}: {error}", dir.display()))?;

    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--no-progress"])
        .current_dir(dir);
    run_installer(&mut npm, "npm install")?;

    load_check()?;
    mark_installed(dir, &spec)?;
    Ok(node_modules)
}

/// Marker written last, so that an interrupted install is redone on the next run.
const INSTALLED_MARKER: &str = ".installed";

fn installed_spec(dir: &Path) -> Option<String> {
    fs::read_to_string(dir.join(INSTALLED_MARKER)).ok()
}

fn mark_installed(dir: &Path, spec: &str) -> Result<(), String> {
    fs::write(dir.join(INSTALLED_MARKER), spec).map_err(|error| {
        format!(
            "cannot write the install marker in {}: {error}",
            dir.display()
        )
    })
}

fn remove_partial_install(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!("cannot remove {}: {error}", dir.display())),
    }
}

/// Runs one install step; on failure the error carries the tool's output.
fn run_installer(command: &mut Command, step: &str) -> Result<(), String> {
    let finished = run_command(command, INSTALL_TIMEOUT)
        .map_err(|error| format!("{step}: cannot run {:?}: {error}", command.get_program()))?;
    if finished.succeeded() {
        Ok(())
    } else {
        Err(format!("{step} failed: {}", finished.report()))
    }
}

/// Serializes client installs: a mutex within this test binary, and a lock directory
/// for other test processes sharing the same target dir.
struct InstallLock {
    path: PathBuf,
    _guard: MutexGuard<'static, ()>,
}

impl InstallLock {
    fn acquire(root: &Path) -> Result<Self, String> {
        static INSTALLS: Mutex<()> = Mutex::new(());
        let guard = INSTALLS.lock().unwrap_or_else(PoisonError::into_inner);
        let path = root.join(".install.lock");
        // A lock older than the longest install belongs to a run that was killed.
        let stale_after = INSTALL_TIMEOUT * 3;
        let started = Instant::now();
        loop {
            match fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(Self {
                        path,
                        _guard: guard,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    let age = fs::metadata(&path)
                        .and_then(|metadata| metadata.modified())
                        .ok()
                        .and_then(|modified| SystemTime::now().duration_since(modified).ok());
                    if age.is_some_and(|age| age > stale_after) {
                        let _ = fs::remove_dir(&path);
                        continue;
                    }
                    if started.elapsed() > stale_after {
                        return Err(format!(
                            "timed out waiting for {} (another test process is installing; remove it if none is)",
                            path.display()
                        ));
                    }
                    thread::sleep(Duration::from_millis(500));
                }
                Err(error) => {
                    return Err(format!("cannot create {}: {error}", path.display()));
                }
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.path);
    }
}

/// A finished child process: its exit status (`None` when it timed out and was killed)
/// and its output.
struct Finished {
    status: Option<ExitStatus>,
    timeout: Duration,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }

    /// Describes how the process ended, followed by its non-empty stdout and stderr.
    fn report(&self) -> String {
        let mut report = match self.status {
            Some(status) => status.to_string(),
            None => format!(
                "timed out after {} s and was killed",
                self.timeout.as_secs()
            ),
        };
        for (name, output) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !output.trim().is_empty() {
                report.push_str(&format!("\n--- {name} ---\n{}", output.trim_end()));
            }
        }
        report
    }
}

/// Runs a command with piped output, killing it after `timeout`.
fn run_command(command: &mut Command, timeout: Duration) -> io::Result<Finished> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let stdout = read_in_background(child.stdout.take().expect("stdout is piped"));
    let stderr = read_in_background(child.stderr.take().expect("stderr is piped"));

    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(100));
    };
    Ok(Finished {
        status,
        timeout,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
