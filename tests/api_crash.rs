//! Crash safety of the API v3 writes, with the real binary. `thumbd serve` is killed
//! with SIGKILL in the middle of uploads, `thumbAsset.setContent` and
//! `thumbAsset.addFromImage`. It is then restarted on the same data dir and checked
//! through the API and the data dir's files. A write that the server acknowledged
//! must survive, and an interrupted one must leave either its whole result or
//! nothing that the API serves.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Cursor};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thumbd::service::DataDir;
use thumbd::store::{MetadataStore, asset_status, upload_status};
use tokio::io::AsyncWriteExt;

const PARTNER_ID: i64 = 5150;
const ADMIN_SECRET: &str = "crash-admin-secret";
const USER_SECRET: &str = "crash-user-secret";
const BOUNDARY: &str = "thumbd-crash-test-boundary";
/// Time a started server gets to respond to `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Time limit of one API call (uploads of several MiB included).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// When the server is killed, as fractions of the time that the same kind of write
/// took without a kill. Most of a write is reading and decoding, and its blob and
/// row are written at the end, so the later points are close together.
const KILL_POINTS: [f64; 5] = [0.0, 0.5, 0.8, 0.9, 1.0];
/// Size of the first chunk of a resumed upload.
const FIRST_CHUNK_BYTES: usize = 3 << 20;

/// Writes that the server is killed in the middle of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteKind {
    /// `thumbAsset.setContent` on a QUEUED asset that has no file yet.
    SetContentOnQueued,
    /// `thumbAsset.setContent` on a READY asset, which adds a file version.
    SetContentOnReady,
    /// `thumbAsset.addFromImage` with the image as a multipart file.
    AddFromImage,
    /// `uploadToken.upload` of a whole file in one chunk.
    UploadWhole,
    /// `uploadToken.upload` of the final chunk of a resumed upload.
    UploadResumed,
}

