//! A consumer thread draining a library, as a monitor would.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use testkit::extended::{Extended, ExtendedEvent, TcpEventEx, UdpEventEx};
use testkit::library::{EventAbi, GOT_EVENT, Library};

/// Which call the consumer dequeues with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dequeue {
    /// `*_DequeueTimeout`, the original struct.
    Original,
    /// `*_DequeueEx`, the extended struct.
    Ex,
}

/// A thread that dequeues until stopped, counting events.
pub struct Consumer {
    stop: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
    handle: thread::JoinHandle<()>,
}

impl Consumer {
    /// Drains `lib` with its original struct.
    pub fn start<E: EventAbi>(lib: &Arc<Library<E>>) -> Self {
        let lib = Arc::clone(lib);
        Self::spawn(move || lib.dequeue_timeout(Duration::from_millis(50)).0 == GOT_EVENT)
    }

    /// Drains the library whose original ABI is `E` with `*_DequeueEx`.
    pub fn start_ex<E: EventAbi>() -> Self {
        if E::PREFIX.starts_with("tcp") {
            Self::start_extended::<E, TcpEventEx>()
        } else {
            Self::start_extended::<E, UdpEventEx>()
        }
    }

    fn start_extended<E: EventAbi, X: ExtendedEvent>() -> Self {
        let extended = Extended::<X>::load::<E>();
        Self::spawn(move || extended.dequeue(Duration::from_millis(50)).0 == GOT_EVENT)
    }

    /// `dequeue` returns whether it got an event.
    fn spawn(dequeue: impl Fn() -> bool + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, received) = (Arc::clone(&stop), Arc::clone(&received));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if dequeue() {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        Self { stop, received, handle }
    }

    /// Lets the consumer finish what is queued (until a quiet 300 ms).
    pub fn finish(self) -> u64 {
        let mut last = (self.received.load(Ordering::Relaxed), Instant::now());
        while last.1.elapsed() < Duration::from_millis(300) {
            thread::sleep(Duration::from_millis(20));
            let now = self.received.load(Ordering::Relaxed);
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.received.load(Ordering::Relaxed)
    }
}
