//! Running the API: the router on a socket, the audit anchorer beside it, and a
//! graceful shutdown that lets in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::router::router;
use crate::state::AppState;

/// Most audit batches anchored while shutting down.
pub const SHUTDOWN_ANCHOR_BATCHES_MAX: usize = 16;

/// Serves until `shutdown` resolves, then drains requests for at most
/// `shutdown_secs_max` and anchors what is pending once more.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::jobs::resume(&state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let anchorer = tokio::spawn(crate::audit::run_anchorer(
        state.audit.clone(),
        state.contracts.clone(),
        state.server.clone(),
        Duration::from_secs(state.config.anchor_interval_secs),
        state.config.anchor_batch_min,
        stop_rx,
    ));
    let drain = Duration::from_secs(state.config.shutdown_secs_max);
    let app = router(state.clone());
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = done_tx.send(());
    });
    let served = tokio::select! {
        r = server => r,
        _ = async { let _ = done_rx.await; tokio::time::sleep(drain).await } => {
            tracing::warn!("in-flight requests did not finish in time");
            Ok(())
        }
    };
    let _ = stop_tx.send(true);
    let _ = anchorer.await;
    // Anchor what the last requests appended, so a clean stop leaves nothing pending.
    for _ in 0..SHUTDOWN_ANCHOR_BATCHES_MAX {
        match state.audit.anchor_pending(&state.contracts, &state.server).await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "could not anchor the pending audit records on shutdown");
                break;
            }
        }
    }
    served
}