const WRITE_KINDS: [WriteKind; 5] = [
    WriteKind::SetContentOnQueued,
    WriteKind::SetContentOnReady,
    WriteKind::AddFromImage,
    WriteKind::UploadWhole,
    WriteKind::UploadResumed,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_request_body() {
    let started = Instant::now();
    let mut setup = Setup::new().await;
    let large = setup.sources[LARGE_A].bytes.clone();

    // A whole file, cut off halfway through the request body.
    let token = setup.api.add_token().await;
    setup
        .kill_mid_body(&token, &large, &upload_params(&token, false, -1, true))
        .await;
    let state = setup.api.token(&token).await;
    assert_eq!(state.status, upload_status::PENDING, "token {token}");
    assert_eq!(state.uploaded, 0, "token {token}");
    setup.check_committed().await;

    // The last chunk of a resumed upload, cut off halfway through the request body.
    let token = setup.api.add_token().await;
    let first = setup
        .api
        .upload(&token, &large[..FIRST_CHUNK_BYTES], false, -1, false)
        .await;
    assert_eq!(first.status, upload_status::PARTIAL_UPLOAD, "token {token}");
    let rest = &large[FIRST_CHUNK_BYTES..];
    let params = upload_params(&token, true, FIRST_CHUNK_BYTES as i64, true);
    setup.kill_mid_body(&token, rest, &params).await;
    let state = setup.api.token(&token).await;
    assert_eq!(state.status, upload_status::PARTIAL_UPLOAD, "token {token}");
    assert_eq!(state.uploaded, FIRST_CHUNK_BYTES as u64, "token {token}");
    setup.check_committed().await;

    // The upload resumes where the last committed chunk ended, and its file is whole.
    let last = setup
        .api
        .upload(&token, rest, true, FIRST_CHUNK_BYTES as i64, true)
        .await;
    assert_eq!(last.status, upload_status::FULL_UPLOAD, "token {token}");
    assert_eq!(last.uploaded, large.len() as u64, "token {token}");
    let asset = setup.api.add_queued_asset(&setup.committed.entry_id).await;
    let stored = setup.api.set_content(&asset, &token).await;
    assert_eq!(stored["status"], asset_status::READY, "{stored}");
    let served = setup.api.serve_asset(&asset).await;
    assert!(
        served.body == large,
        "asset {asset} does not serve the uploaded file"
    );

    setup.check_data_dir(None).await;
    setup.server.stop();
    println!("request body kills took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_content_writes() {
    let started = Instant::now();
    let mut setup = Setup::new().await;
    let mut model = Model::default();
    let listed = setup.api.list_assets(&setup.committed.entry_id).await;
    assert_eq!(
        listed.len(),
        1,
        "the entry starts with one asset: {listed:?}"
    );

    // One write of each kind without a kill measures how long it takes.
    let mut durations = Vec::new();
    for (index, kind) in WRITE_KINDS.into_iter().enumerate() {
        let source = [LARGE_A, LARGE_B][index % 2];
        let (outcome, took) = run_round(&mut setup, &mut model, kind, source, None).await;
        assert_eq!(
            outcome, "acknowledged, committed",
            "{kind:?} without a kill"
        );
        durations.push(took);
    }

    let mut outcomes = Vec::new();
    let mut round = 0;
    for point in KILL_POINTS {
        for (index, kind) in WRITE_KINDS.into_iter().enumerate() {
            let delay = durations[index].mul_f64(point);
            let source = [LARGE_A, LARGE_B][round % 2];
            let (outcome, _) = run_round(&mut setup, &mut model, kind, source, Some(delay)).await;
            outcomes.push(format!(
                "round {round}: {kind:?}, killed after {delay:.0?} of {:.0?}: {outcome}",
                durations[index]
            ));
            round += 1;
        }
    }

    setup.server.stop();
    println!("{}", outcomes.join("\n"));
    println!("content write kills took {:?}", started.elapsed());
}

// --- Kill rounds ---------------------------------------------------------------------

/// Prepares one write and sends it. With `kill_after`, kills the server that long
/// after sending and restarts it. Then checks the write's result and every
/// invariant. Returns what became of the write and how long the reply took.
async fn run_round(
    setup: &mut Setup,
    model: &mut Model,
    kind: WriteKind,
    source: usize,
    kill_after: Option<Duration>,
) -> (String, Duration) {
    let entry_id = setup.committed.entry_id.clone();
    let round = match kind {
        WriteKind::SetContentOnQueued => {
            let asset = setup.api.add_queued_asset(&entry_id).await;
            model.assets.insert(asset.clone(), AssetModel::empty());
            let token = setup.api.full_token(&setup.sources[source].bytes).await;
            Round::SetContent {
                asset,
                token,
                source,
            }
        }
        WriteKind::SetContentOnReady => {
            let asset = match model.ready_asset() {
                Some(asset) => asset,
                None => make_ready_asset(setup, model, LARGE_B).await,
            };
            let current = model.assets[&asset].source;
            let source = if current == Some(LARGE_A) {
                LARGE_B
            } else {
                LARGE_A
            };
            let token = setup.api.full_token(&setup.sources[source].bytes).await;
            Round::SetContent {
                asset,
                token,
                source,
            }
        }
        WriteKind::AddFromImage => Round::AddFromImage { source },
        WriteKind::UploadWhole => Round::Upload {
            token: setup.api.add_token().await,
            source,
            resume_at: None,
        },
        WriteKind::UploadResumed => {
            let token = setup.api.add_token().await;
            let bytes = &setup.sources[source].bytes[..FIRST_CHUNK_BYTES];
            let first = setup.api.upload(&token, bytes, false, -1, false).await;
            assert_eq!(first.status, upload_status::PARTIAL_UPLOAD, "token {token}");
            Round::Upload {
                token,
                source,
                resume_at: Some(FIRST_CHUNK_BYTES),
            }
        }
    };

    let request = round.request(setup);
    let sent = Instant::now();
    let in_flight = tokio::spawn(async move {
        let reply = request.send().await;
        (reply, sent.elapsed())
    });
    let mut removed = 0;
    if let Some(delay) = kill_after {
        tokio::time::sleep(delay).await;
        setup.server.kill();
    }
    let (reply, took) = tokio::time::timeout(CALL_TIMEOUT, in_flight)
        .await
        .expect("the request ends")
        .expect("the request task does not panic");
    if let Ok(value) = &reply {
        assert!(!is_exception(value), "{kind:?} failed: {value}");
    }
    let acknowledged = reply.as_ref().ok();
    if kill_after.is_some() {
        let leftovers = setup.check_before_restart();
        setup.server.start().await;
        removed = setup.server.removed_at_start();
        assert_eq!(removed, leftovers, "files removed at start-up");
    }

    let outcome = round.check(setup, model, acknowledged).await;
    setup.check_committed().await;
    let observed = model.check(setup).await;
    setup.check_data_dir(Some(&observed)).await;
    let reply = match &reply {
        Ok(_) => "acknowledged".to_string(),
        Err(error) => format!("no reply ({error:#})"),
    };
    let cleanup = match removed {
        0 => String::new(),
        count => format!(", {count} leftover files removed at start-up"),
    };
    (format!("{reply}, {outcome}{cleanup}"), took)
}

/// Creates a READY asset of the committed entry with a setContent that is not
/// interrupted, and returns its id.
async fn make_ready_asset(setup: &Setup, model: &mut Model, source: usize) -> String {
    let asset = setup.api.add_queued_asset(&setup.committed.entry_id).await;
    let token = setup.api.full_token(&setup.sources[source].bytes).await;
    let stored = setup.api.set_content(&asset, &token).await;
    assert_eq!(stored["status"], asset_status::READY, "{stored}");
    model.assets.insert(
        asset.clone(),
        AssetModel {
            version: 1,
            source: Some(source),
        },
    );
    asset
}

/// One write under test, prepared with the server running.
enum Round {
    SetContent {
        asset: String,
        token: String,
        source: usize,
    },
    AddFromImage {
        source: usize,
    },
    Upload {
        token: String,
        source: usize,
        /// Where the final chunk starts, for a resumed upload.
        resume_at: Option<usize>,
    },
}

impl Round {
    fn request(&self, setup: &Setup) -> ApiRequest {
        let api = &setup.api;
        match self {
            Round::SetContent { asset, token, .. } => {
                api.json_request("thumbAsset", "setContent", set_content_params(asset, token))
            }
            Round::AddFromImage { source } => api.multipart_request(
                "thumbAsset",
                "addFromImage",
                json!({ "entryId": setup.committed.entry_id }),
                &setup.sources[*source].bytes,
            ),
            Round::Upload {
                token,
                source,
                resume_at,
            } => {
                let bytes = &setup.sources[*source].bytes;
                let params = match resume_at {
                    Some(start) => upload_params(token, true, *start as i64, true),
                    None => upload_params(token, false, -1, true),
                };
                let chunk = &bytes[resume_at.unwrap_or(0)..];
                api.multipart_request("uploadToken", "upload", params, chunk)
            }
        }
    }

    /// Checks the write's own result and records it in `model`. Returns what became
    /// of the write: committed, rolled back or left unfinished.
    async fn check(
        &self,
        setup: &Setup,
        model: &mut Model,
        acknowledged: Option<&Value>,
    ) -> String {
        match self {
            Round::SetContent {
                asset,
                token,
                source,
            } => check_set_content(setup, model, asset, token, *source, acknowledged).await,
            Round::AddFromImage { source } => {
                check_add_from_image(setup, model, *source, acknowledged).await
            }
            Round::Upload {
                token,
                source,
                resume_at,
            } => check_upload(setup, model, token, *source, *resume_at, acknowledged).await,
        }
    }
}

async fn check_set_content(
    setup: &Setup,
    model: &mut Model,
    asset: &str,
    token: &str,
    source: usize,
    acknowledged: Option<&Value>,
) -> String {
    let before = model.assets[asset].clone();
    let observed = setup.observe_asset(asset).await;
    let after = AssetModel {
        version: before.version + 1,
        source: Some(source),
    };
    let committed = observed.matches(&after);
    assert!(
        committed || observed.matches(&before),
        "asset {asset} is neither as before ({before:?}) nor as set ({after:?}): {observed:?}"
    );
    if acknowledged.is_some() {
        assert!(
            committed,
            "acknowledged setContent of {asset} is lost: {observed:?}"
        );
    }
    let token_state = setup.api.token(token).await;
    if token_state.status == upload_status::CLOSED {
        assert!(
            committed,
            "token {token} is closed but asset {asset} has no new file"
        );
    } else {
        assert_eq!(
            token_state.status,
            upload_status::FULL_UPLOAD,
            "token {token}"
        );
    }

    if committed {
        model.assets.insert(asset.to_string(), after);
        "committed".to_string()
    } else {
        "rolled back".to_string()
    }
}

async fn check_add_from_image(
    setup: &Setup,
    model: &mut Model,
    source: usize,
    acknowledged: Option<&Value>,
) -> String {
    let listed = setup.api.list_assets(&setup.committed.entry_id).await;
    let new: Vec<&Value> = listed
        .iter()
        .filter(|asset| !model.assets.contains_key(text(&asset["id"])))
        .filter(|asset| text(&asset["id"]) != setup.committed.asset_id)
        .collect();
    assert!(
        new.len() <= 1,
        "one addFromImage added {} assets",
        new.len()
    );
    if let Some(reply) = acknowledged {
        assert_eq!(new.len(), 1, "acknowledged addFromImage {reply} is lost");
        assert_eq!(
            new[0]["id"], reply["id"],
            "asset of the acknowledged addFromImage"
        );
    }
    let Some(asset) = new.first() else {
        return "rolled back".to_string();
    };

    let id = text(&asset["id"]).to_string();
    let observed = setup.observe_asset(&id).await;
    let ready = AssetModel {
        version: 1,
        source: Some(source),
    };
    // A new asset's row is committed together with its file, so a listed asset
    // is always the whole image.
    assert!(
        observed.matches(&ready),
        "asset {id} from addFromImage is listed without its whole image: {observed:?}"
    );
    model.assets.insert(id, ready);
    let state = "committed";
    state.to_string()
}

async fn check_upload(
    setup: &Setup,
    model: &mut Model,
    token: &str,
    source: usize,
    resume_at: Option<usize>,
    acknowledged: Option<&Value>,
) -> String {
    let bytes = &setup.sources[source].bytes;
    let state = setup.api.token(token).await;
    let committed = state.status == upload_status::FULL_UPLOAD;
    if committed {
        assert_eq!(state.uploaded, bytes.len() as u64, "token {token}");
    } else {
        let (status, size) = match resume_at {
            Some(start) => (upload_status::PARTIAL_UPLOAD, start as u64),
            None => (upload_status::PENDING, 0),
        };
        assert_eq!(state.status, status, "token {token}");
        assert_eq!(state.uploaded, size, "token {token}");
        assert!(
            acknowledged.is_none(),
            "acknowledged upload of {token} is lost"
        );
        let chunk = &bytes[resume_at.unwrap_or(0)..];
        let resume = resume_at.map_or(-1, |start| start as i64);
        let finished = setup
            .api
            .upload(token, chunk, resume_at.is_some(), resume, true)
            .await;
        assert_eq!(finished.status, upload_status::FULL_UPLOAD, "token {token}");
        assert_eq!(finished.uploaded, bytes.len() as u64, "token {token}");
    }

    // The token's file must be the whole source, which setContent then serves.
    let asset = setup.api.add_queued_asset(&setup.committed.entry_id).await;
    let stored = setup.api.set_content(&asset, token).await;
    assert_eq!(stored["status"], asset_status::READY, "{stored}");
    let served = setup.api.serve_asset(&asset).await;
    assert!(
        served.body == *bytes,
        "asset {asset} made from token {token} does not serve the uploaded file"
    );
    model.assets.insert(
        asset,
        AssetModel {
            version: 1,
            source: Some(source),
        },
    );
    let outcome = if committed {
        "committed"
    } else {
        "rolled back"
    };
    outcome.to_string()
}

// --- Expected state ------------------------------------------------------------------

/// What the test expects of an asset: its file version and the source file of that
/// version (none while it has no file).
#[derive(Clone, Debug, PartialEq, Eq)]
struct AssetModel {
    version: i64,
    source: Option<usize>,
}

impl AssetModel {
    fn empty() -> Self {
        Self {
            version: 0,
            source: None,
        }
    }
}

/// An asset as `thumbAsset.list` reports it and `thumbAsset.serve` serves it.
#[derive(Debug)]
struct ObservedAsset {
    status: i64,
    version: i64,
    /// The source file that serve returned, when it returned a file.
    served: Option<usize>,
}

impl ObservedAsset {
    fn matches(&self, expected: &AssetModel) -> bool {
        let status_matches = match expected.source {
            Some(_) => self.status == asset_status::READY,
            None => self.status != asset_status::READY,
        };
        status_matches && self.version == expected.version && self.served == expected.source
    }
}

/// The assets that the rounds created, by id.
#[derive(Default)]
struct Model {
    assets: BTreeMap<String, AssetModel>,
}

impl Model {
    /// Returns one of the READY assets that the rounds created.
    fn ready_asset(&self) -> Option<String> {
        self.assets
            .iter()
            .find(|(_, asset)| asset.source.is_some())
            .map(|(id, _)| id.clone())
    }

    /// Checks every listed asset against the model and the invariants of a READY or
    /// unfinished asset. Returns the listed assets by id, with their versions.
    async fn check(&self, setup: &Setup) -> BTreeMap<String, i64> {
        let listed = setup.api.list_assets(&setup.committed.entry_id).await;
        let mut versions = BTreeMap::new();
        for asset in &listed {
            let id = text(&asset["id"]).to_string();
            let observed = setup.observe_listed(asset).await;
            versions.insert(id.clone(), observed.version);
            if id == setup.committed.asset_id {
                continue;
            }
            let expected = self
                .assets
                .get(&id)
                .unwrap_or_else(|| panic!("asset {id} is listed but no round made it"));
            assert!(
                observed.matches(expected),
                "asset {id}: expected {expected:?}, observed {observed:?}"
            );
        }
        for id in self.assets.keys() {
            assert!(versions.contains_key(id), "asset {id} is no longer listed");
        }
        versions
    }
}

// --- Test setup ----------------------------------------------------------------------

/// Index in `Setup::sources` of the image of the committed asset.
const SMALL: usize = 0;
/// Indexes of the 4000x3000 JPEGs that the kill rounds write.
const LARGE_A: usize = 1;
const LARGE_B: usize = 2;

/// An image that the test uploads.
struct Source {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

/// The entry and asset committed before any kill, and what they served then.
struct Committed {
    entry_id: String,
    entry: Value,
    entry_thumbnail: Vec<u8>,
    asset_id: String,
    asset: Value,
}

/// A running server on a data dir that contains a partner with committed content.
struct Setup {
    // Dropped before `dir`, so that the server is stopped before its data dir goes.
    server: Server,
    api: Api,
    sources: Vec<Source>,
    committed: Committed,
    data_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data_dir = dir.path().join("data");
        let sources = vec![
            read_source(&common::fixture("pillow_hopper.jpg")),
            large_jpeg(dir.path(), "large_a.jpg", "testsrc2"),
            large_jpeg(dir.path(), "large_b.jpg", "testsrc"),
        ];
        create_partner(&data_dir);

        let mut server = Server::new(&data_dir);
        server.start().await;
        let mut api = Api::new(server.base_url.clone());
        api.ks = api.start_session().await;
        let committed = commit_content(&api, &sources).await;
        Self {
            server,
            api,
            sources,
            committed,
            data_dir,
            _dir: dir,
        }
    }

    /// Sends an upload whose body stops after about half of `file`, waits until the
    /// server has stored part of it under `tmp/`, kills the server and restarts it.
    async fn kill_mid_body(&mut self, token: &str, file: &[u8], params: &Value) {
        let body = multipart_body(&self.api.with_session(params.clone()), file);
        let head = format!(
            "POST /api_v3/service/uploadToken/action/upload HTTP/1.1\r\n\
             Host: {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.server.address(),
            body.len()
        );
        let mut connection = tokio::net::TcpStream::connect(self.server.address())
            .await
            .expect("connect to the server");
        connection.write_all(head.as_bytes()).await.unwrap();
        connection.write_all(&body[..body.len() / 2]).await.unwrap();
        connection.flush().await.unwrap();

        let tmp = self.data_dir.join("tmp");
        let deadline = Instant::now() + CALL_TIMEOUT;
        while files_under(&tmp).iter().all(|path| file_size(path) == 0) {
            assert!(
                Instant::now() < deadline,
                "the server stored nothing of the upload of token {token} under {}",
                tmp.display()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.server.kill();
        drop(connection);

        assert!(
            !files_under(&tmp).is_empty(),
            "the partial request body is left in tmp/"
        );
        let leftovers = self.check_before_restart();
        self.server.start().await;
        assert_eq!(
            self.server.removed_at_start(),
            leftovers,
            "files removed at start-up"
        );
        self.check_data_dir(None).await;
    }

    /// Checks, with the server stopped, that every file the database refers to exists.
    /// Returns how many files start-up must delete: blobs without a row, partial
    /// blobs, request bodies in `tmp/` and staged upload chunks.
    fn check_before_restart(&self) -> usize {
        let keys = self.blob_keys();
        let files = blob_files(&self.data_dir);
        let missing: Vec<&String> = keys.difference(&files).collect();
        assert!(
            missing.is_empty(),
            "rows refer to missing blobs: {missing:?}"
        );

        let orphans = files.difference(&keys).count();
        let requests = files_under(&self.data_dir.join("tmp")).len();
        let staged = staged_uploads(&self.data_dir).len();
        orphans + requests + staged
    }

    /// Checks the data dir of a running server: no temporary or partial files, and
    /// exactly the blobs that the database refers to. With `assets` (listed asset ids
    /// and versions), also that every thumbnail file is a version of a listed asset.
    async fn check_data_dir(&self, assets: Option<&BTreeMap<String, i64>>) {
        // The server deletes a request's files on its blocking pool after the reply,
        // so the files of the last request may take a moment to go.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let tmp = files_under(&self.data_dir.join("tmp"));
            if tmp.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "request files are left in tmp/: {tmp:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let staged = staged_uploads(&self.data_dir);
        assert!(
            staged.is_empty(),
            "staged upload chunks are left: {staged:?}"
        );

        let files = blob_files(&self.data_dir);
        let partial: Vec<&String> = files.iter().filter(|f| f.ends_with(".partial")).collect();
        assert!(partial.is_empty(), "partial blobs are left: {partial:?}");
        let keys = self.blob_keys();
        let orphans: Vec<&String> = files.difference(&keys).collect();
        assert!(orphans.is_empty(), "blobs without a row: {orphans:?}");
        let missing: Vec<&String> = keys.difference(&files).collect();
        assert!(
            missing.is_empty(),
            "rows refer to missing blobs: {missing:?}"
        );

        let Some(assets) = assets else {
            return;
        };
        let entry_prefix = format!("{PARTNER_ID}/{}/", self.committed.entry_id);
        for file in &files {
            let relative = file
                .strip_prefix(&entry_prefix)
                .unwrap_or_else(|| panic!("blob {file} is not the committed entry's"));
            let Some(thumb) = relative.strip_prefix("thumbs/") else {
                continue;
            };
            let (asset_id, name) = thumb.split_once('/').expect("thumbs/{asset}/{version}");
            let version: i64 = name
                .split('.')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("blob {file} has no version number"));
            let listed = assets
                .get(asset_id)
                .unwrap_or_else(|| panic!("blob {file} belongs to an asset that is not listed"));
            assert!(
                version <= *listed,
                "blob {file} is newer than asset version {listed}"
            );
        }
    }

    /// Blob keys that the database refers to, read from the data dir.
    fn blob_keys(&self) -> BTreeSet<String> {
        let data = DataDir::open(&self.data_dir).expect("data dir opens");
        let keys = data.store.blob_keys().expect("blob keys read");
        keys.into_iter().filter(|key| !key.is_empty()).collect()
    }

    /// Checks that the content committed before any kill is unchanged.
    async fn check_committed(&self) {
        let committed = &self.committed;
        let entry = self
            .api
            .call_ok("media", "get", json!({ "entryId": committed.entry_id }))
            .await;
        assert_eq!(without_urls(entry), committed.entry, "committed entry");
        let thumbnail = self
            .api
            .get(&entry_thumbnail_path(&committed.entry_id))
            .await;
        assert_eq!(thumbnail.status, 200, "entry thumbnail");
        assert!(
            thumbnail.body == committed.entry_thumbnail,
            "the committed entry's thumbnail changed"
        );

        let asset = self
            .api
            .call_ok(
                "thumbAsset",
                "get",
                json!({ "thumbAssetId": committed.asset_id }),
            )
            .await;
        assert_eq!(without_urls(asset), committed.asset, "committed asset");
        let served = self.api.serve_asset(&committed.asset_id).await;
        assert!(
            served.body == self.sources[SMALL].bytes,
            "the committed asset's file changed"
        );
    }

    async fn observe_asset(&self, id: &str) -> ObservedAsset {
        let asset = self
            .api
            .call_ok("thumbAsset", "get", json!({ "thumbAssetId": id }))
            .await;
        self.observe_listed(&asset).await
    }

    /// Serves a listed asset and checks that a READY asset serves a whole source file
    /// with the asset's size and dimensions, and that any other asset serves nothing.
    async fn observe_listed(&self, asset: &Value) -> ObservedAsset {
        let id = text(&asset["id"]);
        let status = asset["status"].as_i64().expect("asset status");
        let served = self.api.serve_asset(id).await;
        let source = if status == asset_status::READY {
            assert_eq!(served.status, 200, "serve of READY asset {id}");
            assert_eq!(
                served.content_type.as_deref(),
                Some("image/jpeg"),
                "serve of {id}"
            );
            assert_eq!(
                Some(served.body.len() as i64),
                asset["size"].as_i64(),
                "served size of {id}"
            );
            let (width, height) = image::ImageReader::new(Cursor::new(&served.body))
                .with_guessed_format()
                .expect("served file is readable")
                .into_dimensions()
                .unwrap_or_else(|error| panic!("asset {id} serves an invalid image: {error}"));
            assert_eq!(
                (Some(i64::from(width)), Some(i64::from(height))),
                (asset["width"].as_i64(), asset["height"].as_i64()),
                "served dimensions of {id}"
            );
            let source = self.sources.iter().position(|s| s.bytes == served.body);
            assert!(
                source.is_some(),
                "asset {id} serves a file that was never uploaded"
            );
            source
        } else {
            assert!(
                [asset_status::QUEUED, asset_status::ERROR].contains(&status),
                "asset {id} has status {status}"
            );
            assert!(
                served.body.is_empty(),
                "asset {id} with status {status} serves {} bytes",
                served.body.len()
            );
            None
        };
        ObservedAsset {
            status,
            version: asset["version"].as_i64().expect("asset version"),
            served: source,
        }
    }
}

fn create_partner(data_dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_thumbd"))
        .args(["partner", "create", "--data-dir"])
        .arg(data_dir)
        .args(["--partner-id", &PARTNER_ID.to_string()])
        .args(["--admin-secret", ADMIN_SECRET, "--secret", USER_SECRET])
        .env("THUMBD_LOG", "warn")
        .output()
        .expect("thumbd binary runs");
    assert!(
        output.status.success(),
        "partner create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Creates an image entry with content and a READY asset made by addFromImage, and
/// records what they serve.
async fn commit_content(api: &Api, sources: &[Source]) -> Committed {
    let entry = api
        .call_ok(
            "media",
            "add",
            json!({ "entry": { "objectType": "KalturaMediaEntry", "mediaType": 2, "name": "committed" } }),
        )
        .await;
    let entry_id = text(&entry["id"]).to_string();
    let entry_image = std::fs::read(common::fixture("pillow_hopper_orientation_3.jpg")).unwrap();
    let token = api.full_token(&entry_image).await;
    let resource = json!({ "objectType": "KalturaUploadedFileTokenResource", "token": token });
    let entry = api
        .call_ok(
            "media",
            "addContent",
            json!({ "entryId": entry_id, "resource": resource }),
        )
        .await;
    assert_eq!(entry["status"], "2", "entry is READY: {entry}");
    let thumbnail = api.get(&entry_thumbnail_path(&entry_id)).await;
    assert_eq!(thumbnail.status, 200, "entry thumbnail");
    image::load_from_memory(&thumbnail.body).expect("entry thumbnail decodes");

    let reply = api
        .multipart_request(
            "thumbAsset",
            "addFromImage",
            json!({ "entryId": entry_id }),
            &sources[SMALL].bytes,
        )
        .send()
        .await
        .expect("addFromImage reaches the server");
    assert!(!is_exception(&reply), "addFromImage failed: {reply}");
    assert_eq!(reply["status"], asset_status::READY, "{reply}");
    let asset_id = text(&reply["id"]).to_string();
    let served = api.serve_asset(&asset_id).await;
    assert!(
        served.body == sources[SMALL].bytes,
        "committed asset serves its file"
    );
    assert_eq!(
        (reply["width"].as_i64(), reply["height"].as_i64()),
        (
            Some(i64::from(sources[SMALL].width)),
            Some(i64::from(sources[SMALL].height))
        )
    );
    let asset = api
        .call_ok("thumbAsset", "get", json!({ "thumbAssetId": asset_id }))
        .await;
    let entry = api
        .call_ok("media", "get", json!({ "entryId": entry_id }))
        .await;

    Committed {
        entry_id,
        entry: without_urls(entry),
        entry_thumbnail: thumbnail.body,
        asset_id,
        asset: without_urls(asset),
    }
}

fn entry_thumbnail_path(entry_id: &str) -> String {
    format!("/p/{PARTNER_ID}/thumbnail/entry_id/{entry_id}/width/64")
}

/// Generates a 4000x3000 JPEG of several MiB: a test pattern with per-pixel noise.
fn large_jpeg(dir: &Path, name: &str, pattern: &str) -> Source {
    let path = dir.join(name);
    let input = format!("{pattern}=s=4000x3000:d=1,noise=alls=30:allf=t");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &input,
        "-frames:v",
        "1",
        "-q:v",
        "3",
        path.to_str().unwrap(),
    ]);
    let source = read_source(&path);
    assert_eq!((source.width, source.height), (4000, 3000), "{name}");
    assert!(
        source.bytes.len() > 4 << 20,
        "{name} has only {} bytes",
        source.bytes.len()
    );
    source
}

/// Reads an image and checks that it decodes.
fn read_source(path: &Path) -> Source {
    let bytes = std::fs::read(path).expect("source image reads");
    let image = image::load_from_memory(&bytes).expect("source image decodes");
    Source {
        width: image.width(),
        height: image.height(),
        bytes,
    }
}

// --- The server process --------------------------------------------------------------

/// A `thumbd serve` process on a fixed data dir. Dropping it kills the process, and
/// during a panic prints the log of every run.
struct Server {
    data_dir: PathBuf,
    port: u16,
    base_url: String,
    child: Option<Child>,
    /// Standard error of each run, in order.
    logs: Vec<Arc<Mutex<String>>>,
}

impl Server {
    fn new(data_dir: &Path) -> Self {
        let port = free_port();
        Self {
            data_dir: data_dir.to_path_buf(),
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            child: None,
            logs: Vec::new(),
        }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it responds to `/healthz`. When the port has
    /// been taken meanwhile, another free port is tried.
    async fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        for _ in 0..5 {
            let log = Arc::new(Mutex::new(String::new()));
            self.logs.push(log.clone());
            let mut child = Command::new(env!("CARGO_BIN_EXE_thumbd"))
                .arg("serve")
                .arg("--data-dir")
                .arg(&self.data_dir)
                .args(["--listen", &self.address(), "--no-demo", "--backend", "cpu"])
                .env("THUMBD_LOG", "info")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("thumbd serve starts");
            let stderr = child.stderr.take().expect("stderr is piped");
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                    log.push_str(&line);
                    log.push('\n');
                }
            });
            self.child = Some(child);

            if self.wait_until_ready().await {
                return;
            }
            self.child = None;
            assert!(
                self.last_log().contains("cannot listen"),
                "thumbd serve exited at start-up"
            );
            self.port = free_port();
            self.base_url = format!("http://127.0.0.1:{}", self.port);
        }
        panic!("thumbd serve found no free port");
    }

    /// Waits until `/healthz` responds and the log contains the `listening` line.
    /// Returns false when the process exits first.
    async fn wait_until_ready(&mut self) -> bool {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let url = format!("{}/healthz", self.base_url);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let child = self.child.as_mut().expect("server process");
            if child.try_wait().expect("server process status").is_some() {
                // Let the log reader catch up with the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return false;
            }
            let healthy = match client.get(&url).send().await {
                Ok(response) => response.status() == 200,
                Err(_) => false,
            };
            if healthy && self.last_log().contains(" listening ") {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "thumbd serve did not answer {url} within {START_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Kills the server with SIGKILL and waits for it to exit.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().expect("kill thumbd serve");
        child.wait().expect("thumbd serve exits");
    }

    /// Kills the server, checking first that it did not exit on its own.
    fn stop(&mut self) {
        let child = self.child.as_mut().expect("the server is running");
        let exited = child.try_wait().expect("server process status");
        assert!(exited.is_none(), "thumbd serve exited: {exited:?}");
        self.kill();
    }

    fn last_log(&self) -> String {
        let log = self.logs.last().expect("the server has run");
        log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the number of leftover files that the last start-up deleted from its log.
    fn removed_at_start(&self) -> usize {
        let log = self.last_log();
        let Some(line) = log
            .lines()
            .find(|line| line.contains("removed files left by an interrupted write"))
        else {
            return 0;
        };
        line.split_whitespace()
            .find_map(|field| field.strip_prefix("removed="))
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("no removed=N count in {line:?}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for (run, log) in self.logs.iter().enumerate() {
                let log = log.lock().unwrap_or_else(PoisonError::into_inner);
                eprintln!("--- thumbd serve, run {run} ---\n{log}");
            }
        }
    }
}

/// Returns a loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().unwrap().port()
}

