//! Acquiring a wgpu adapter and device the same way natively and in the browser.

/// A ready GPU: the adapter's description plus the device and queue made from it.
pub struct Gpu {
    pub adapter_info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

impl Gpu {
    /// Requests the default adapter (honouring `WGPU_BACKEND` natively) and a device with
    /// the adapter's own limits, so large models can use what the hardware offers.
    pub async fn new() -> Result<Self, String> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("no WebGPU adapter: {e}"))?;
        let adapter_info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("council"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("request_device failed: {e}"))?;
        Ok(Self { adapter_info, limits, device, queue })
    }

    /// One line naming the adapter, for logs and the UI's backend badge.
    pub fn describe(&self) -> String {
        let i = &self.adapter_info;
        format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
    }
}

/// Waits for a buffer mapping: natively by polling the device, in the browser by
/// yielding to the event loop, which is where WebGPU fires the map callback.
pub async fn read_buffer(gpu: &Gpu, buffer: &wgpu::Buffer) -> Result<Vec<u8>, String> {
    let slice = buffer.slice(..);
    let (tx, rx) = futures_channel::oneshot::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    #[cfg(not(target_arch = "wasm32"))]
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| format!("device poll failed: {e}"))?;
    #[cfg(target_arch = "wasm32")]
    let _ = gpu;
    rx.await
        .map_err(|_| "buffer mapping was cancelled".to_string())?
        .map_err(|e| format!("buffer mapping failed: {e}"))?;
    let bytes = slice
        .get_mapped_range()
        .map_err(|e| format!("mapped range: {e}"))?
        .to_vec();
    buffer.unmap();
    Ok(bytes)
}
