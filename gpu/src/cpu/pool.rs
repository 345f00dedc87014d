//! A small persistent thread pool for splitting one mat-mul's rows across cores (native only).
//!
//! A decode step runs ~200 mat-muls of well under a millisecond each, so starting threads per call
//! (or a channel round trip) costs more than it saves. Workers spin briefly on a generation
//! counter, then yield, then sleep on a condvar; the caller runs its own share and spins until
//! the others finish. With one thread everything runs inline and no thread is started.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};

type Job = *const (dyn Fn(usize) + Sync);

struct Shared {
    generation: AtomicU64,
    /// Written by the caller before `generation` is bumped; read by workers after they see it.
    job: UnsafeCell<Option<Job>>,
    pending: AtomicUsize,
    stop: AtomicBool,
    sleepers: AtomicUsize,
    sleep_lock: Mutex<()>,
    wake: Condvar,
}

// SAFETY: `job` is only written while no worker runs (pending == 0) and read after an atomic
// handshake on `generation`; the closure it points to is `Sync`.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

pub struct ThreadPool {
    n_threads: usize,
    #[cfg(not(target_arch = "wasm32"))]
    workers: Vec<std::thread::JoinHandle<()>>,
    shared: Arc<Shared>,
}

const SPINS_BEFORE_YIELD: u32 = 20_000;
#[cfg(not(target_arch = "wasm32"))]
const YIELDS_BEFORE_SLEEP: u32 = 2_000;

impl ThreadPool {
    /// A pool running jobs on `n_threads` threads, the caller's included (1 = inline).
    pub fn new(n_threads: usize) -> Self {
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            job: UnsafeCell::new(None),
            pending: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            sleep_lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        #[cfg(target_arch = "wasm32")]
        {
            let _ = n_threads;
            Self { n_threads: 1, shared }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let n_threads = n_threads.max(1);
            let workers = (1..n_threads)
                .map(|idx| {
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || worker(&shared, idx))
                })
                .collect();
            Self { n_threads, workers, shared }
        }
    }

    pub fn n_threads(&self) -> usize {
        self.n_threads
    }

    /// Runs `job(i)` once for every thread index `i` in `0..n_threads` and returns when all are done.
    pub fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        if self.n_threads == 1 {
            job(0);
            return;
        }
        let s = &*self.shared;
        // SAFETY: no worker is running (the previous `run` waited for pending == 0), so nobody
        // reads `job` now; the lifetime is erased only until this function returns, after every
        // worker has finished with it.
        unsafe {
            let job: &'static (dyn Fn(usize) + Sync) = std::mem::transmute(job);
            *s.job.get() = Some(job as Job);
        }
        s.pending.store(self.n_threads - 1, SeqCst);
        s.generation.fetch_add(1, SeqCst);
        if s.sleepers.load(SeqCst) > 0 {
            let _guard = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        job(0);
        let mut spins = 0u32;
        while s.pending.load(SeqCst) != 0 {
            spins += 1;
            if spins < SPINS_BEFORE_YIELD {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        // SAFETY: every worker is done with the job.
        unsafe { *s.job.get() = None };
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn worker(s: &Shared, idx: usize) {
    let mut seen = 0u64;
    loop {
        let mut spins = 0u32;
        loop {
            if s.stop.load(SeqCst) {
                return;
            }
            let generation = s.generation.load(SeqCst);
            if generation != seen {
                seen = generation;
                break;
            }
            spins += 1;
            if spins < SPINS_BEFORE_YIELD {
                std::hint::spin_loop();
            } else if spins < SPINS_BEFORE_YIELD + YIELDS_BEFORE_SLEEP {
                std::thread::yield_now();
            } else {
                let mut guard = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
                s.sleepers.fetch_add(1, SeqCst);
                while s.generation.load(SeqCst) == seen && !s.stop.load(SeqCst) {
                    guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
                s.sleepers.fetch_sub(1, SeqCst);
                spins = 0;
            }
        }
        // SAFETY: the caller stored the job before bumping `generation` and keeps it alive
        // until `pending` reaches zero.
        let job = unsafe { (*s.job.get()).expect("a job is published with each generation") };
        unsafe { (*job)(idx) };
        s.pending.fetch_sub(1, SeqCst);
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        {
            let _guard = self.shared.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.wake.notify_all();
        }
        #[cfg(not(target_arch = "wasm32"))]
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Thread `idx`'s share of `0..n` when split `parts` ways in multiples of `align`.
pub fn share(n: usize, parts: usize, idx: usize, align: usize) -> std::ops::Range<usize> {
    let units = n.div_ceil(align);
    let start = (units * idx / parts * align).min(n);
    let end = (units * (idx + 1) / parts * align).min(n);
    start..end
}