// --- API calls -----------------------------------------------------------------------

/// API v3 calls as the partner's admin, in JSON (`format=1`).
struct Api {
    client: reqwest::Client,
    base_url: String,
    ks: String,
}

/// An upload token's status and committed size.
struct TokenState {
    status: i64,
    uploaded: u64,
}

/// A response, read whole.
struct Reply {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// A request built before the server is killed, so that it can run in its own task.
struct ApiRequest {
    request: reqwest::RequestBuilder,
}

impl ApiRequest {
    /// Sends the request and parses the JSON reply. Returns an error when the
    /// connection fails, as it does when the server is killed.
    async fn send(self) -> Result<Value, reqwest::Error> {
        let response = self.request.send().await?;
        let body = response.bytes().await?;
        Ok(serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!(
                "reply is not JSON ({error}): {}",
                String::from_utf8_lossy(&body)
            )
        }))
    }
}

impl Api {
    fn new(base_url: String) -> Self {
        // A new connection for each request: pooled connections die with the server.
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(CALL_TIMEOUT)
            .build()
            .expect("HTTP client");
        Self {
            client,
            base_url,
            ks: String::new(),
        }
    }

    async fn start_session(&self) -> String {
        let params =
            json!({ "secret": ADMIN_SECRET, "partnerId": PARTNER_ID, "type": 2, "format": 1 });
        let reply = self
            .client
            .post(self.url("session", "start"))
            .json_body(&params)
            .send()
            .await
            .expect("session.start reaches the server");
        let value: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        value
            .as_str()
            .unwrap_or_else(|| panic!("session.start failed: {value}"))
            .to_string()
    }

