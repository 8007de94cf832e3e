//! `thumbd serve`: open the data dir, seed the demo, and run the HTTP service.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::DataDirArg;
use crate::auth::{SessionType, create_ks_v1};
use crate::config::{BackendArgs, ServiceArgs};
use crate::http::{self, ServerOptions};
use crate::metrics::Metrics;
use crate::service::{DataDir, Services};
use crate::store::MetadataStore;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "THUMBD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    #[command(flatten)]
    data: DataDirArg,

    /// Do not create the demo partner and entries on an empty data dir.
    #[arg(long, env = "THUMBD_NO_DEMO")]
    no_demo: bool,

    /// Connections served at once.
    #[arg(long, env = "THUMBD_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,

    /// Seconds a client has to send its request headers.
    #[arg(long, env = "THUMBD_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    header_timeout_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "THUMBD_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    shutdown_grace_secs: u64,

    #[command(flatten)]
    service: ServiceArgs,

    #[command(flatten)]
    backend: BackendArgs,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let data = DataDir::open(&args.data.data_dir)
        .with_context(|| format!("cannot open data dir {}", args.data.data_dir.display()))?;
    let removed = data
        .remove_orphans()
        .context("cannot clean up the blob directory")?;
    if removed > 0 {
        tracing::warn!(removed, "removed files left by an interrupted write");
    }
    if !args.no_demo && crate::demo::seed_if_empty(&data, &args.service.limits.source_limits())? {
        tracing::info!(
            partner_id = crate::demo::DEMO_PARTNER_ID,
            "created demo partner and entries"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(args.service.concurrent_renders() + 16)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, data))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs, data: DataDir) -> anyhow::Result<()> {
    let listener = http::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let metrics = Arc::new(Metrics::new());
    let backend = args
        .backend
        .open(crate::render::BackendChoice::Auto, metrics.clone())
        .context("cannot open the rendering backend")?;
    let services = Arc::new(Services::new(
        &data,
        backend.clone(),
        metrics,
        args.service.clone(),
    ));
    tracing::info!(
        %address,
        backend = backend.name(),
        data_dir = %args.data.data_dir.display(),
        max_concurrent_renders = args.service.concurrent_renders(),
        "listening"
    );
    log_examples(&data, &format!("http://{address}"));
    let resumed = services.clone();
    tokio::spawn(async move {
        crate::service::thumb_generation::resume_interrupted(&resumed).await;
    });

    let options = ServerOptions {
        max_connections: args.max_connections,
        header_timeout: Duration::from_secs(args.header_timeout_secs),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
    };
    http::serve(listener, services, options, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Logs the guide's example URLs for the demo entries, with a fresh KS.
fn log_examples(data: &DataDir, base: &str) {
    let Ok(Some(partner)) = data.store.partner(crate::demo::DEMO_PARTNER_ID) else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let ks = create_ks_v1(
        partner.id,
        &partner.admin_secret,
        SessionType::User,
        "demo",
        "",
        now,
        86_400,
    );
    for url in crate::demo::example_urls(base, &ks) {
        tracing::info!("example: {url}");
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
