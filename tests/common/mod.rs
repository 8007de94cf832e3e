//! Shared test harness: a real server on a loopback port over a temporary data dir,
//! media generated with the ffmpeg tool, and helpers to decode responses.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use thumbd::config::ServiceArgs;
use thumbd::http::{self, ServerOptions};
use thumbd::metrics::Metrics;
use thumbd::render::Backend;
use thumbd::render::cpu::CpuBackend;
use thumbd::render::gpu::{BatchConfig, GpuBackend};
use thumbd::service::ingest::{IngestRequest, ingest_file};
use thumbd::service::{DataDir, Services};
use thumbd::source::SourceLimits;
use thumbd::store::{BlobStore, Entry, EntryStatus, MetadataStore, Partner};
use tokio::sync::oneshot;

pub const PARTNER: i64 = 321;

/// A running server with its data dir; dropping it stops the server.
pub struct TestServer {
    pub address: SocketAddr,
    pub data: DataDir,
    pub services: Arc<Services>,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with default settings on 127.0.0.1:0.
    pub async fn start() -> Self {
        Self::start_with(ServiceArgs::default()).await
    }

    pub async fn start_with(config: ServiceArgs) -> Self {
        let metrics = Arc::new(Metrics::new());
        Self::start_on(config, Arc::new(CpuBackend), metrics).await
    }

    /// Starts a server on the GPU backend (any Vulkan device, lavapipe included).
    /// Returns `None` outside CI when no adapter exists; under CI that is a failure.
    pub async fn start_gpu(config: ServiceArgs, batch: BatchConfig) -> Option<Self> {
        let metrics = Arc::new(Metrics::new());
        let backend = open_gpu(batch, metrics.clone())?;
        Some(Self::start_on(config, Arc::new(backend), metrics).await)
    }

    pub async fn start_on(
        config: ServiceArgs,
        backend: Arc<dyn Backend>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        Self::start_in(dir, config, backend, metrics).await
    }

    /// Starts a server on an existing data dir (another server's, for instance).
    pub async fn start_in(
        dir: tempfile::TempDir,
        config: ServiceArgs,
        backend: Arc<dyn Backend>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let data = DataDir::open(dir.path()).expect("data dir opens");
        let services = Arc::new(Services::new(&data, backend, metrics, config));
        let listener = http::bind("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind loopback");
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server_services = services.clone();
        let task = tokio::spawn(async move {
            http::serve(listener, server_services, ServerOptions::default(), async {
                let _ = stopped.await;
            })
            .await;
        });
        Self {
            address,
            data,
            services,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals shutdown and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Builds the thumbnail URL of `entry_id` with the given parameter path.
    pub fn thumb(&self, entry_id: &str, params: &str) -> String {
        let params = params.trim_matches('/');
        let suffix = if params.is_empty() {
            String::new()
        } else {
            format!("/{params}")
        };
        self.url(&format!(
            "/p/{PARTNER}/thumbnail/entry_id/{entry_id}{suffix}"
        ))
    }

    /// Ingests a file for the test partner as a ready entry.
    pub fn ingest(&self, path: &Path) -> Entry {
        self.ingest_with(path, EntryStatus::READY)
    }

    pub fn ingest_with(&self, path: &Path, status: EntryStatus) -> Entry {
        let store: Arc<dyn MetadataStore> = self.data.store.clone();
        let blobs: Arc<dyn BlobStore> = self.data.blobs.clone();
        let request = IngestRequest {
            path,
            partner_id: PARTNER,
            entry_id: None,
            status,
            limits: SourceLimits::default(),
        };
        ingest_file(&store, &blobs, &request).expect("ingest succeeds")
    }

    pub fn partner(&self) -> Partner {
        self.data
            .store
            .partner(PARTNER)
            .unwrap()
            .expect("partner exists")
    }

    pub fn update_partner(&self, change: impl FnOnce(&mut Partner)) {
        let mut partner = self.partner();
        change(&mut partner);
        self.data.store.upsert_partner(&partner).unwrap();
    }

    /// A path for a fixture file inside this server's temporary directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Opens the GPU backend on any Vulkan device. Without one the caller skips its test
/// (with a message), except under CI, where lavapipe must be installed.
pub fn open_gpu(batch: BatchConfig, metrics: Arc<Metrics>) -> Option<GpuBackend> {
    let reason = match GpuBackend::open(true, batch, metrics) {
        Ok(Some(backend)) => return Some(backend),
        Ok(None) => "no Vulkan adapter".to_string(),
        Err(error) => error.to_string(),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs a GPU adapter (lavapipe): {reason}"
    );
    eprintln!("skipping: {reason}");
    None
}

/// A GET response, read whole.
pub struct Fetched {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decodes the body as an image, as RGBA.
    pub fn image(&self) -> image::RgbaImage {
        image::load_from_memory(&self.body)
            .unwrap_or_else(|error| {
                panic!(
                    "status {} body is not an image ({error}): {}",
                    self.status,
                    String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
                )
            })
            .into_rgba8()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }
}

pub async fn get(url: &str) -> Fetched {
    get_with(url, &[]).await
}

pub async fn get_with(url: &str, headers: &[(&str, &str)]) -> Fetched {
    let client = reqwest::Client::new();
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body reads").to_vec();
    Fetched {
        status,
        headers,
        body,
    }
}

/// Runs the ffmpeg tool; panics with its error output on failure.
pub fn ffmpeg(arguments: &[&str]) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(arguments)
        .output()
        .expect("the ffmpeg tool is installed (make test installs it)");
    assert!(
        output.status.success(),
        "ffmpeg {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Frame rate of `counter_video`.
pub const COUNTER_FPS: f64 = 10.0;

/// Generates a video whose every frame shows its own frame number as a flat colour:
/// red = 16 * (n % 16) + 8, green = 16 * (n / 16 % 16) + 8, blue = 16 * (n / 256) + 8.
/// Keyframes every 2 s, as most real uploads have.
pub fn counter_video(path: &Path, seconds: u32) {
    let source = format!("color=c=black:s=320x180:r={COUNTER_FPS}:d={seconds},format=rgb24");
    let filter = "geq=r='16*mod(N,16)+8':g='16*mod(floor(N/16),16)+8':b='16*floor(N/256)+8'";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-vf",
        filter,
        "-c:v",
        "libx264",
        "-g",
        "20",
        "-crf",
        "4",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
}

/// Reads the frame number back from a pixel of a `counter_video` frame.
pub fn frame_number(pixel: [u8; 4]) -> i64 {
    let digit = |value: u8| ((f64::from(value) - 8.0) / 16.0).round().clamp(0.0, 15.0) as i64;
    digit(pixel[0]) + 16 * digit(pixel[1]) + 256 * digit(pixel[2])
}

/// Computes the mean colour of a rectangle of an image.
pub fn mean_colour(image: &image::RgbaImage, x: u32, y: u32, width: u32, height: u32) -> [f64; 3] {
    let mut sum = [0.0; 3];
    for yy in y..y + height {
        for xx in x..x + width {
            let p = image.get_pixel(xx, yy).0;
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
        }
    }
    let count = f64::from(width * height);
    sum.map(|s| s / count)
}

/// Asserts that two colours differ by at most `tolerance` per channel.
pub fn assert_colour_near(actual: [f64; 3], expected: [u8; 3], tolerance: f64, region: &str) {
    for c in 0..3 {
        assert!(
            (actual[c] - f64::from(expected[c])).abs() <= tolerance,
            "{region}: colour {actual:?} is not near {expected:?}"
        );
    }
}

/// Path of a committed test fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