    fn url(&self, service: &str, action: &str) -> String {
        format!("{}/api_v3/service/{service}/action/{action}", self.base_url)
    }

    fn with_session(&self, mut params: Value) -> Value {
        params["ks"] = json!(self.ks);
        params["format"] = json!(1);
        params
    }

    fn json_request(&self, service: &str, action: &str, params: Value) -> ApiRequest {
        let request = self
            .client
            .post(self.url(service, action))
            .json_body(&self.with_session(params));
        ApiRequest { request }
    }

    fn multipart_request(
        &self,
        service: &str,
        action: &str,
        params: Value,
        file: &[u8],
    ) -> ApiRequest {
        let body = multipart_body(&self.with_session(params), file);
        let request = self
            .client
            .post(self.url(service, action))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        ApiRequest { request }
    }

    /// Calls an action and returns its result, panicking on an API error.
    async fn call_ok(&self, service: &str, action: &str, params: Value) -> Value {
        let reply = self
            .json_request(service, action, params)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{service}.{action} failed: {error}"));
        assert!(!is_exception(&reply), "{service}.{action} failed: {reply}");
        reply
    }

    async fn get(&self, path: &str) -> Reply {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path} failed: {error}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await.expect("body reads").to_vec();
        Reply {
            status,
            content_type,
            body,
        }
    }

    async fn serve_asset(&self, id: &str) -> Reply {
        self.get(&format!(
            "/api_v3/service/thumbAsset/action/serve?thumbAssetId={id}"
        ))
        .await
    }

    async fn add_token(&self) -> String {
        let token = self
            .call_ok("uploadToken", "add", json!({ "uploadToken": {} }))
            .await;
        text(&token["id"]).to_string()
    }

    async fn token(&self, token: &str) -> TokenState {
        let reply = self
            .call_ok("uploadToken", "get", json!({ "uploadTokenId": token }))
            .await;
        token_state(&reply)
    }

    async fn upload(
        &self,
        token: &str,
        chunk: &[u8],
        resume: bool,
        resume_at: i64,
        final_chunk: bool,
    ) -> TokenState {
        let params = upload_params(token, resume, resume_at, final_chunk);
        let reply = self
            .multipart_request("uploadToken", "upload", params, chunk)
            .send()
            .await
            .expect("upload reaches the server");
        assert!(!is_exception(&reply), "upload to {token} failed: {reply}");
        token_state(&reply)
    }

    /// Returns a token whose file is the whole of `bytes`.
    async fn full_token(&self, bytes: &[u8]) -> String {
        let token = self.add_token().await;
        let state = self.upload(&token, bytes, false, -1, true).await;
        assert_eq!(state.status, upload_status::FULL_UPLOAD, "token {token}");
        token
    }

    async fn add_queued_asset(&self, entry_id: &str) -> String {
        let asset = self
            .call_ok(
                "thumbAsset",
                "add",
                json!({ "entryId": entry_id, "thumbAsset": { "objectType": "KalturaThumbAsset" } }),
            )
            .await;
        assert_eq!(asset["status"], asset_status::QUEUED, "{asset}");
        text(&asset["id"]).to_string()
    }

    async fn set_content(&self, asset: &str, token: &str) -> Value {
        self.call_ok("thumbAsset", "setContent", set_content_params(asset, token))
            .await
    }

    async fn list_assets(&self, entry_id: &str) -> Vec<Value> {
        let params = json!({
            "filter": { "objectType": "KalturaThumbAssetFilter", "entryIdEqual": entry_id },
            "pager": { "pageSize": 500 },
        });
        let reply = self.call_ok("thumbAsset", "list", params).await;
        let objects = reply["objects"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            reply["totalCount"].as_u64(),
            Some(objects.len() as u64),
            "one page lists every asset"
        );
        objects
    }
}

