//! A sub-millisecond sleep for the load threads' event loops: a Linux `timerfd` on
//! `CLOCK_MONOTONIC` (the clock behind `std::time::Instant`), armed at an absolute time with
//! nanosecond precision and waited on through tokio's reactor. tokio's own timer rounds to
//! whole milliseconds, too coarse to release requests at their intended times.

#[cfg(target_os = "linux")]
pub(crate) use linux::Timer;
#[cfg(not(target_os = "linux"))]
pub(crate) use other::Timer;

#[cfg(not(target_os = "linux"))]
mod other {
    use std::time::Instant;

    /// No timerfd here: the lanes fall back to tokio's timer.
    pub(crate) struct Timer;

    impl Timer {
        pub fn new() -> std::io::Result<Timer> {
            Err(std::io::ErrorKind::Unsupported.into())
        }

        pub async fn sleep_until(&mut self, at: Instant) {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::{AsFd, AsRawFd, RawFd};
    use std::time::Instant;

    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    struct Fd(TimerFd);

    impl AsRawFd for Fd {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_fd().as_raw_fd()
        }
    }

    pub(crate) struct Timer {
        fd: AsyncFd<Fd>,
    }

    impl Timer {
        /// A timer registered with the current runtime (call it on the thread that waits on it).
        pub fn new() -> std::io::Result<Timer> {
            let fd = TimerFd::new(
                ClockId::CLOCK_MONOTONIC,
                TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
            )
            .map_err(std::io::Error::from)?;
            Ok(Timer {
                // SAFETY: the descriptor is the `TimerFd`'s own, which the `AsyncFd` owns
                // and neither closes nor replaces until it is dropped.
                fd: unsafe { AsyncFd::register_with_interest(Fd(fd), Interest::READABLE) }
                    .map_err(|e| e.into_parts().1)?,
            })
        }

        /// Resolves at `at` (at once if it has passed). Dropping the future leaves the timer
        /// armed; the next call re-arms it.
        pub async fn sleep_until(&mut self, at: Instant) {
            let now = Instant::now();
            if at <= now {
                return;
            }
            let Ok(mono) = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) else {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                return;
            };
            let when = mono + TimeSpec::from_duration(at - now);
            let armed = self.fd.get_ref().0.set(
                Expiration::OneShot(when),
                TimerSetTimeFlags::TFD_TIMER_ABSTIME,
            );
            if armed.is_err() {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                return;
            }
            loop {
                let Ok(mut guard) = self.fd.readable().await else {
                    return;
                };
                // A non-blocking read: the expiry count, or "not yet" (a readiness left over from
                // an earlier arming that was read already).
                match guard.get_inner().0.wait() {
                    // One-shot: not readable again until re-armed. Clearing the readiness
                    // here saves the next sleep a read that would only find "not yet".
                    Ok(()) => {
                        guard.clear_ready();
                        return;
                    }
                    Err(nix::errno::Errno::EAGAIN) => guard.clear_ready(),
                    Err(_) => return,
                }
                if Instant::now() >= at {
                    return;
                }
            }
        }
    }
}
