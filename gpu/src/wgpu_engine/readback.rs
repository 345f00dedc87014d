//! Reading GPU results back without blocking the browser: natively the device is polled up
//! to the submission that filled the buffer (later submissions keep running); on wasm the
//! map callback arrives from the event loop, so the future simply awaits it.

/// Maps the first `size` bytes of `buffer` (MAP_READ) once `submission` has finished,
/// copies them out and unmaps.
pub(crate) async fn map_read(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    size: u64,
    submission: wgpu::SubmissionIndex,
) -> Result<Vec<u8>, String> {
    let slice = buffer.slice(..size);
    let (tx, rx) = futures_channel::oneshot::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    #[cfg(not(target_arch = "wasm32"))]
    device
        .poll(wgpu::PollType::Wait { submission_index: Some(submission), timeout: None })
        .map_err(|e| format!("device poll failed: {e}"))?;
    #[cfg(target_arch = "wasm32")]
    let _ = (device, submission);
    rx.await
        .map_err(|_| "buffer mapping was cancelled".to_string())?
        .map_err(|e| format!("buffer mapping failed: {e}"))?;
    let bytes = slice.get_mapped_range().map_err(|e| format!("mapped range: {e}"))?.to_vec();
    buffer.unmap();
    Ok(bytes)
}