/// JSON request bodies for reqwest, which is built without its `json` feature here.
trait JsonBody {
    fn json_body(self, value: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, value: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(value.to_string())
    }
}

fn upload_params(token: &str, resume: bool, resume_at: i64, final_chunk: bool) -> Value {
    json!({
        "uploadTokenId": token,
        "resume": resume,
        "resumeAt": resume_at,
        "finalChunk": final_chunk,
    })
}

fn set_content_params(asset: &str, token: &str) -> Value {
    json!({
        "id": asset,
        "contentResource": { "objectType": "KalturaUploadedFileTokenResource", "token": token },
    })
}

/// Builds a multipart body as the official clients send it: the parameters as a
/// `json` part, then the file as `fileData`.
fn multipart_body(params: &Value, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{params}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fileData\"; \
         filename=\"image.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn token_state(token: &Value) -> TokenState {
    TokenState {
        status: token["status"].as_i64().expect("token status"),
        uploaded: token["uploadedFileSize"]
            .as_f64()
            .expect("token uploadedFileSize") as u64,
    }
}

fn is_exception(value: &Value) -> bool {
    value["objectType"] == "KalturaAPIException"
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
}

/// Drops the fields that hold URLs, which name the server's port.
fn without_urls(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, field| !field.as_str().is_some_and(|s| s.starts_with("http://")));
    }
    value
}

// --- Data dir files ------------------------------------------------------------------

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for item in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = item.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

/// Files under `blobs/`, as keys relative to it.
fn blob_files(data_dir: &Path) -> BTreeSet<String> {
    let root = data_dir.join("blobs");
    files_under(&root)
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).expect("file under blobs/");
            relative.to_string_lossy().into_owned()
        })
        .collect()
}

fn staged_uploads(data_dir: &Path) -> Vec<PathBuf> {
    files_under(&data_dir.join("uploads"))
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "staged"))
        .collect()
}
